"""Pre-norm transformer over 1-D token sequences with a positional scheme chosen by name.

Built as ``SequenceTransformer(dim=, depth=, heads=, causal=, position=, **scheme_options)``
(the ``SEQUENCE_BACKBONES`` interface): maps ``x`` (B, N, D) and integer ``positions``
(None, (N,) or (B, N)) to (B, N, D), ending with a LayerNorm. Absolute schemes add their
embedding once at the input; relative/rotary/windowed schemes act in every layer.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from omnijepa.nn.positional import init_weights, rescale_residual_projections
from omnijepa.nn.sequence_attention import (
    PositionalSelfAttention,
    PositionScheme,
    as_batch_positions,
    build_scheme,
    scheme_class,
)
from omnijepa.nn.transformer import MLP, CheckpointableBlock


class SequenceBlock(CheckpointableBlock):
    """x + drop(attn(norm(x), positions)), then x + drop(mlp(norm(x)))."""

    def __init__(
        self,
        dim: int,
        heads: int,
        scheme: str,
        causal: bool,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        **options: Any,
    ) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = PositionalSelfAttention(
            dim, heads, scheme=scheme, causal=causal, dropout=dropout, **options
        )
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MLP(dim, int(dim * mlp_ratio))
        self.drop = nn.Dropout(dropout)

    def block_forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        x = x + self.drop(self.attn(self.norm1(x), positions))
        return x + self.drop(self.mlp(self.norm2(x)))


class SequenceTransformer(nn.Module):
    """``depth`` pre-norm blocks with positional scheme ``position`` and a final LayerNorm.

    Uses I-JEPA's initialisation (truncated-normal linears, residual projections divided by
    ``sqrt(2 * layer)``). ``causal=True`` lets token i see only tokens with ``pos_j <= pos_i``.
    """

    def __init__(
        self,
        dim: int,
        depth: int,
        heads: int,
        causal: bool = True,
        position: str = "rope",
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        **scheme_options: Any,
    ) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.dim = dim
        self.depth = depth
        self.heads = heads
        self.causal = causal
        self.position = position
        self.blocks = nn.ModuleList(
            [
                SequenceBlock(dim, heads, position, causal, mlp_ratio, dropout, **scheme_options)
                for _ in range(depth)
            ]
        )
        self.input_position: PositionScheme | None = None
        if scheme_class(position).absolute:
            self.input_position = build_scheme(position, dim, heads, causal, **scheme_options)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.apply(init_weights)
        rescale_residual_projections(self.blocks)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Encode ``x`` (B, N, D); ``positions`` default to ``arange(N)``."""
        b, n, d = x.shape
        if d != self.dim:
            raise ValueError(f"expected width {self.dim}, got input of shape {tuple(x.shape)}")
        pos = as_batch_positions(positions, n, x.device)
        if pos.shape[0] not in (1, b):
            raise ValueError(f"positions batch {pos.shape[0]} does not match input batch {b}")
        if self.input_position is not None:
            x = x + self.input_position.input_embedding(pos).to(x.dtype)
        for block in self.blocks:
            x = block(x, pos)
        return self.norm(x)
