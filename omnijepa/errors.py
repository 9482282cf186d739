"""User-facing errors: the CLI prints their message as one line and exits non-zero."""


class OmniJepaError(Exception):
    """Base class for problems caused by the user's input, not by a bug."""


class ConfigError(OmniJepaError, ValueError):
    """An unknown or invalid configuration key or value."""


class DataError(OmniJepaError, ValueError):
    """Missing, empty, malformed or unreadable data."""


class CheckpointError(OmniJepaError):
    """A checkpoint that is missing, corrupt, or from a different model."""


class ModelMismatchError(CheckpointError):
    """A readable checkpoint whose tensors do not fit the model built to load it."""


class RunDirError(OmniJepaError):
    """A run directory that cannot be used as asked (e.g. it already holds a finished run)."""
