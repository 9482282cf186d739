"""Temporal masks on a (time, rows, cols) grid: whole time steps hidden, predicted from the
others (UI-JEPA's temporal masking), and their mix with V-JEPA's tube masks.

``TemporalMaskSampler`` hides ``round(share * T)`` time steps (at least 1, at most T - 1),
drawn once per batch from ``share``; which steps are hidden is drawn per sample, as a
contiguous run or (``contiguous=False``) anywhere. The target is every token of the hidden
steps (one target block), the context every token of the others. ``FramesAndTubesSampler``
draws, per batch, temporal masks with probability ``temporal_share`` and tube masks otherwise.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from omnijepa.errors import ConfigError
from omnijepa.masks.mask_batch import MaskBatch, MaskRequest, SamplerBase
from omnijepa.masks.tubes import TubesConfig, TubesMaskSampler

__all__ = ["FramesAndTubesConfig", "FramesAndTubesSampler", "TemporalConfig",
           "TemporalMaskSampler"]  # fmt: skip


@dataclass
class TemporalConfig:
    """Share of the time steps hidden (drawn per batch in ``share``) and whether they run
    contiguously."""

    share: tuple[float, float] = (0.25, 0.5)
    contiguous: bool = False

    def __post_init__(self) -> None:
        lo, hi = (float(v) for v in self.share)
        if not 0.0 < lo <= hi < 1.0:
            raise ConfigError(
                f"temporal mask share must satisfy 0 < lo <= hi < 1, got {self.share}"
            )


class TemporalMaskSampler(SamplerBase):
    """Whole time steps of a ``(T, ...)`` grid as the target (needs T >= 2)."""

    def __init__(self, grid: tuple[int, ...], cfg: TemporalConfig | None = None) -> None:
        self.cfg = TemporalConfig() if cfg is None else cfg
        self.grid = tuple(int(g) for g in grid)
        if len(self.grid) < 1 or self.grid[0] < 2:
            raise ConfigError(f"temporal masks need >= 2 time steps on the grid, got {self.grid}")
        self.steps = self.grid[0]
        self.plane = int(np.prod(self.grid[1:], dtype=np.int64)) if len(self.grid) > 1 else 1

    def draw(self, request: MaskRequest) -> MaskBatch:
        b, g, t = request.batch_size, request.generator, self.steps
        lo, hi = self.cfg.share
        u = float(torch.rand((), generator=g, dtype=torch.float64))
        hidden = min(max(int(round((lo + (hi - lo) * u) * t)), 1), t - 1)
        if self.cfg.contiguous:
            start = torch.randint(0, t - hidden + 1, (b, 1), generator=g).numpy()
            steps = start + np.arange(hidden)
        else:
            keys = torch.rand((b, t), generator=g, dtype=torch.float64).numpy()
            steps = np.argsort(keys, axis=1)[:, :hidden]
        mask = np.zeros((b, t), dtype=bool)
        mask[np.arange(b)[:, None], steps] = True
        cells = np.arange(t * self.plane).reshape(t, self.plane)
        target = np.stack([cells[m].reshape(-1) for m in mask])
        context = np.stack([cells[~m].reshape(-1) for m in mask])
        return MaskBatch(
            context=torch.from_numpy(context), targets=torch.from_numpy(target)[:, None]
        )


@dataclass
class FramesAndTubesConfig:
    """Tube masks (V-JEPA) and temporal masks, the latter in ``temporal_share`` of batches."""

    tubes: TubesConfig = field(default_factory=TubesConfig)
    temporal: TemporalConfig = field(default_factory=TemporalConfig)
    temporal_share: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.temporal_share) <= 1.0:
            raise ConfigError(f"mask.temporal_share must be in [0, 1], got {self.temporal_share}")


class FramesAndTubesSampler(SamplerBase):
    """Per batch: temporal masks (probability ``temporal_share``) or short/long tubes. On a
    grid with one time step the temporal masks are off."""

    def __init__(self, grid: tuple[int, ...], cfg: FramesAndTubesConfig | None = None) -> None:
        self.cfg = FramesAndTubesConfig() if cfg is None else cfg
        self.tubes = TubesMaskSampler(grid, self.cfg.tubes)
        self.grid = self.tubes.grid
        share = float(self.cfg.temporal_share)
        if share > 0 and grid[0] == 1:
            warnings.warn(
                f"mask.temporal_share={share:g} does nothing: the token grid {tuple(grid)} has "
                "one time step (model.tubelet spans every frame), so only tube masks are drawn",
                stacklevel=2,
            )
        self.temporal = (
            TemporalMaskSampler(grid, self.cfg.temporal) if share > 0 and grid[0] > 1 else None
        )

    def draw(self, request: MaskRequest) -> MaskBatch:
        u = float(torch.rand((), generator=request.generator, dtype=torch.float64))
        if self.temporal is not None and u < self.cfg.temporal_share:
            return self.temporal.draw(request)
        return self.tubes.draw(request)
