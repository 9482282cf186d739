"""Spatial filters for S-JEPA's heads: how the C real channels become V virtual ones.

- ``free`` (the paper): a learned linear map C -> V, C * V weights learned from the few
  fine-tuning trials, starting anywhere.
- ``spots``: V learned spots on the scalp; virtual channel v is the average of the present
  channels weighted by a gaussian of their distance to the spot's centre. Four numbers a
  virtual channel (centre and width) whatever the montage, and every virtual channel starts
  as a smoothed real channel: the kind of signal the pre-trained local encoder has seen.

Both take ``(B, C, 3 + F)``: each channel's position, then F numbers (its samples for the
pre-local head, its flattened features for the others; NaN = absent), and return
``(B, V, F)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from omnijepa.modalities.eeg import POSITION_COLUMNS
from omnijepa.registry import Registry

SPATIAL_FILTERS: Registry[type[nn.Module]] = Registry("spatial filter (heads.filter)")


def _values(x: torch.Tensor) -> torch.Tensor:
    """The numbers after each channel's position, absent ones (NaN) as zeros."""
    return torch.nan_to_num(x[..., POSITION_COLUMNS:], nan=0.0)


@SPATIAL_FILTERS.register("free")
class FreeFilter(nn.Module):
    """A learned linear mix of the channels (absent channels read as zeros)."""

    def __init__(self, channels: int, virtual: int) -> None:
        super().__init__()
        self.mix = nn.Linear(channels, virtual, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bct,vc->bvt", _values(x), self.mix.weight)


def spread_centres(virtual: int, elevation: float = 0.5) -> torch.Tensor:
    """``virtual`` points round the head at one height (unit radius; x right, y front, z up,
    MNE's head frame): the spots' starting centres, evenly spaced in azimuth from the right
    ear, so two of four sit over the hemispheres and two front and back."""
    az = torch.arange(virtual, dtype=torch.float32) * (2 * math.pi / virtual)
    ring = math.cos(elevation)
    return torch.stack(
        [ring * az.cos(), ring * az.sin(), torch.full_like(az, math.sin(elevation))], dim=1
    )


@SPATIAL_FILTERS.register("spots")
class SpotFilter(nn.Module):
    """V gaussian spots with learned centres and widths (head radii)."""

    def __init__(self, channels: int, virtual: int, width: float = 0.4) -> None:
        super().__init__()
        self.centres = nn.Parameter(spread_centres(virtual))
        self.log_width = nn.Parameter(torch.full((virtual,), math.log(width)))

    def weights(self, positions: torch.Tensor) -> torch.Tensor:
        """(B, C, 3) positions, NaN where absent -> (B, V, C) weights summing to 1 over the
        present channels."""
        present = ~torch.isnan(positions).any(-1)  # (B, C)
        pos = torch.nan_to_num(positions, nan=0.0)
        d2 = (pos.unsqueeze(1) - self.centres.view(1, -1, 1, 3)).square().sum(-1)  # (B, V, C)
        logits = -d2 / (2 * self.log_width.exp().square().view(1, -1, 1))
        logits = logits.masked_fill(~present.unsqueeze(1), float("-inf"))
        return torch.softmax(logits, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        positions = x[..., :POSITION_COLUMNS]
        return torch.einsum("bct,bvc->bvt", _values(x), self.weights(positions))


__all__ = ["SPATIAL_FILTERS", "FreeFilter", "SpotFilter", "spread_centres"]
