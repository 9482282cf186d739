"""``python -m omnijepa`` is the ``omnijepa`` command."""

from omnijepa.cli.main import main

raise SystemExit(main())
