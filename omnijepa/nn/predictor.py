"""Narrow predictor: from context embeddings, predict embeddings at target coordinates."""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.nn.positional import (
    CachedPositions,
    batch_positions,
    build_positional,
    gather_tokens,
)
from omnijepa.nn.tokens import Axis
from omnijepa.nn.transformer import TransformerStack, key_padding_mask


class MaskTokenPredictor(nn.Module):
    """I-JEPA predictor: project context to a narrow width, append one learned mask token
    (plus the target's positional encoding) per target position, run blocks, and read the
    predictions at the mask tokens back out at encoder width.

    Each of the M target blocks is predicted in its own sequence (batch B*M), as in I-JEPA.
    ``axes`` are the tokenizer's coordinate axes (the positional encoding is built from them).
    Padded context or target tokens (``ctx_padding`` (B, Nc), ``tgt_padding`` (B, M, Nt),
    True = pad) are masked out as attention keys, so they change no real prediction.
    """

    def __init__(
        self,
        enc_dim: int,
        dim: int,
        depth: int,
        heads: int,
        mlp_ratio: float = 4.0,
        pos: str = "sincos",
        axes: tuple[Axis, ...] = (),
    ) -> None:
        super().__init__()
        self.in_proj = nn.Linear(enc_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        nn.init.trunc_normal_(self.mask_token, std=0.02)
        self.pos = build_positional(pos, dim, axes)
        self.positions = CachedPositions(self.pos)
        self.stack = TransformerStack(dim, depth, heads, mlp_ratio)
        self.out_proj = nn.Linear(dim, enc_dim)
        nn.init.trunc_normal_(self.in_proj.weight, std=0.02)
        nn.init.trunc_normal_(self.out_proj.weight, std=0.02)
        nn.init.zeros_(self.in_proj.bias)
        nn.init.zeros_(self.out_proj.bias)

    def forward(
        self,
        z_ctx: torch.Tensor,
        coords: torch.Tensor,
        context: torch.Tensor,
        targets: torch.Tensor,
        ctx_padding: torch.Tensor | None = None,
        tgt_padding: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """z_ctx (B, Nc, E), coords (N, A) or (B, N, A), context (B, Nc), targets (B, M, Nt)
        -> (B, M, Nt, E)."""
        ctx, queries = self.sequences(z_ctx, coords, context, targets)
        b, m, nt = targets.shape
        mask = key_padding_mask(self.sequence_padding(ctx_padding, tgt_padding, targets))
        return self.out_proj(self.blocks(ctx, queries, mask)).view(b, m, nt, -1)

    def blocks(
        self, ctx: torch.Tensor, queries: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """The blocks over ``[context, queries]``: (B*M, Nt, dim) normed query outputs. Here
        context and queries are updated together, layer by layer."""
        nt = queries.shape[1]
        return self.stack(torch.cat([ctx, queries], dim=1), mask, n_out=nt)[:, -nt:]

    @staticmethod
    def sequence_padding(
        ctx_padding: torch.Tensor | None, tgt_padding: torch.Tensor | None, targets: torch.Tensor
    ) -> torch.Tensor | None:
        """(B*M, Nc + Nt) padding of the per-block ``[context, queries]`` sequences, or None."""
        if ctx_padding is None and tgt_padding is None:
            return None
        b, m, nt = targets.shape
        if tgt_padding is None:
            tgt_padding = torch.zeros(b, m, nt, dtype=torch.bool, device=targets.device)
        if ctx_padding is None:
            ctx_padding = torch.zeros(b, 0, dtype=torch.bool, device=targets.device)
        ctx = ctx_padding.repeat_interleave(m, dim=0)
        return torch.cat([ctx, tgt_padding.reshape(b * m, nt)], dim=1)

    def sequences(
        self,
        z_ctx: torch.Tensor,
        coords: torch.Tensor,
        context: torch.Tensor,
        targets: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Projected context + positions (B*M, Nc, dim) and mask-token queries (B*M, Nt, dim),
        one sequence per target block."""
        b, m, nt = targets.shape
        ctx, tgt = self.embed(z_ctx, coords, context, targets)
        ctx = ctx.repeat_interleave(m, dim=0)  # (B*M, Nc, dim)
        return ctx, tgt.view(b, m, nt, -1).reshape(b * m, nt, -1)

    def embed(
        self,
        z_ctx: torch.Tensor,
        coords: torch.Tensor,
        context: torch.Tensor,
        targets: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Projected context + positions (B, Nc, dim) and the mask-token queries of every
        target, block after block (B, M*Nt, dim)."""
        b, m, nt = targets.shape
        pos = batch_positions(self.positions, coords, b, z_ctx)
        ctx = self.in_proj(z_ctx) + gather_tokens(pos, context)
        return ctx, self.mask_token + gather_tokens(pos, targets.reshape(b, m * nt))
