"""``python -m omnijepa`` is the ``omnijepa`` command."""

from omnijepa.cli.main import main

if __name__ == "__main__":  # spawned worker processes import this module too
    raise SystemExit(main())
