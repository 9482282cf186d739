"""3D-JEPA's context-aware decoder: the encoder's context is re-fed at every decoder layer.

In the I-JEPA predictor the context tokens are updated layer by layer alongside the mask
tokens. Here each layer attends over ``[context, queries]`` where ``context`` is always the
(projected) *encoder* output, and only the query slots are carried to the next layer, so every
layer sees the context afresh ("feeds the context information to the decoder continuously",
Hu et al. 2024). Same call signature as :class:`omnijepa.nn.predictor.MaskTokenPredictor`.
"""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.nn.positional import (
    batch_positions,
    build_positional,
    gather_tokens,
    init_weights,
    rescale_residual_projections,
)
from omnijepa.nn.transformer import Block


class ContextAwareDecoder(nn.Module):
    """Mask-token queries that attend to the re-injected encoder context at every layer."""

    def __init__(
        self,
        enc_dim: int,
        dim: int,
        depth: int,
        heads: int,
        mlp_ratio: float = 4.0,
        pos: str = "sincos",
        axis_sizes: tuple[int, ...] = (),
    ) -> None:
        super().__init__()
        self.in_proj = nn.Linear(enc_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = build_positional(pos, dim, axis_sizes)
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.out_proj = nn.Linear(dim, enc_dim)
        self.apply(init_weights)
        rescale_residual_projections(self.blocks)
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(
        self,
        z_ctx: torch.Tensor,
        coords: torch.Tensor,
        context: torch.Tensor,
        targets: torch.Tensor,
    ) -> torch.Tensor:
        """z_ctx (B, Nc, E), coords (N, A) or (B, N, A), context (B, Nc), targets (B, M, Nt)
        -> (B, M, Nt, E)."""
        b, m, nt = targets.shape
        pos = batch_positions(self.pos, coords, b, z_ctx)
        ctx = self.in_proj(z_ctx) + gather_tokens(pos, context)
        queries = self.mask_token + gather_tokens(pos, targets.reshape(b, m * nt))
        ctx = ctx.repeat_interleave(m, dim=0)  # (B*M, Nc, dim): one sequence per target block
        q = queries.view(b, m, nt, -1).reshape(b * m, nt, -1)
        nc = ctx.shape[1]
        for block in self.blocks:
            q = block(torch.cat([ctx, q], dim=1))[:, nc:]
        return self.out_proj(self.norm(q)).view(b, m, nt, -1)
