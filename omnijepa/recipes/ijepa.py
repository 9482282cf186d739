"""I-JEPA (Assran et al., CVPR 2023): multi-block masked latent prediction with an EMA target.

Defaults are a CPU-sized version of the paper's setup: a small ViT (no CLS token, fixed
sin-cos positions), a narrow predictor that predicts each of 4 target blocks (scale
0.15-0.2, aspect 0.75-1.5) from one context block (scale 0.85-1.0, minus the targets),
smooth-L1 against layer-normed EMA targets, AdamW with warmup+cosine LR and a cosine
weight-decay ramp 0.04 -> 0.4, as in the official configs. Two changes for short runs, both
measured (README): the EMA schedule is fitted to the run length (the paper's 0.996 -> 1 over
500 steps leaves the target 37% random), and a VICReg variance-covariance term on every context
token keeps the faster teacher from collapsing (``anti_collapse.kind=none`` and
``ema.max_init_weight=0`` give the paper's recipe exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from omnijepa.data.image_data import ImageDataConfig
from omnijepa.data.image_loading import load_image_data
from omnijepa.errors import ConfigError
from omnijepa.eval.mask_figure import draw_image_masks
from omnijepa.masks.collator import MaskCollator, batch_generator
from omnijepa.masks.multiblock import MultiBlockConfig, MultiBlockMaskSampler
from omnijepa.modalities.image_views import CropConfig, CropPrepare
from omnijepa.objectives.collapse_penalty import AntiCollapseConfig
from omnijepa.objectives.latent_prediction import LatentPrediction
from omnijepa.objectives.teacher import TeacherConfig
from omnijepa.recipes.base import Built, Recipe
from omnijepa.recipes.image_common import (
    VIT_QUICK,
    EvalConfig,
    ViTConfig,
    build_image_run,
    build_vit,
)
from omnijepa.recipes.model_configs import PredictorConfig, build_predictor
from omnijepa.recipes.repro_runs import run_latent_repro
from omnijepa.train.config import TrainConfig


@dataclass
class IJEPAConfig:
    """All keys of the ``ijepa`` recipe."""

    seed: int = 0
    device: str = "auto"
    data: ImageDataConfig = field(
        default_factory=lambda: ImageDataConfig(train_size=5000, image_size=32)
    )  # 8 x 8 patches of 4 px: as good as 40 px here and 1.6x cheaper
    model: ViTConfig = field(default_factory=ViTConfig)
    predictor: PredictorConfig = field(default_factory=PredictorConfig)
    mask: MultiBlockConfig = field(default_factory=MultiBlockConfig)
    # the official configs' random resized crop is crop.scale=[0.3,1.0]; off here: +1.2 points
    # of linear probe on the canvas (3 seeds) but -4.6 and -5.8 on two unseen folders (README)
    crop: CropConfig = field(default_factory=CropConfig)
    loss: str = "smooth_l1"
    # the paper's 0.996 -> 1, fitted so the target keeps <= 0.1% of its random init by the end
    ema: TeacherConfig = field(default_factory=TeacherConfig)
    # not in the paper: without it the faster teacher collapses (RankMe 2.6 of 128, probe
    # below the random-init twin); with it the run beats the twin (C-JEPA's fix). On every
    # token rather than on the pooled context: the linear probe gained on the canvas and on
    # every unseen folder measured (README), though the pooled features' rank falls
    anti_collapse: AntiCollapseConfig = field(
        default_factory=lambda: AntiCollapseConfig(kind="vc", weight=1.0, pool="tokens")
    )
    # the same 32k image views as 250 steps of 128, in more, smaller steps (README)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=500, batch_size=64, probe_every=100)
    )
    eval: EvalConfig = field(default_factory=EvalConfig)
    position_probe: bool = False  # diagnostic predictor that sees only the target positions


def build_objective(cfg: IJEPAConfig) -> LatentPrediction:
    """Encoder, predictor and EMA target for ``cfg`` (deterministic given ``cfg.seed``)."""
    torch.manual_seed(cfg.seed)
    encoder = build_vit(cfg.model, cfg.data)
    predictor = build_predictor(cfg.predictor, cfg.model.dim, cfg.model.pos, encoder.tokenizer.axes)
    return LatentPrediction(
        encoder, predictor, cfg.loss, cfg.ema, cfg.anti_collapse, cfg.position_probe
    )


class IJEPARecipe(Recipe):
    name = "ijepa"
    summary = "I-JEPA: images, multi-block masks, EMA target, latent smooth-L1 (Assran et al. 2023)"
    claim = (
        "frozen avg-pooled I-JEPA features beat the same ViT at its random-init weights by >= 8 "
        "points of linear-probe accuracy and on kNN, and beat raw pixels, on canvas "
        "Fashion-MNIST (paired over seeds, p < 0.05); the EMA teacher beats a frozen random one"
    )
    reference = {
        "imagenet_linear_top1": {
            "ViT-B/16 600ep": 72.9,
            "ViT-L/16 600ep": 77.5,
            "ViT-H/14 300ep": 79.3,
            "MAE ViT-H/14 1600ep": 77.2,
        },
        "in1k_1pct_ablation_vitb16": {
            "multi-block": 54.2,
            "random patches": 17.6,
            "1 target": 9.0,
            "4 targets": 54.2,
        },
    }

    variants = [("frozen_teacher", ["ema.mode=frozen"])]

    def default_config(self) -> IJEPAConfig:
        return IJEPAConfig()

    def quick_overrides(self) -> list[str]:
        return [
            *VIT_QUICK,
            "predictor.dim=16",
            "predictor.depth=1",
            "predictor.heads=2",
        ]

    def sampler(self, cfg: IJEPAConfig) -> MultiBlockMaskSampler:
        size, patch = cfg.data.image_size, cfg.model.patch
        if patch < 1 or size % patch:
            raise ConfigError(f"data.image_size {size} is not divisible by model.patch {patch}")
        return MultiBlockMaskSampler((size // patch, size // patch), cfg.mask)

    def build(self, cfg: IJEPAConfig, device: torch.device) -> Built:
        prepare = CropPrepare(cfg.crop) if cfg.crop.active else None
        views = cfg.anti_collapse.views
        collate = MaskCollator(self.sampler(cfg), cfg.seed, prepare=prepare, views=views)
        return build_image_run(cfg, device, lambda: build_objective(cfg), collate)

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        ov = [*(self.quick_overrides() if quick else []), *overrides]
        notes = (
            "Every probe runs on frozen features through one protocol (z-scored, C chosen on "
            "held-out train data) for the trained encoder, its random-init twin (the exact "
            "starting weights) and raw pixels; gaps are paired by seed. The verdict uses the "
            "target (EMA) encoder, as I-JEPA does; the online encoder is reported as "
            "jepa_online. frozen_teacher keeps the target at its random init (momentum 1) and "
            "is judged by its online encoder."
        )
        return run_latent_repro(self, out, seeds, ov, 0.08, notes, vs_raw=True)

    def draw_masks(self, cfg: IJEPAConfig, path: Path, n: int) -> None:
        data = load_image_data(cfg.data, cfg.seed)
        masks = self.sampler(cfg).sample(n, batch_generator(cfg.seed, 0))
        draw_image_masks(
            data.train.images[:n],
            cfg.model.patch,
            masks.context,
            masks.targets,
            path,
            title="I-JEPA multi-block masks",
        )
