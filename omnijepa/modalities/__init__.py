"""Tokenizers: a raw sample becomes tokens with coordinates (``nn.tokens`` has the contract).

Importing this package registers every tokenizer in ``TOKENIZERS``.
"""

from omnijepa.modalities import audio, eeg, image, point_cloud, series, tabular  # noqa: F401
from omnijepa.nn.tokens import TOKENIZERS

__all__ = ["TOKENIZERS"]
