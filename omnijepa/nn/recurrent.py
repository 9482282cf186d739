"""LSTM sequence backbone: (B, N, D) -> (B, N, D), reading tokens in the given order."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from omnijepa.errors import ConfigError


class LSTMBackbone(nn.Module):
    """A ``depth``-layer LSTM of width ``dim`` with a final LayerNorm.

    ``causal=False`` makes it bidirectional; the two directions' outputs (2 * dim) are
    projected back to ``dim`` by a Linear. ``heads`` and ``positions`` are ignored.
    """

    def __init__(
        self,
        dim: int,
        depth: int,
        heads: int = 4,
        causal: bool = True,
        dropout: float = 0.0,
        **unknown: Any,
    ) -> None:
        super().__init__()
        if unknown:
            raise ConfigError(f"unknown lstm option(s) {sorted(unknown)}; valid: dropout")
        if dim < 1 or depth < 1:
            raise ConfigError(f"lstm dim and depth must be >= 1, got {dim}, {depth}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"lstm dropout must be in [0, 1), got {dropout}")
        del heads
        self.dim = dim
        self.causal = causal
        # nn.LSTM applies dropout between layers only; with one layer it would only warn.
        self.lstm = nn.LSTM(
            dim,
            dim,
            depth,
            batch_first=True,
            dropout=dropout if depth > 1 else 0.0,
            bidirectional=not causal,
        )
        self.proj: nn.Module = nn.Identity() if causal else nn.Linear(2 * dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Encode ``x`` (B, N, D); ``positions`` is ignored."""
        del positions
        out, _ = self.lstm(x)
        return self.norm(self.proj(out))
