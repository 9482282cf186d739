"""Point-JEPA (Saito, Kudeshia, Poovvancheri, WACV 2025): a sequencer orders the patch
tokens (greedy nearest-neighbour chain from the min x+y+z centre), targets are contiguous runs
in that order and the context a contiguous slice of the rest; smooth-L1 (beta 2) against the
layer-normed EMA target; SVM on frozen [max ‖ mean] features.

CPU-sized defaults: 256 points, 16 overlapping patches of 32 through a (16, 32, 64)
mini-PointNet, encoder 64-d x 4, predictor 32-d x 2, the paper's EMA fitted to 500 steps, and
C-JEPA's terms (VC on the pooled context, invariance to a second turned and scaled view),
without which the encoder does not beat its random-init twin at this budget. Augmentations
are drawn per sample (the official code draws one per batch).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from omnijepa.data.point_data import load_point_data
from omnijepa.eval.point_mask_figure import draw_point_masks
from omnijepa.masks.collator import batch_generator
from omnijepa.modalities.point_collate import group_and_order
from omnijepa.recipes.base import Built, Recipe
from omnijepa.recipes.point_common import (
    PointJEPAConfig,
    build_point_run,
    build_point_sampler,
)
from omnijepa.recipes.point_repro import run_point_repro


class PointJEPARecipe(Recipe):
    name = "pointjepa"
    main_probe = "svm"  # the paper's protocol
    summary = "Point-JEPA: point clouds, sequencer + contiguous blocks, EMA target (Saito 2025)"
    claim = (
        "frozen [max ‖ mean] SVM accuracy of the pre-trained encoder beats the same encoder "
        "at random init by >= 10 points on procedural shapes; sequencer order >= random order; "
        "no collapse (target std > 0.1, prediction std > 0.01)"
    )
    reference = {
        "modelnet40_linear_svm": "93.7 ± 0.2",
        "modelnet40_finetune": "93.8 ± 0.2 (voting 94.1 ± 0.1)",
        "scanobjectnn_pb_t50_rs": "86.6 ± 0.3",
        "shapenetpart_cat_miou": "85.8 ± 0.1",
        "scale": "ShapeNet55 pre-training, 500 epochs, ViT 384-d x 12",
    }
    ablations = [
        ("random_order", ["mask.order=random"]),
        ("frozen_teacher", ["ema.mode=frozen"]),
    ]

    def default_config(self) -> PointJEPAConfig:
        return PointJEPAConfig()

    def quick_overrides(self) -> list[str]:
        return [
            "train.steps=4", "train.batch_size=8", "data.train_per_class=4",
            "data.test_per_class=4", "data.num_points=64", "model.num_groups=8",
            "model.group_size=8", "model.dim=32", "model.depth=1", "model.heads=2",
            "predictor.dim=16", "predictor.depth=1", "predictor.heads=2",
            "eval.few_shot_shot=2", "eval.few_shot_queries=2", "eval.few_shot_episodes=2",
        ]  # fmt: skip

    def build(self, cfg: PointJEPAConfig, device: torch.device) -> Built:
        return build_point_run(cfg, device)

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        ov = [*(self.quick_overrides() if quick else []), *overrides]
        return run_point_repro(self, out, seeds, ov, self.ablations)

    def draw_masks(self, cfg: PointJEPAConfig, path: Path, n: int) -> None:
        data = load_point_data(cfg.data, cfg.seed)
        gen = batch_generator(cfg.seed, 0)
        m = cfg.model
        pick = torch.linspace(0, len(data.train) - 1, n).round().long()  # spread over classes
        x, centres = group_and_order(data.train.points[pick], m.num_groups, m.group_size,
                                     cfg.mask.order, gen)  # fmt: skip
        masks = build_point_sampler(cfg).sample(n, gen, coords=centres)
        draw_point_masks(x, masks.context, masks.targets, path,
                         f"{self.name}: {cfg.mask.sampler} masks, {cfg.mask.order} order",
                         show_order=cfg.mask.sampler == "sequence_runs")  # fmt: skip
