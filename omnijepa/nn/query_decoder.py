"""Learned queries that read a memory of tokens: ACT's action-chunk decoder and ACT-JEPA's
predictor of future latent states. Each of ``depth`` blocks is self-attention among the
queries, cross-attention to the memory (its padding masked) and an MLP (``nn.crosser``'s
block); a final norm and a linear head give one output vector per query."""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.nn.crosser import CrossBlock
from omnijepa.nn.positional import init_weights


class QueryDecoder(nn.Module):
    """(B, M, memory_dim) memory -> (B, queries, out_dim)."""

    def __init__(self, queries: int, memory_dim: int, dim: int, depth: int, heads: int,
                 out_dim: int) -> None:  # fmt: skip
        super().__init__()
        self.queries = nn.Parameter(torch.randn(queries, dim) * 0.02)
        self.blocks = nn.ModuleList([CrossBlock(dim, memory_dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, out_dim)
        self.apply(init_weights)

    def forward(self, memory: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        x = self.queries.expand(memory.shape[0], -1, -1)
        for block in self.blocks:
            x = block(x, memory, padding)
        return self.head(self.norm(x))


__all__ = ["QueryDecoder"]
