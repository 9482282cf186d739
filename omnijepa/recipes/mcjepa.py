"""MC-JEPA (Bardes, Ponce, LeCun 2023): one convolutional pyramid learns motion (self-supervised
optical flow by feature-warping latent prediction) and content (VICReg) at once.

No official code exists; this is a clean-room version at CPU scale: a 4-level pyramid (PWC-Net
style), a residual flow head per level with a local cost volume, the motion losses of
``objectives.motion_content`` on photo pairs with exact flow (``data.flow_pairs``), and VICReg
on two views of composed item scenes (``data.item_scenes``). Evaluation: end-point error on
pairs from held-out photos against zero flow and OpenCV's Farnebäck; a dense linear probe
(per-pixel classes, mIoU) and the shared image-level probe on held-out scenes, each against the
same network at its random init. ``omnijepa repro mcjepa`` adds the paper's ablations.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset

from omnijepa.data.flow_pairs import FlowDataConfig, FlowPairs, load_flow_pairs, middlebury_pair
from omnijepa.data.item_scenes import SceneConfig, Scenes, compose_scenes
from omnijepa.errors import ConfigError
from omnijepa.eval.dense_probe import dense_probe, pyramid_maps, raw_patches
from omnijepa.eval.features import raw_features
from omnijepa.eval.flow_metrics import (
    batched_flow,
    draw_flow_figure,
    end_point_error,
    farneback,
)
from omnijepa.eval.frozen_probes import ProbeConfig
from omnijepa.eval.protocol import evaluate_against_twin
from omnijepa.modalities.image_views import random_resized_crops
from omnijepa.nn.conv_pyramid import FINEST_STRIDE, ConvPyramid
from omnijepa.nn.flow_head import FlowHead
from omnijepa.objectives.motion_content import MotionContent, MotionContentConfig
from omnijepa.recipes.base import Built, Recipe
from omnijepa.recipes.mcjepa_checks import VARIANTS, judge_mcjepa
from omnijepa.recipes.repro_runs import judged_variant_repro
from omnijepa.seeding import step_generator
from omnijepa.train.config import TrainConfig
from omnijepa.train.trainer import TrainParts


@dataclass
class PyramidConfig:
    """``model.*``: pyramid widths (one per level) and the flow head."""

    widths: tuple[int, ...] = (16, 32, 64, 96)
    radius: int = 2  # cost-volume radius, in cells of each level
    head_hidden: int = 32
    skip_levels: int = 0  # finest levels without a flow estimator (PWC-Net: 1; here 0 is better)


@dataclass
class ContentViewConfig:
    """``views.*``: VICReg's augmentations of the content images."""

    scale: tuple[float, float] = (0.3, 1.0)  # random resized crop, area fraction
    flip: bool = True
    brightness: float = 0.3  # additive shift drawn in [-b, b]
    contrast: float = 0.3  # gain drawn in [1 - c, 1 + c]
    noise: float = 0.02  # std of Gaussian pixel noise

    def __post_init__(self) -> None:
        lo, hi = self.scale
        if not 0.0 < lo <= hi <= 1.0:
            raise ConfigError(f"views.scale is an area range 0 < min <= max <= 1, got {self.scale}")
        if self.brightness < 0 or not 0 <= self.contrast < 1 or self.noise < 0:
            raise ConfigError("views.brightness, views.noise >= 0 and views.contrast in [0, 1)")


@dataclass
class MCJEPAConfig:
    """All keys of the ``mcjepa`` recipe."""

    seed: int = 0
    device: str = "auto"
    data: FlowDataConfig = field(default_factory=FlowDataConfig)
    scenes: SceneConfig = field(default_factory=SceneConfig)
    model: PyramidConfig = field(default_factory=PyramidConfig)
    objective: MotionContentConfig = field(default_factory=MotionContentConfig)
    views: ContentViewConfig = field(default_factory=ContentViewConfig)
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=400, batch_size=8, lr=3e-3, warmup=0.05, weight_decay=(0.01, 0.01)
        )  # fmt: skip
    )
    eval: ProbeConfig = field(default_factory=lambda: ProbeConfig(few_shot=(), max_train=1000))


def build_objective(cfg: MCJEPAConfig) -> MotionContent:
    """Pyramid, flow head and expander (deterministic given ``cfg.seed``)."""
    torch.manual_seed(cfg.seed)
    pyramid = ConvPyramid(cfg.data.channels, tuple(cfg.model.widths))
    if cfg.data.size % pyramid.stride:
        raise ConfigError(f"data.size={cfg.data.size} must be a multiple of {pyramid.stride} "
                          f"(2 ** the {len(cfg.model.widths)} pyramid levels)")  # fmt: skip
    head = FlowHead(pyramid.widths, cfg.model.radius, cfg.model.head_hidden, cfg.model.skip_levels)
    return MotionContent(pyramid, head, cfg.objective)


