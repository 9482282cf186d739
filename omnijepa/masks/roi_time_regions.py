"""Spatio-temporal regions on a (region x time-patch) grid: an observation block, a cross-region
target inside its time span, and cross-time targets at the two ends of the recording.

The grid's first axis holds regions (brain ROIs, sensors) in an arbitrary order, so region
sets are random subsets, never contiguous runs; the other axes, flattened, are time. Per batch
the sizes are drawn once (so masks batch without padding); per sample the positions:

1. **observation**: a random ``observe_regions`` share of the regions x a contiguous run of
   ``observe_time`` of the time patches;
2. **cross-region target** (alpha): a random ``cross_regions`` share of all regions x a
   contiguous ``cross_time`` run inside the observation's span; its regions leave the
   observation at all times;
3. **cross-time targets**, once per side: up to ``ceil(side x patches)`` of the first (left)
   or last (right) time patches, chosen at random (possibly none), x a ``side_regions``
   share of the regions that were observed or in alpha (gamma) and the same share of the
   others (beta); those time patches leave the observation.

The target is the union of these blocks (one target set per sample), the context the
observation minus every target; both are cut to the batch's shortest row (a random subset),
as I-JEPA's collator truncates. Each draw keeps at least one context and one target token
(on grids too small for the blocks, single cells stand in).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from omnijepa.errors import ConfigError
from omnijepa.masks.config_checks import check_fraction_pair, check_token_grid
from omnijepa.masks.mask_batch import MaskBatch, MaskRequest, SamplerBase, equal_length_rows

__all__ = ["RoiTimeConfig", "RoiTimeMaskSampler"]


@dataclass
class RoiTimeConfig:
    """Shares of regions / time patches of each block (ranges drawn uniformly per batch)."""

    observe_regions: tuple[float, float] = (0.84, 1.0)
    observe_time: tuple[float, float] = (0.8, 0.9)
    cross_regions: tuple[float, float] = (0.45, 0.6)
    cross_time: tuple[float, float] = (0.2, 0.5)
    side: float = 0.3  # share of time patches at each end a cross-time target may take
    side_regions: tuple[float, float] = (0.15, 0.3)

    def __post_init__(self) -> None:
        for name in ("observe_regions", "observe_time", "cross_regions", "cross_time",
                     "side_regions"):  # fmt: skip
            setattr(self, name, check_fraction_pair(f"RoiTimeConfig.{name}", getattr(self, name)))
        if not 0.0 <= float(self.side) < 0.5:
            raise ConfigError(f"RoiTimeConfig.side must be in [0, 0.5), got {self.side}")


def _share(pair: tuple[float, float], n: int, gen: torch.Generator, least: int = 1) -> int:
    u = float(torch.rand((), generator=gen, dtype=torch.float64))
    return min(n, max(least, round((pair[0] + (pair[1] - pair[0]) * u) * n)))


def _subset(n: int, k: int, gen: torch.Generator) -> np.ndarray:
    return torch.randperm(n, generator=gen)[:k].numpy()


def _pick(cells: np.ndarray, gen: torch.Generator) -> int:
    free = np.flatnonzero(cells)
    return int(free[int(torch.randint(0, len(free), (), generator=gen))])


def _keep_both(context: np.ndarray, target: np.ndarray, gen: torch.Generator) -> None:
    """Make ``context`` and ``target`` (flat views) disjoint and both non-empty, in place."""
    if target.all():  # no cell left for the context: free one
        target[_pick(target, gen)] = False
    if not target.any():
        target[_pick(np.ones_like(target), gen)] = True
    context &= ~target
    if not context.any():  # keep one observed token outside every target
        context[_pick(~target, gen)] = True


class RoiTimeMaskSampler(SamplerBase):
    """Observation / cross-region / cross-time regions on a ``(regions, patches...)`` grid."""

    def __init__(self, grid: tuple[int, ...], cfg: RoiTimeConfig | None = None) -> None:
        self.grid = check_token_grid(grid, "region x time masks")
        self.cfg = RoiTimeConfig() if cfg is None else cfg
        if not isinstance(self.cfg, RoiTimeConfig):
            raise ConfigError(f"cfg must be a RoiTimeConfig, got {type(self.cfg).__name__}")

    def draw(self, request: MaskRequest) -> MaskBatch:
        b, gen, c = request.batch_size, request.generator, self.cfg
        r, t = self.grid[0], math.prod(self.grid[1:])
        n_obs, t_obs = _share(c.observe_regions, r, gen), _share(c.observe_time, t, gen)
        n_a = min(_share(c.cross_regions, r, gen), max(r - 1, 1))
        t_a = min(_share(c.cross_time, t, gen), t_obs)
        k_side = math.ceil(c.side * t)
        sides = [int(torch.randint(0, k_side + 1, (), generator=gen)) for _ in range(2)]
        share = _share(c.side_regions, r, gen, least=0) / r
        context = np.zeros((b, r, t), dtype=bool)
        target = np.zeros((b, r, t), dtype=bool)
        for i in range(b):
            start = int(torch.randint(0, t - t_obs + 1, (), generator=gen))
            context[i, _subset(r, n_obs, gen), start : start + t_obs] = True
            alpha = _subset(r, n_a, gen)
            a0 = start + int(torch.randint(0, t_obs - t_a + 1, (), generator=gen))
            target[i, alpha, a0 : a0 + t_a] = True
            seen = context[i].any(1)
            seen[alpha] = True
            context[i, alpha] = False
            for side, count in zip(("left", "right"), sides):
                pool = np.arange(k_side) if side == "left" else np.arange(t - k_side, t)
                cols = pool[_subset(len(pool), count, gen)]
                for group in (np.flatnonzero(seen), np.flatnonzero(~seen)):
                    rows = group[_subset(len(group), round(share * len(group)), gen)]
                    target[i, rows[:, None], cols[None, :]] = True
                context[i, :, cols] = False
            _keep_both(context[i].reshape(-1), target[i].reshape(-1), gen)
        ctx = equal_length_rows(context.reshape(b, -1), gen)
        tgt = equal_length_rows(target.reshape(b, -1), gen)
        return MaskBatch(context=torch.from_numpy(ctx), targets=torch.from_numpy(tgt)[:, None])
