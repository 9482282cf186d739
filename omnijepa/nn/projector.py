"""The MLP projector (expander) of joint-embedding methods: dim -> hidden -> hidden -> out.

LeJEPA regularises its output; VICReg and C-JEPA put their variance-covariance terms on an
expander like it, so the terms can be met by the projector's scale instead of by rescaling
the encoder itself.
"""

from __future__ import annotations

import torch
from torch import nn


class Projector(nn.Module):
    """MLP with BatchNorm (LeJEPA's projector): dim -> hidden -> hidden -> out."""

    def __init__(self, dim: int, hidden: int, out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.GELU(),
            nn.Linear(hidden, out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
