"""omnijepa: the JEPA family in one library."""

__version__ = "0.1.0"
