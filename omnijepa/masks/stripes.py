"""Time-frequency stripes (A-JEPA's "time-frequency aware" masks) and the curriculum that
moves from multi-block masks to stripes as training progresses.

**Stripes.** Each target is a stripe: a contiguous span of the *time* axis (the grid's first
axis) across every other axis, or a contiguous band of the *frequency* axis (the last axis)
across every other axis. The paper gives 3 targets of scale 0.05-0.075 and leaves the geometry
open; here one orientation is drawn per batch (so every target of a batch has the same number
of tokens and masks batch without padding), a stripe's width is ``round(scale x extent)``
whole rows or columns (at least one, and one fewer than the axis), and each sample draws its
stripes' positions. One slice of the stripe axis is kept out of every target, so the context
is never empty. The context is every token outside the targets, cut to the batch minimum.

**Curriculum.** Each batch uses stripes with probability
``f(s) = min(1, sqrt(s (1 - c0^2) + c0^2))`` (Platanios et al.'s square-root competence with
``s`` the training progress step / steps, ``c0 = 0.01``) and I-JEPA multi-block masks
otherwise: early batches are mostly blocks, late ones mostly stripes. Without a progress (mask
pictures, evaluation) ``s = 0.5``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from omnijepa.errors import ConfigError
from omnijepa.masks.config_checks import check_fraction_pair, check_token_grid
from omnijepa.masks.mask_batch import MaskBatch, MaskRequest, SamplerBase, equal_length_rows
from omnijepa.masks.multiblock import MultiBlockConfig, MultiBlockMaskSampler

__all__ = ["CurriculumConfig", "CurriculumMaskSampler", "StripesConfig", "StripesMaskSampler"]


@dataclass
class StripesConfig:
    """``num_targets`` stripes of ``target_scale`` (share of the stripe axis); a batch is
    time stripes with probability ``time_share``, else frequency bands."""

    num_targets: int = 3
    target_scale: tuple[float, float] = (0.05, 0.075)
    time_share: float = 0.5

    def __post_init__(self) -> None:
        self.target_scale = check_fraction_pair("StripesConfig.target_scale", self.target_scale)
        m = self.num_targets
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ConfigError(f"StripesConfig.num_targets must be an int >= 1, got {m!r}")
        if not 0.0 <= float(self.time_share) <= 1.0:
            raise ConfigError(f"StripesConfig.time_share must be in [0, 1], got {self.time_share}")


def _uniform(generator: torch.Generator) -> float:
    return float(torch.rand((), generator=generator, dtype=torch.float64))


class StripesMaskSampler(SamplerBase):
    """Time or frequency stripes on ``grid`` (first axis = time, last axis = frequency)."""

    def __init__(self, grid: tuple[int, ...], cfg: StripesConfig | None = None) -> None:
        self.grid = check_token_grid(grid, "stripe masks")
        self.cfg = StripesConfig() if cfg is None else cfg
        if not isinstance(self.cfg, StripesConfig):
            raise ConfigError(f"cfg must be a StripesConfig, got {type(self.cfg).__name__}")
        # axes a stripe can run along: time (0) and frequency (last), if longer than 1
        self.axes = [a for a in dict.fromkeys((0, len(self.grid) - 1)) if self.grid[a] > 1]
        if not self.axes:  # e.g. (1, n, 1): stripes along the one axis that has room
            self.axes = [int(np.argmax(self.grid))]

    def _orientation(self, generator: torch.Generator) -> int:
        u = _uniform(generator)
        if len(self.axes) == 1:
            return self.axes[0]
        return self.axes[0] if u < self.cfg.time_share else self.axes[1]

    def _width(self, extent: int, generator: torch.Generator) -> int:
        lo, hi = self.cfg.target_scale
        scale = lo + (hi - lo) * _uniform(generator)
        return min(max(1, math.floor(scale * extent + 0.5)), extent - 1)

    def draw(self, request: MaskRequest) -> MaskBatch:
        """Stripes for ``batch_size`` samples (``coords`` unused, ``progress`` unused)."""
        b, generator, m = request.batch_size, request.generator, self.cfg.num_targets
        axis = self._orientation(generator)
        extent = self.grid[axis]
        w = self._width(extent, generator)
        # the kept slice r of each sample: a stripe of width w must fit beside it
        fits = np.array([r >= w or r <= extent - w - 1 for r in range(extent)])
        slots = np.flatnonzero(fits)
        r = slots[(torch.rand(b, generator=generator).numpy() * len(slots)).astype(int)]
        # start positions avoiding r: p + w <= r or p >= r + 1, drawn uniformly over the valid
        starts = np.arange(extent - w + 1)
        valid = (starts[None, :] + w <= r[:, None]) | (starts[None, :] >= r[:, None] + 1)
        keys = torch.rand((b, m, len(starts)), generator=generator, dtype=torch.float64).numpy()
        keys[~np.broadcast_to(valid[:, None, :], keys.shape)] = 2.0
        start = keys.argmin(axis=2)  # (b, m): uniform among the valid starts
        index = np.arange(math.prod(self.grid)).reshape(self.grid)
        along = np.moveaxis(index, axis, 0).reshape(extent, -1)  # (extent, rest) cell ids
        span = start[:, :, None] + np.arange(w)  # (b, m, w) positions along the axis
        targets = np.sort(along[span].reshape(b, m, -1), axis=2)
        union = np.zeros((b, math.prod(self.grid)), dtype=bool)
        union[np.arange(b)[:, None], targets.reshape(b, -1)] = True
        context = equal_length_rows(~union, generator)
        return MaskBatch(context=torch.from_numpy(context), targets=torch.from_numpy(targets))


@dataclass
class CurriculumConfig:
    """A-JEPA's curriculum: multi-block (``block``) early, stripes (``stripes``) late."""

    c0: float = 0.01
    block: MultiBlockConfig = field(default_factory=MultiBlockConfig)
    stripes: StripesConfig = field(default_factory=StripesConfig)

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.c0) <= 1.0:
            raise ConfigError(f"CurriculumConfig.c0 must be in [0, 1], got {self.c0}")


def stripe_probability(progress: float, c0: float) -> float:
    """Square-root competence: the chance that a batch at ``progress`` uses stripes."""
    return min(1.0, math.sqrt(progress * (1.0 - c0 * c0) + c0 * c0))


class CurriculumMaskSampler(SamplerBase):
    """Per batch: stripes with probability :func:`stripe_probability`, else multi-block."""

    def __init__(self, grid: tuple[int, ...], cfg: CurriculumConfig | None = None) -> None:
        self.cfg = CurriculumConfig() if cfg is None else cfg
        if not isinstance(self.cfg, CurriculumConfig):
            raise ConfigError(f"cfg must be a CurriculumConfig, got {type(self.cfg).__name__}")
        self.blocks = MultiBlockMaskSampler(grid, self.cfg.block)
        self.stripes = StripesMaskSampler(grid, self.cfg.stripes)
        self.grid = self.stripes.grid

    def draw(self, request: MaskRequest) -> MaskBatch:
        progress = 0.5 if request.progress is None else float(request.progress)
        chosen = self.stripes if _uniform(request.generator) < stripe_probability(
            progress, self.cfg.c0
        ) else self.blocks  # fmt: skip
        return chosen.draw(request)
