"""Tokenizers: a raw sample becomes tokens with coordinates (``nn.tokens`` has the contract).

Importing this package registers every tokenizer in ``TOKENIZERS``.
"""

from omnijepa.modalities import (  # noqa: F401
    audio,
    eeg,
    image,
    point_cloud,
    roi_series,
    series,
    tabular,
    video,
)
from omnijepa.nn.tokens import TOKENIZERS

__all__ = ["TOKENIZERS"]