class PairsAndScenes(Dataset):
    """Item ``i``: flow pair ``i`` and content scene ``i`` (each list cycled to the longer)."""

    def __init__(self, pairs: FlowPairs, scenes: Scenes) -> None:
        self.pairs, self.scenes = pairs, scenes

    def __len__(self) -> int:
        return max(len(self.pairs.first), len(self.scenes.images))

    def __getitem__(self, i: int) -> tuple[tuple[torch.Tensor, ...], int]:
        j, k = i % len(self.pairs.first), i % len(self.scenes.images)
        return (self.pairs.first[j], self.pairs.second[j], self.scenes.images[k]), 0


class MotionContentCollate:
    """``{"first", "second", "views"}``; the two content views are seeded by the step."""

    def __init__(self, cfg: ContentViewConfig, seed: int) -> None:
        self.cfg, self.seed = cfg, seed

    def view(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        c = self.cfg
        v = random_resized_crops(x, x.shape[-1], c.scale, (0.75, 1.333), c.flip, g)
        b = v.shape[0]
        gain = 1 + c.contrast * (2 * torch.rand(b, 1, 1, 1, generator=g) - 1)
        shift = c.brightness * (2 * torch.rand(b, 1, 1, 1, generator=g) - 1)
        return v * gain + shift + c.noise * torch.randn(v.shape, generator=g)

    def __call__(self, samples: list[tuple[tuple[torch.Tensor, ...], int]], step: int) -> dict:
        first, second, scene = (torch.stack(t) for t in zip(*(s[0] for s in samples)))
        g = step_generator(self.seed, step, salt=5)
        return {"first": first, "second": second, "views": [self.view(scene, g) for _ in "ab"]}


def _scene_set(scenes: Scenes) -> TensorDataset:
    return TensorDataset(scenes.images, scenes.labels)


class MCJEPARecipe(Recipe):
    name = "mcjepa"
    summary = "MC-JEPA: one conv pyramid, self-supervised flow by feature warping + VICReg (2023)"
    claim = (
        "self-supervised EPE <= 0.5 x zero-flow EPE on held-out photo pairs (beside Farnebäck); "
        "removing the per-level variance-covariance term collapses features or worsens EPE by "
        ">= 20%; joint training keeps EPE within 10% of flow-only and beats content-only and "
        "the random-init twin on dense-probe mIoU (paired over seeds, p < 0.05)"
    )
    reference = {
        "sintel_clean_epe_train": 2.81,
        "sintel_final_epe_train": 3.51,
        "davis17_jf": 70.5,
        "note": "approximate (see shared/papers notes); ConvNeXt-T, 6 levels, ImageNet + flow data",
    }

    variants = VARIANTS
    embed_ignores_path = (
        "embed exports the content encoder's features of the generated item scenes "
        "(scenes.*); data.path only sets the images the flow pairs are warped from, so it "
        "would change nothing here: leave it out"
    )

    def default_config(self) -> MCJEPAConfig:
        return MCJEPAConfig()

    def quick_overrides(self) -> list[str]:
        return ["train.steps=4", "train.batch_size=8", "data.size=32", "data.train_pairs=32",
                "data.test_pairs=8", "scenes.train_scenes=32", "scenes.test_scenes=16",
                "scenes.item_side=[10,16]", "model.widths=[8,8,16,16]"]  # fmt: skip

    def build(self, cfg: MCJEPAConfig, device: torch.device) -> Built:
        if cfg.eval.layers > 1:  # before any training: the probe could not run after it
            raise ConfigError(f"eval.layers={cfg.eval.layers}: the conv pyramid has no stack "
                              "of blocks to concatenate; leave eval.layers at 1")  # fmt: skip
        train_pairs, test_pairs, where = load_flow_pairs(cfg.data, cfg.seed)
        size, ch = cfg.data.size, cfg.data.channels
        scenes = {s: compose_scenes(cfg.scenes, size, ch, cfg.seed, s) for s in ("train", "test")}
        objective = build_objective(cfg)
        parts = TrainParts(objective, PairsAndScenes(train_pairs, scenes["train"]),
                           MotionContentCollate(cfg.views, cfg.seed))  # fmt: skip

        def evaluate(trained: nn.Module) -> dict:
            twin = build_objective(cfg).to(device)
            return evaluate_mcjepa(trained, twin, test_pairs, scenes, cfg, device)

        def figures(trained: nn.Module, run_dir: Path) -> None:
            n = min(4, len(test_pairs.first))
            first, second = test_pairs.first[:n], test_pairs.second[:n]
            cols = {"true flow": test_pairs.flow[:n],
                    "MC-JEPA": batched_flow(trained.predict_flow, first, second, device),
                    "Farnebäck": farneback(first, second)}  # fmt: skip
            draw_flow_figure(run_dir / "flow.png", first, cols, "held-out pairs")
            real = middlebury_pair(ch, trained.pyramid.stride)
            if real is not None:  # a real pair, no true flow: a qualitative check
                cols = {"second frame": real.second,
                        "MC-JEPA": batched_flow(trained.predict_flow, real.first, real.second,
                                                device),
                        "Farnebäck": farneback(real.first, real.second)}  # fmt: skip
                draw_flow_figure(run_dir / "flow_middlebury.png", real.first, cols,
                                 "Middlebury RubberWhale (opencv-doc), no true flow")  # fmt: skip

        desc = (
            f"flow pairs from {where}: {len(train_pairs.first)}/{len(test_pairs.first)} "
            f"train/held-out pairs of {size} px, flow up to {cfg.data.max_flow:g} px; content: "
            f"{len(scenes['train'].images)}/{len(scenes['test'].images)} item scenes"
        )
        return Built(parts, evaluate, desc, figures)

    def draw_masks(self, cfg: MCJEPAConfig, path: Path, n: int) -> None:
        """MC-JEPA masks nothing: its pretext is the flow that warps one frame's features onto
        the other's. The picture shows ``n`` training pairs and their exact flows."""
        pairs, _, _ = load_flow_pairs(replace(cfg.data, train_pairs=n, test_pairs=1), cfg.seed)
        cols = {"second frame": pairs.second, "flow to predict": pairs.flow}
        draw_flow_figure(path, pairs.first, cols, "MC-JEPA training pairs")

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        ov = [*(self.quick_overrides() if quick else []), *overrides]
        notes = (
            "Flow: pairs cut from photos and warped by random smooth flows (affine + Gaussian "
            "bumps, largest vector 1-4 px), so EPE is exact; held-out pairs come from photos "
            "never trained on. Content: scenes of 2-3 Fashion-MNIST items on a textured ground; "
            "dense probe = per-cell logistic regression on all pyramid levels (11 classes, "
            "mIoU). Variants: flow_only, content_only, no_level_vc (objective.level_vc=0)."
        )
        return judged_variant_repro(self, out, seeds, ov, self.variants, judge_mcjepa,
                                    "dense_miou", notes)  # fmt: skip


def evaluate_mcjepa(
    trained: MotionContent,
    twin: MotionContent,
    pairs: FlowPairs,
    scenes: dict[str, Scenes],
    cfg: MCJEPAConfig,
    device: torch.device,
) -> dict[str, Any]:
    """EPE, the dense probe and the image-level probe for the trained model (``jepa``) and,
    with ``eval.baselines``, its random-init twin, zero flow, Farnebäck and raw pixels."""
    trained.eval()
    base = cfg.eval.baselines
    models = {"jepa": trained, **({"random_init": twin} if base else {})}
    epe = {k: float(end_point_error(batched_flow(m.predict_flow, pairs.first, pairs.second,
                                                 device), pairs.flow).mean())
           for k, m in models.items()}  # fmt: skip
    epe["zero"] = float(pairs.flow.norm(dim=1).mean())
    if base:
        epe["farneback"] = float(end_point_error(farneback(pairs.first, pairs.second),
                                                 pairs.flow).mean())  # fmt: skip
    tr, te = scenes["train"], scenes["test"]
    miou, pixel_acc = {}, {}
    maps = {k: (lambda x, m=m: pyramid_maps(m.pyramid(x))) for k, m in models.items()}
    if base:
        maps["raw"] = lambda x: raw_patches(x, FINEST_STRIDE)  # on the maps' grid
    for k, fn in maps.items():
        res = dense_probe(fn, (tr.images, tr.pixels), (te.images, te.pixels), tr.num_classes,
                          device, cfg.seed)  # fmt: skip
        miou[k], pixel_acc[k] = res["miou"], res["pixel_acc"]
    raw = lambda a, b: (raw_features(a), raw_features(b))  # noqa: E731
    out = evaluate_against_twin(trained, twin.eval_encoder(), _scene_set(tr), _scene_set(te),
                                cfg.eval, device, cfg.seed, raw)  # fmt: skip
    with torch.no_grad():
        levels = trained.pyramid(te.images[:256].to(device))
    stds = [float(f.permute(0, 2, 3, 1).reshape(-1, f.shape[1]).std(dim=0).mean()) for f in levels]
    out.update({"epe": epe, "dense_miou": miou, "dense_pixel_acc": pixel_acc,
                "feature_std": {"min_level": min(stds), "coarsest": stds[-1]}})  # fmt: skip
    trained.train()
    return out


__all__ = ["MCJEPARecipe"]
