"""Predictors by name, so a recipe can switch the I-JEPA predictor for 3D-JEPA's decoder.

Every entry is built as ``cls(enc_dim, dim, depth, heads, mlp_ratio, pos, axis_sizes)`` and
called as ``predictor(z_ctx, coords, context, targets) -> (B, M, Nt, enc_dim)``.
"""

from __future__ import annotations

from torch import nn

from omnijepa.nn.context_decoder import ContextAwareDecoder
from omnijepa.nn.predictor import MaskTokenPredictor
from omnijepa.registry import Registry

PREDICTORS: Registry[type[nn.Module]] = Registry("predictor")
PREDICTORS.add("ijepa", MaskTokenPredictor)
PREDICTORS.add("context_aware", ContextAwareDecoder)
