"""Command-line interface: ``omnijepa list | train | eval | repro | masks | bench``."""
