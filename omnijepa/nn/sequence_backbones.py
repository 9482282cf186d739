"""Sequence backbones by name: transformers with a positional scheme, a selective SSM, an LSTM.

Every backbone maps ``x`` (B, N, D) to (B, N, D) and takes optional integer ``positions``
((N,) or (B, N), the tokens' indices in the full sequence; default ``arange(N)``), so the same
module can encode a full sequence or a JEPA context that keeps only some tokens. Transformers
use ``positions`` for their positional scheme (absolute tables, rotary angles, relative
distances, windows, causal order); recurrent backbones read tokens in the given order and
ignore the values. ``causal=True`` lets token i see only tokens at positions <= i; otherwise
the backbone is bidirectional. Each ends with a LayerNorm.

Builders are registered in ``SEQUENCE_BACKBONES`` as
``builder(dim=, depth=, heads=, causal=, **options) -> nn.Module``; unknown options raise
:class:`omnijepa.errors.ConfigError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from omnijepa.nn.recurrent import LSTMBackbone
from omnijepa.nn.selective_ssm import MambaBackbone
from omnijepa.nn.sequence_transformer import SequenceTransformer
from omnijepa.registry import Registry

SEQUENCE_BACKBONES: Registry[Callable[..., nn.Module]] = Registry("sequence backbone")
SEQUENCE_BACKBONES.add("transformer", SequenceTransformer)
SEQUENCE_BACKBONES.add("mamba", MambaBackbone)
SEQUENCE_BACKBONES.add("lstm", LSTMBackbone)


def build_sequence_backbone(
    name: str, dim: int, depth: int, heads: int = 4, causal: bool = True, **options: Any
) -> nn.Module:
    """Build the backbone ``name`` (see ``SEQUENCE_BACKBONES.names()``)."""
    return SEQUENCE_BACKBONES.get(name)(dim=dim, depth=depth, heads=heads, causal=causal, **options)


def sequence_backbone_names() -> list[str]:
    """All registered backbone names."""
    return SEQUENCE_BACKBONES.names()
