"""Predictors by name: ``mask_tokens`` (context and queries updated together, I-JEPA style),
``context_aware`` (the encoder context re-fed at every layer, 3D-JEPA style) or
``isolated_queries`` (each target from the context and its own position only, all blocks in
one sequence).

Every entry is built as ``cls(enc_dim, dim, depth, heads, mlp_ratio, pos, axes)`` and called
as ``predictor(z_ctx, coords, context, targets, ctx_padding=None, tgt_padding=None)``
-> ``(B, M, Nt, enc_dim)``.
"""

from __future__ import annotations

from torch import nn

from omnijepa.nn.context_decoder import ContextAwareDecoder
from omnijepa.nn.isolated_predictor import IsolatedQueryPredictor
from omnijepa.nn.predictor import MaskTokenPredictor
from omnijepa.registry import Registry

PREDICTORS: Registry[type[nn.Module]] = Registry("predictor")
PREDICTORS.add("mask_tokens", MaskTokenPredictor)
PREDICTORS.add("context_aware", ContextAwareDecoder)
PREDICTORS.add("isolated_queries", IsolatedQueryPredictor)
