"""S-JEPA's spatial masks: hide every channel within a radius of a random electrode, at all times.

Tokens sit on a ``(units, windows)`` grid, ``units`` channels (the product of all but the last
grid axis) times ``windows`` time steps, unit-major. A unit's position is the spatial part of
its first token's coordinates (all but the last coordinate, which is time; a 1-D coordinate is
taken as space). For each sample a random unit is the centre, and the target is every window
of the ``k`` units nearest to it. ``k`` is the number of units within ``radius`` of the first
sample's centre (at least 1, at most ``max_share`` of the units and one fewer than all), and
every sample hides its own ``k`` nearest: masks batch without padding, and where a montage is
as dense as around that centre the hidden units are exactly those within the radius. The
context is every other token. Needs token coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from omnijepa.errors import ConfigError
from omnijepa.masks.config_checks import check_token_grid
from omnijepa.masks.mask_batch import MaskBatch, MaskRequest, SamplerBase

__all__ = ["SpatialRadiusConfig", "SpatialRadiusMaskSampler"]


@dataclass
class SpatialRadiusConfig:
    """``radius`` in coordinate units (EEG positions: about one head radius = 1; S-JEPA's
    radii, 40-80 mm on a ~95 mm head, are 0.4-0.8; on 19 10-20 electrodes 0.8 hides 4-5);
    ``max_share`` caps the hidden channels."""

    radius: float = 0.8
    max_share: float = 0.5

    def __post_init__(self) -> None:
        if not self.radius > 0 or not 0.0 < self.max_share < 1.0:
            raise ConfigError(
                f"spatial radius masks need radius > 0 and 0 < max_share < 1, got "
                f"{self.radius}, {self.max_share}"
            )


class SpatialRadiusMaskSampler(SamplerBase):
    """One spatial target per sample: the units nearest a random centre, all their windows."""

    needs_coords = True

    def __init__(self, grid: tuple[int, ...], cfg: SpatialRadiusConfig | None = None) -> None:
        self.grid = check_token_grid(grid, "spatial radius masks")
        self.cfg = SpatialRadiusConfig() if cfg is None else cfg
        if not isinstance(self.cfg, SpatialRadiusConfig):
            raise ConfigError(f"cfg must be a SpatialRadiusConfig, got {type(self.cfg).__name__}")
        self.windows = self.grid[-1] if len(self.grid) > 1 else 1
        self.units = math.prod(self.grid) // self.windows
        if self.units < 2:  # one channel: treat each window as a unit
            self.units, self.windows = math.prod(self.grid), 1

    def _unit_positions(self, coords: torch.Tensor, b: int) -> np.ndarray:
        c = coords if coords.dim() == 3 else coords.unsqueeze(0).expand(b, -1, -1)
        space = c[..., :-1] if c.shape[-1] > 1 else c
        return space[:, :: self.windows].detach().cpu().double().numpy()  # (B, units, S)

    def draw(self, request: MaskRequest) -> MaskBatch:
        if request.coords is None:
            raise ConfigError("spatial radius masks need token coordinates")
        b, gen, cfg = request.batch_size, request.generator, self.cfg
        pos = self._unit_positions(request.coords, b)
        centre = (torch.rand(b, generator=gen).numpy() * self.units).astype(np.int64)
        dist = np.linalg.norm(pos - pos[np.arange(b), centre][:, None], axis=-1)  # (B, units)
        jitter = torch.rand(b, self.units, generator=gen, dtype=torch.float64).numpy() * 1e-9
        order = np.argsort(dist + jitter, axis=1)  # the centre first, then the nearest units
        within = int((dist[0] <= cfg.radius).sum())
        cap = max(1, min(self.units - 1, math.floor(cfg.max_share * self.units)))
        k = min(max(1, within), cap)
        units = np.sort(order[:, :k], axis=1)
        steps = np.arange(self.windows)
        targets = (units[:, :, None] * self.windows + steps).reshape(b, 1, -1)
        hidden = np.zeros((b, self.units * self.windows), dtype=bool)
        hidden[np.arange(b)[:, None], targets[:, 0]] = True
        context = np.nonzero(~hidden)[1].reshape(b, -1)
        return MaskBatch(context=torch.from_numpy(context), targets=torch.from_numpy(targets))
