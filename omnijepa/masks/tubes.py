"""V-JEPA's tube masks on a (time, rows, cols) grid: spatial blocks that run through every
frame, short-range or long-range, one kind per batch.

V-JEPA (Bardes et al. 2024) hides the union of several spatial blocks repeated over the whole
clip, so a target cannot be copied from the same place in a neighbouring frame, and mixes two
kinds: *short-range* (8 blocks of 15 % of the frame each) and *long-range* (2 blocks of 70 %);
the context is everything outside the union. Each kind is this library's multi-block sampler
with full tubes (``leading_extent = 1``) and a whole-clip context block (``context_scale = 1``),
so blocks are placed, equalised and never empty as there; a batch is long-range with
probability ``long_share``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from omnijepa.errors import ConfigError
from omnijepa.masks.mask_batch import MaskBatch, MaskRequest, SamplerBase
from omnijepa.masks.multiblock import MultiBlockConfig, MultiBlockMaskSampler

__all__ = ["TubesConfig", "TubesMaskSampler"]


def _tubes(blocks: int, scale: float) -> MultiBlockConfig:
    return MultiBlockConfig(
        num_targets=blocks, target_scale=(scale, scale), target_aspect=(0.75, 1.5),
        context_scale=(1.0, 1.0), leading_extent=(1.0, 1.0),
    )  # fmt: skip


@dataclass
class TubesConfig:
    """``short`` and ``long`` multi-block settings (V-JEPA's 8 x 0.15 and 2 x 0.7) and the
    share of batches that are long-range."""

    short: MultiBlockConfig = field(default_factory=lambda: _tubes(8, 0.15))
    long: MultiBlockConfig = field(default_factory=lambda: _tubes(2, 0.7))
    long_share: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.long_share) <= 1.0:
            raise ConfigError(f"TubesConfig.long_share must be in [0, 1], got {self.long_share}")


class TubesMaskSampler(SamplerBase):
    """Short- or long-range tubes per batch (the first grid axis is time)."""

    def __init__(self, grid: tuple[int, ...], cfg: TubesConfig | None = None) -> None:
        self.cfg = TubesConfig() if cfg is None else cfg
        if not isinstance(self.cfg, TubesConfig):
            raise ConfigError(f"cfg must be a TubesConfig, got {type(self.cfg).__name__}")
        self.short = MultiBlockMaskSampler(grid, self.cfg.short)
        self.long = MultiBlockMaskSampler(grid, self.cfg.long)
        self.grid = self.short.grid

    def draw(self, request: MaskRequest) -> MaskBatch:
        u = float(torch.rand((), generator=request.generator, dtype=torch.float64))
        return (self.long if u < self.cfg.long_share else self.short).draw(request)
