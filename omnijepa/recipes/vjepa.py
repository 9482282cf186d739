"""V-JEPA (Bardes et al. 2024), first increment: video tubelet tokens, short- and long-range tube
masks, latent prediction against an EMA target.

Tokens: tubelets of ``model.tubelet`` frames x ``model.patch`` px (``modalities.video``) at
(time, row, col); masks: V-JEPA's multi-mask tubes (``masks.tubes``); L1 loss (V-JEPA's) on
layer-normed EMA targets, with this library's EMA schedule and a VC term on every context
token (``anti_collapse.pool=tokens``; on the pooled clip embedding the tokens collapse).
Evaluation: the shared protocol on mean-pooled tokens against the random-init twin and raw
pixels; on the built-in clips the label is the direction an item moves in, which no single
frame shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from omnijepa.data.video_data import ClipDataset, VideoDataConfig, load_video_data
from omnijepa.eval.feature_export import name_rows
from omnijepa.eval.features import raw_features
from omnijepa.eval.frozen_probes import ProbeConfig
from omnijepa.eval.learning_curve import make_curve_probe
from omnijepa.eval.mask_figure import draw_image_masks
from omnijepa.eval.protocol import evaluate_against_twin
from omnijepa.masks.collator import MaskCollator, batch_generator
from omnijepa.masks.tubes import TubesConfig, TubesMaskSampler
from omnijepa.modalities.video import TubeletTokenizer
from omnijepa.objectives.collapse_penalty import AntiCollapseConfig
from omnijepa.objectives.latent_prediction import LatentPrediction
from omnijepa.objectives.teacher import TeacherConfig
from omnijepa.recipes.base import Built, Recipe
from omnijepa.recipes.model_configs import (
    TOKEN_QUICK,
    EncoderConfig,
    PredictorConfig,
    build_token_jepa,
)
from omnijepa.recipes.repro_runs import run_latent_repro
from omnijepa.train.config import TrainConfig
from omnijepa.train.trainer import TrainParts


@dataclass
class VideoModelConfig(EncoderConfig):
    """Tubelets of ``tubelet`` frames x ``patch`` x ``patch`` px and the encoder over them."""

    tubelet: int = 2
    patch: int = 4
    dim: int = 96
    depth: int = 4
    heads: int = 4


@dataclass
class VJEPAConfig:
    """All keys of the ``vjepa`` recipe."""

    seed: int = 0
    device: str = "auto"
    data: VideoDataConfig = field(default_factory=VideoDataConfig)
    model: VideoModelConfig = field(default_factory=VideoModelConfig)
    predictor: PredictorConfig = field(default_factory=lambda: PredictorConfig(dim=48, depth=2))
    mask: TubesConfig = field(default_factory=TubesConfig)
    loss: str = "l1"
    ema: TeacherConfig = field(default_factory=TeacherConfig)
    # VC over every context token, not over the clip's mean token: with the mean, the tokens
    # collapsed onto a few directions (RankMe 2.2) and the probe fell below the twin
    anti_collapse: AntiCollapseConfig = field(
        default_factory=lambda: AntiCollapseConfig(kind="vc", weight=1.0, pool="tokens")
    )
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=300, batch_size=32, probe_every=150)
    )
    eval: ProbeConfig = field(  # the learning-curve kNN on fewer clips: it ran 100 s a seed
        default_factory=lambda: ProbeConfig(curve_train=1000, curve_test=500)
    )
    position_probe: bool = False


def build_tokenizer(cfg: VJEPAConfig) -> TubeletTokenizer:
    d, m = cfg.data, cfg.model
    return TubeletTokenizer(d.channels, d.frames, d.size, m.tubelet, m.patch, m.dim)


def build_objective(cfg: VJEPAConfig) -> LatentPrediction:
    """Tokenizer, encoder, predictor and EMA target (deterministic given ``cfg.seed``)."""
    torch.manual_seed(cfg.seed)
    return build_token_jepa(build_tokenizer(cfg), cfg)


class VJEPARecipe(Recipe):
    name = "vjepa"
    summary = "V-JEPA: video tubelets, short/long-range tube masks, EMA latent prediction (2024)"
    claim = (
        "frozen V-JEPA features beat the same ViT at its random-init weights by >= 3 points of "
        "linear-probe accuracy on the direction of motion of moving items (paired over seeds, "
        "p < 0.05)"
    )
    reference = {"k400_attentive_probe_vit_l16": 80.8, "ssv2_attentive_probe_vit_l16": 69.5}

    def default_config(self) -> VJEPAConfig:
        return VJEPAConfig()

    def quick_overrides(self) -> list[str]:
        return [*TOKEN_QUICK]

    def build(self, cfg: VJEPAConfig, device: torch.device) -> Built:
        clips = load_video_data(cfg.data, cfg.seed)
        train, test = ClipDataset(clips["train"]), ClipDataset(clips["test"])
        name_rows(train, clips["train"].sources, clips["train"].classes)  # for `embed`
        name_rows(test, clips["test"].sources)
        tok = build_tokenizer(cfg)
        collate = MaskCollator(TubesMaskSampler(tok.grid, cfg.mask), cfg.seed,
                               steps=cfg.train.steps)  # fmt: skip

        def evaluate(trained: nn.Module) -> dict:
            twin = build_objective(cfg).eval_encoder().to(device)
            raw = lambda tr, te: (raw_features(tr), raw_features(te))  # noqa: E731
            return evaluate_against_twin(
                trained, twin, train, test, cfg.eval, device, cfg.seed, raw
            )

        probe = make_curve_probe(train, test, cfg.eval, device)
        parts = TrainParts(build_objective(cfg), train, collate, probe)
        where = cfg.data.path or f"generated {cfg.data.name} clips"
        d = cfg.data
        desc = (
            f"video {where}: {len(train)}/{len(test)} train/test clips of {d.frames} frames at "
            f"{d.size}x{d.size}, {len(clips['train'].classes)} classes ({tok.grid} tubelets)"
        )
        return Built(parts, evaluate, desc)

    def draw_masks(self, cfg: VJEPAConfig, path: Path, n: int) -> None:
        """Tube masks on the first frame of ``n`` clips (tubes run through every frame)."""
        clips = load_video_data(cfg.data, cfg.seed)["train"]
        frames = torch.from_numpy(clips.x[:n, :, 0]).float()
        tok = build_tokenizer(cfg)
        sampler = TubesMaskSampler(tok.grid, cfg.mask)
        plane = tok.grid[1] * tok.grid[2]
        context, targets = [], []
        for i in range(n):
            masks = sampler.sample(1, batch_generator(cfg.seed, i))
            context.append(masks.context[0][masks.context[0] < plane])
            targets.append(torch.stack([t[t < plane] for t in masks.targets[0]]))
        title = "V-JEPA tube masks (first frame; every frame alike)"
        draw_image_masks(frames, cfg.model.patch, context, targets, path, title)

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        ov = [*(self.quick_overrides() if quick else []), *overrides]
        notes = (
            "One Fashion-MNIST item (12 px) moving across a 32 px canvas for 8 frames in one of "
            "8 directions at 1-2 px per frame; the label is the direction. Baseline: raw pixels."
        )
        return run_latent_repro(self, out, seeds, ov, 0.03, notes, vs_raw=False)


__all__ = ["VJEPARecipe"]
