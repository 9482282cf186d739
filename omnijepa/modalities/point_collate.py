"""The point-cloud batch step: stacked clouds become ordered, packed patch tokens.

:class:`PointPatchPrepare` is the ``prepare`` step of the shared mask collator
(``masks.collator.MaskCollator``): with the batch's seeded generator it applies per-sample
augmentation (scale, rotation about an axis; drawn per sample, unlike the official Point-JEPA
code's per-batch draws), FPS + kNN grouping and patch ordering (the Point-JEPA sequencer,
Morton, random, none), and returns the packed input ``(B, G, k+1, 3)`` (centre first, then the
centre-subtracted neighbours) with the centres as the token coordinates the masks may use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from omnijepa.errors import DataError
from omnijepa.modalities.point_cloud import (
    PATCH_ORDERS,
    augment_points,
    group_patches,
    pack_patches,
)
from omnijepa.modalities.point_turn_axis import AXIS_NAMES, detect_turn_axis


@dataclass
class PointAugmentConfig:
    """Per-sample augmentation of training clouds (Point-JEPA: scale 0.8-1.2, a turn about
    the up axis). ``rotate_axis``: 0/1/2 or x/y/z, ``so3`` (any rotation), null for no turns,
    or ``auto``: read from the training clouds (``point_turn_axis``; y for Point-JEPA's)."""

    enabled: bool = True
    scale: tuple[float, float] = (0.8, 1.2)
    rotate_axis: int | str | None = "auto"
    jitter: float = 0.0

    def __post_init__(self) -> None:
        lo, hi = self.scale
        if not 0 < lo <= hi:
            raise ValueError(f"augment.scale is a range 0 < min <= max, got {self.scale}")
        if isinstance(self.rotate_axis, str) and self.rotate_axis.lower() in AXIS_NAMES:
            self.rotate_axis = AXIS_NAMES.index(self.rotate_axis.lower())
        if self.rotate_axis not in (None, 0, 1, 2, "so3", "auto") or self.jitter < 0:
            raise ValueError(
                f"augment.rotate_axis is 0, 1, 2, x, y, z, so3, auto or null (got "
                f"{self.rotate_axis!r}); augment.jitter >= 0"
            )

    def resolved(self, points: torch.Tensor) -> tuple[PointAugmentConfig, str | None]:
        """This config with ``rotate_axis=auto`` read from the training clouds (N, P, 3), and
        the reading in words (None when there was nothing to read)."""
        if self.rotate_axis != "auto":
            return self, None
        reading = detect_turn_axis(points)
        return replace(self, rotate_axis=reading.axis), reading.reason


def group_and_order(
    points: torch.Tensor, num_groups: int, group_size: int, order: str, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, P, 3) clouds -> packed patches (B, G, k+1, 3) in ``order`` and their centres."""
    centres, patches = group_patches(points, num_groups, group_size)
    perm = PATCH_ORDERS.get(order)(centres, generator)
    centres = torch.gather(centres, 1, perm[..., None].expand(-1, -1, 3))
    patches = torch.gather(patches, 1, perm[..., None, None].expand(-1, -1, *patches.shape[2:]))
    return pack_patches(centres, patches), centres


class PointPatchPrepare:
    """``(clouds (B, P, 3), generator) -> (packed patches (B, G, k+1, 3), centres (B, G, 3))``."""

    def __init__(
        self, num_groups: int, group_size: int, order: str, augment: PointAugmentConfig
    ) -> None:
        PATCH_ORDERS.get(order)  # fail early on an unknown order
        if augment.rotate_axis == "auto":
            raise ValueError(
                "augment.rotate_axis=auto: resolve it on the training clouds first "
                "(PointAugmentConfig.resolved)"
            )
        self.num_groups, self.group_size, self.order = num_groups, group_size, order
        self.augment = augment

    def __call__(
        self, points: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if points.dim() != 3 or points.shape[-1] != 3:
            raise DataError(f"point clouds must batch as (B, P, 3), got {tuple(points.shape)}")
        points = points.float()
        a = self.augment
        if a.enabled:
            points = augment_points(points, generator, a.scale, a.rotate_axis, a.jitter)
        return group_and_order(points, self.num_groups, self.group_size, self.order, generator)


def packed_dataset(
    points: torch.Tensor, labels: torch.Tensor, num_groups: int, group_size: int, chunk: int = 256
) -> torch.utils.data.TensorDataset:
    """Grouped (unaugmented, unordered) patches of every cloud, for feature extraction."""
    gen = torch.Generator().manual_seed(0)
    xs = [
        group_and_order(points[i : i + chunk], num_groups, group_size, "none", gen)[0]
        for i in range(0, len(points), chunk)
    ]
    return torch.utils.data.TensorDataset(torch.cat(xs), labels)
