"""Collate point clouds into patch tokens, ordered, with context/target masks on the patches.

One call per batch, seeded by ``(seed, step)``: per-sample augmentation (scale, rotation about
an axis; drawn per sample, unlike the official Point-JEPA code's per-batch draws), FPS + kNN
grouping, patch ordering (the Point-JEPA sequencer, Morton, random, none), then the mask
sampler on the ordered patches (given the centres, for samplers that are spatial). The packed
input ``x`` is ``(B, G, k+1, 3)``: centre first, then the centre-subtracted neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from omnijepa.errors import DataError
from omnijepa.masks.collator import batch_generator
from omnijepa.modalities.point_cloud import (
    PATCH_ORDERS,
    augment_points,
    group_patches,
    pack_patches,
)


@dataclass
class PointAugmentConfig:
    """Per-sample augmentation of training clouds (Point-JEPA: scale 0.8-1.2, y rotation)."""

    enabled: bool = True
    scale: tuple[float, float] = (0.8, 1.2)
    rotate_axis: int | None = 1
    jitter: float = 0.0


def group_and_order(
    points: torch.Tensor, num_groups: int, group_size: int, order: str, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, P, 3) clouds -> packed patches (B, G, k+1, 3) in ``order`` and their centres."""
    centres, patches = group_patches(points, num_groups, group_size)
    perm = PATCH_ORDERS.get(order)(centres, generator)
    centres = torch.gather(centres, 1, perm[..., None].expand(-1, -1, 3))
    patches = torch.gather(patches, 1, perm[..., None, None].expand(-1, -1, *patches.shape[2:]))
    return pack_patches(centres, patches), centres


class PointCloudCollate:
    """``(samples, step) -> {"x", "y", "context", "targets"}`` for point-cloud JEPAs."""

    def __init__(
        self,
        sampler: Any,
        seed: int,
        num_groups: int,
        group_size: int,
        order: str,
        augment: PointAugmentConfig,
    ) -> None:
        PATCH_ORDERS.get(order)  # fail early on an unknown order
        self.sampler, self.seed = sampler, int(seed)
        self.num_groups, self.group_size, self.order = num_groups, group_size, order
        self.augment = augment

    def __call__(self, samples: Sequence[tuple[Any, Any]], step: int) -> dict[str, torch.Tensor]:
        if not samples:
            raise DataError("point-cloud collate got an empty batch")
        points = torch.stack([torch.as_tensor(p, dtype=torch.float32) for p, _ in samples])
        labels = torch.as_tensor([int(y) for _, y in samples])
        gen = batch_generator(self.seed, step)
        a = self.augment
        if a.enabled:
            points = augment_points(points, gen, a.scale, a.rotate_axis, a.jitter)
        x, centres = group_and_order(points, self.num_groups, self.group_size, self.order, gen)
        masks = self.sampler.sample(len(samples), gen, coords=centres)
        return {"x": x, "y": labels, "context": masks.context, "targets": masks.targets}


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
