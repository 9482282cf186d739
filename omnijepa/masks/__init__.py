"""Mask samplers (which tokens are context, which are targets) and the collator that uses them.

``MASK_SAMPLERS`` maps a name to ``(config class, sampler class)``; the sampler is built as
``sampler_cls(grid, config_cls(**options))``. ``get`` on an unknown name raises
:class:`omnijepa.errors.ConfigError` (a ``ValueError``) that lists the valid names.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from omnijepa.errors import ConfigError
from omnijepa.masks.collator import MaskCollator, batch_generator
from omnijepa.masks.feature_subsets import FeatureSubsetConfig, FeatureSubsetMaskSampler
from omnijepa.masks.frames import (
    FramesAndTubesConfig,
    FramesAndTubesSampler,
    TemporalConfig,
    TemporalMaskSampler,
)
from omnijepa.masks.mask_batch import MaskBatch, MaskSampler, check_coords_available
from omnijepa.masks.multiblock import MultiBlockConfig, MultiBlockMaskSampler
from omnijepa.masks.point_blocks import (
    PointBlocksConfig,
    PointBlocksMaskSampler,
    RandomTokensConfig,
    RandomTokensMaskSampler,
    SequenceRunsConfig,
    SequenceRunsMaskSampler,
)
from omnijepa.masks.roi_time_regions import RoiTimeConfig, RoiTimeMaskSampler
from omnijepa.masks.spatial_radius import SpatialRadiusConfig, SpatialRadiusMaskSampler
from omnijepa.masks.stripes import (
    CurriculumConfig,
    CurriculumMaskSampler,
    StripesConfig,
    StripesMaskSampler,
)
from omnijepa.masks.tubes import TubesConfig, TubesMaskSampler
from omnijepa.registry import Registry

__all__ = [
    "MASK_SAMPLERS",
    "CurriculumConfig",
    "CurriculumMaskSampler",
    "RoiTimeConfig",
    "TubesConfig",
    "TubesMaskSampler",
    "RoiTimeMaskSampler",
    "SpatialRadiusConfig",
    "SpatialRadiusMaskSampler",
    "StripesConfig",
    "StripesMaskSampler",
    "FeatureSubsetConfig",
    "FramesAndTubesConfig",
    "FramesAndTubesSampler",
    "TemporalConfig",
    "TemporalMaskSampler",
    "FeatureSubsetMaskSampler",
    "MaskBatch",
    "MaskCollator",
    "MaskSampler",
    "MultiBlockConfig",
    "MultiBlockMaskSampler",
    "PointBlocksConfig",
    "PointBlocksMaskSampler",
    "RandomTokensConfig",
    "RandomTokensMaskSampler",
    "SequenceRunsConfig",
    "SequenceRunsMaskSampler",
    "batch_generator",
    "check_coords_available",
    "build_mask_sampler",
    "get_mask_sampler",
]

MASK_SAMPLERS: Registry[tuple[type, type]] = Registry("mask sampler")
MASK_SAMPLERS.add("multiblock", (MultiBlockConfig, MultiBlockMaskSampler))
MASK_SAMPLERS.add("feature_subsets", (FeatureSubsetConfig, FeatureSubsetMaskSampler))
MASK_SAMPLERS.add("sequence_runs", (SequenceRunsConfig, SequenceRunsMaskSampler))
MASK_SAMPLERS.add("point_blocks", (PointBlocksConfig, PointBlocksMaskSampler))
MASK_SAMPLERS.add("random_tokens", (RandomTokensConfig, RandomTokensMaskSampler))
MASK_SAMPLERS.add("stripes", (StripesConfig, StripesMaskSampler))
MASK_SAMPLERS.add("tf_curriculum", (CurriculumConfig, CurriculumMaskSampler))
MASK_SAMPLERS.add("spatial_radius", (SpatialRadiusConfig, SpatialRadiusMaskSampler))
MASK_SAMPLERS.add("roi_time", (RoiTimeConfig, RoiTimeMaskSampler))
MASK_SAMPLERS.add("tubes", (TubesConfig, TubesMaskSampler))
MASK_SAMPLERS.add("frames_and_tubes", (FramesAndTubesConfig, FramesAndTubesSampler))


def get_mask_sampler(name: str) -> tuple[type, type]:
    """``(config class, sampler class)`` registered as ``name``; ConfigError if unknown."""
    return MASK_SAMPLERS.get(name)


def build_mask_sampler(name: str, grid: tuple[int, ...], **options: Any) -> MaskSampler:
    """Build the sampler ``name`` on ``grid`` from config ``options`` (validated)."""
    cfg_cls, sampler_cls = get_mask_sampler(name)
    if dataclasses.is_dataclass(cfg_cls):
        valid = {f.name for f in dataclasses.fields(cfg_cls)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise ConfigError(
                f"unknown option(s) {unknown} for mask sampler {name!r}; "
                f"valid: {', '.join(sorted(valid))}"
            )
    return sampler_cls(grid, cfg_cls(**options))
