"""TI-JEPA (Vo et al. 2025): a trainable crosser (image self-attention, then cross-attention
to the caption's tokens) on top of a frozen image encoder and a frozen text encoder, trained
so that a predictor, from the context-masked image tokens plus the caption, matches the EMA
target crosser's layer-normed tokens at I-JEPA multi-block targets. Its mean-pooled target
output feeds a linear head for multimodal sentiment (MVSA in the paper).

At CPU scale: the frozen image encoder is an I-JEPA ViT pre-trained here on the training
images (``recipes.tijepa_image``; or ``model.image_encoder=DIR``, a finished omnijepa run),
the frozen text encoder MiniLM or the library's tweets encoder (``modalities.text``). Every
pair is encoded once and packed (``modalities.text_image``), so the crosser trains on the
library's latent-prediction objective unchanged. ``loss=vicreg`` is TI-JEPA-Large's
VICReg-style loss (25 MSE + 25 variance + 1 covariance on the predictions).

Evaluation: one linear probe (accuracy, macro-F1, weighted-F1, as MVSA reports) on the pooled
target crosser (``jepa``), the same crosser at its starting weights (``random_init``), the
frozen image tokens alone (``image``), the caption's tokens alone (``text``) and both
concatenated (``concat``); on generated data also which side's own sentiment each feature
set reads (``reads_image_sentiment``, ``reads_text_sentiment``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from omnijepa.data.caption_sources import CaptionData, CaptionDataConfig, load_caption_data
from omnijepa.errors import ConfigError
from omnijepa.eval.caption_figure import draw_captioned
from omnijepa.eval.class_scores import linear_class_scores, score_feature_sets
from omnijepa.eval.collapse import collapse_report
from omnijepa.eval.frozen_probes import ProbeConfig
from omnijepa.eval.mask_figure import draw_image_masks
from omnijepa.eval.protocol import warn_thin_test, warn_thin_train
from omnijepa.masks.collator import MaskCollator, batch_generator
from omnijepa.masks.multiblock import MultiBlockConfig, MultiBlockMaskSampler
from omnijepa.modalities.text import TextEncoderConfig, build_text_encoder
from omnijepa.modalities.text_image import PairLayout, TextImageEncoder, pack_pairs
from omnijepa.nn.crosser import Crosser
from omnijepa.objectives.collapse_penalty import AntiCollapseConfig
from omnijepa.objectives.latent_prediction import LATENT_LOSSES, LatentPrediction
from omnijepa.objectives.teacher import TeacherConfig
from omnijepa.recipes.base import Built, Recipe
from omnijepa.recipes.model_configs import PredictorConfig, build_predictor
from omnijepa.recipes.saved_encoder import run_encoder
from omnijepa.recipes.tijepa_image import ImageSideConfig, frozen_image_side
from omnijepa.registry import Registry
from omnijepa.train.config import TrainConfig
from omnijepa.train.trainer import TrainParts

# loss presets: name -> (latent loss, the anti-collapse term it brings)
LOSS_PRESETS = {
    "vicreg": ("l2", AntiCollapseConfig(kind="vicreg", weight=1.0, on="prediction", pool="tokens"))
}


@dataclass
class CrosserConfig:
    """``model.*``: the trainable crosser, and the frozen image encoder's run directory."""

    image_encoder: str = ""  # a finished omnijepa image run; empty: I-JEPA pre-trained here
    dim: int = 64
    depth: int = 2
    heads: int = 4
    mlp_ratio: float = 4.0

    def __post_init__(self) -> None:
        if self.depth < 1 or self.dim < 1 or self.dim % self.heads:
            raise ConfigError(f"model.depth >= 1 and model.dim={self.dim} a multiple of "
                              f"model.heads={self.heads}")  # fmt: skip


@dataclass
class TIEvalConfig(ProbeConfig):
    """``eval.*``: the shared probe protocol; ``baselines`` adds the random-init crosser."""

    examples: int = 8  # test pairs in examples.png


def draw_examples(data: CaptionData, predictions: dict[str, np.ndarray], path: Path, n: int
                  ) -> None:  # fmt: skip
    """``n`` test pairs with their gold label and the TI-JEPA and concatenation probes'."""
    test = data.test
    pick = np.random.default_rng(0).permutation(len(test))[:n]
    names = test.classes
    notes = []
    for i in pick:
        said = ", ".join(f"{arm} {names[int(predictions[arm][i])]}"
                         for arm in ("jepa", "concat") if arm in predictions)  # fmt: skip
        notes.append(f"gold {names[int(test.labels[i])]}" + (f"; {said}" if said else ""))
    draw_captioned(test.images[pick], [test.captions[i] for i in pick], notes, path,
                   "TI-JEPA test pairs: gold label and the linear probes' predictions")  # fmt: skip


@dataclass
class TIJEPAConfig:
    """All keys of the ``tijepa`` recipe."""

    seed: int = 0
    device: str = "auto"
    data: CaptionDataConfig = field(default_factory=CaptionDataConfig)
    text: TextEncoderConfig = field(default_factory=lambda: TextEncoderConfig(max_len=16))
    image: ImageSideConfig = field(default_factory=ImageSideConfig)
    model: CrosserConfig = field(default_factory=CrosserConfig)
    predictor: PredictorConfig = field(default_factory=lambda: PredictorConfig(dim=48, depth=2))
    mask: MultiBlockConfig = field(default_factory=MultiBlockConfig)
    loss: str = "smooth_l1"  # any latent loss, or vicreg (TI-JEPA-Large; replaces anti_collapse)
    ema: TeacherConfig = field(default_factory=TeacherConfig)
    # not in the paper: as in the ijepa recipe, a VC term on the pooled context keeps the fitted
    # EMA from shrinking the output (seed 0: RankMe 16 -> 51 of 64, probe 0.725 -> 0.786)
    anti_collapse: AntiCollapseConfig = field(
        default_factory=lambda: AntiCollapseConfig(kind="vc", weight=1.0)
    )
    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=600, batch_size=64))
    eval: TIEvalConfig = field(default_factory=TIEvalConfig)
    position_probe: bool = False


def loss_and_penalty(cfg: TIJEPAConfig) -> tuple[str, AntiCollapseConfig]:
    """The latent loss and anti-collapse term of ``cfg.loss``: a preset's pair (its terms
    replace ``anti_collapse.*``), or the plain loss with ``cfg.anti_collapse``."""
    return LOSS_PRESETS.get(cfg.loss, (cfg.loss, cfg.anti_collapse))


def build_objective(cfg: TIJEPAConfig, layout: PairLayout, grid: tuple[int, int]
                    ) -> LatentPrediction:  # fmt: skip
    """Crosser, predictor and EMA target crosser (deterministic given ``cfg.seed``)."""
    torch.manual_seed(cfg.seed)
    m = cfg.model
    crosser = Crosser(layout.image_dim, layout.text_dim, m.dim, m.depth, m.heads, m.mlp_ratio)
    encoder = TextImageEncoder(layout, grid, crosser)
    predictor = build_predictor(cfg.predictor, m.dim, "sincos", encoder.axes)
    loss, penalty = loss_and_penalty(cfg)
    return LatentPrediction(encoder, predictor, loss, cfg.ema, penalty, cfg.position_probe)


class PackedPairs(Dataset):
    """Packed (image tokens, text tokens, padding) rows with their labels."""

    def __init__(self, packed: torch.Tensor, labels: np.ndarray) -> None:
        self.packed, self.labels = packed, torch.as_tensor(labels)

    def __len__(self) -> int:
        return len(self.packed)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.packed[i], self.labels[i]


@torch.no_grad()
def pooled_crosser(encoder: nn.Module, packed: torch.Tensor, device: torch.device,
                   batch: int = 256) -> torch.Tensor:  # fmt: skip
    """Mean over image tokens of the crosser's output, (N, dim) on the CPU."""
    encoder.eval()
    out = [encoder(packed[k : k + batch].to(device)).mean(1).float().cpu()
           for k in range(0, len(packed), batch)]  # fmt: skip
    return torch.cat(out)


def frozen_sides(layout: PairLayout, packed: torch.Tensor) -> dict[str, torch.Tensor]:
    """The frozen features alone: mean image token, mean real text token, and both."""
    image, text, pad = layout.unpack(packed)
    keep = (~pad).float()[..., None]
    sides = {"image": image.mean(1), "text": (text * keep).sum(1) / keep.sum(1).clamp_min(1.0)}
    sides["concat"] = torch.cat([sides["image"], sides["text"]], dim=1)
    return sides


def evaluate_tijepa(trained: LatentPrediction, cfg: TIJEPAConfig, data: CaptionData,
                    packed: dict[str, torch.Tensor], layout: PairLayout,
                    grid: tuple[int, int], device: torch.device,
                    predictions: dict[str, np.ndarray]) -> dict[str, Any]:  # fmt: skip
    """Probe scores of every feature set as ``{score: {arm: value}}`` (accuracy as
    ``linear_probe``), the crosser's output spread and, on generated data, what each feature
    set reads of each side's own sentiment; ``predictions`` receives each set's test labels."""
    arms = {"jepa": trained.eval_encoder()}
    if cfg.eval.baselines:
        arms["random_init"] = build_objective(cfg, layout, grid).eval_encoder().to(device)
    feats: dict[str, tuple[np.ndarray, np.ndarray]] = {
        arm: tuple(pooled_crosser(enc, packed[s], device).numpy() for s in ("train", "test"))
        for arm, enc in arms.items()
    }  # type: ignore[misc]
    sides = {s: frozen_sides(layout, packed[s]) for s in ("train", "test")}
    for name in ("image", "text", "concat"):
        feats[name] = (sides["train"][name].numpy(), sides["test"][name].numpy())
    scores = score_feature_sets(feats, data.train.labels, data.test.labels, cfg.eval, cfg.seed,
                                predictions)  # fmt: skip
    out: dict[str, Any] = {"linear_probe": scores.pop("accuracy"), **scores}
    out["best_unimodal"] = max(out["linear_probe"]["image"], out["linear_probe"]["text"])
    test_jepa = feats["jepa"][1]
    out["crosser_std"] = float(test_jepa.std(0).mean())
    out["collapse"] = collapse_report(test_jepa)
    for side in ("image", "text"):
        y_train = getattr(data.train, f"{side}_sentiment")
        y_test = getattr(data.test, f"{side}_sentiment")
        if y_train is None or y_test is None:
            continue
        out[f"reads_{side}_sentiment"] = {
            arm: linear_class_scores((a, y_train), (b, y_test), cfg.eval, cfg.seed)["accuracy"]
            for arm, (a, b) in feats.items() if arm != "concat"
        }  # fmt: skip
    trained.train()
    return out


class TIJEPARecipe(Recipe):
    name = "tijepa"
    embeds = False  # judged on task metrics, not pooled features
    summary = "TI-JEPA: frozen image + text encoders, text-to-image crosser, EMA target (2025)"
    claim = (
        "a linear probe on the pooled TI-JEPA target crosser beats the best one-modality probe "
        "by >= 5 points of accuracy, and beats the concatenated frozen features and the "
        "random-init crosser (paired over seeds, p < 0.05), with no collapse"
    )
    reference = {
        "MVSA-Single": {"TI-JEPA-Large accuracy": 76.75, "TI-JEPA-Large F1": 74.62},
        "MVSA-Multi": {"TI-JEPA-Large accuracy": 77.55, "TI-JEPA-Large F1": 75.02},
    }

    @property
    def recipes(self) -> Registry[Recipe]:
        """Where the recipes of ``model.image_encoder`` runs are looked up: the built-ins."""
        from omnijepa.recipes import RECIPES

        return RECIPES

    def default_config(self) -> TIJEPAConfig:
        return TIJEPAConfig()

    def quick_overrides(self) -> list[str]:
        return ["train.steps=4", "train.batch_size=8", "data.size=32", "data.train_size=48",
                "data.test_size=24", "image.vit.dim=32", "image.vit.depth=1",
                "image.vit.heads=2", "image.predictor.dim=16", "image.predictor.heads=2",
                "image.train.steps=4", "image.train.batch_size=8", "text.kind=tweets",
                "text.steps=4", "text.vocab=300", "text.corpus=500", "text.dim=32",
                "model.dim=32", "model.depth=1", "model.heads=2", "predictor.dim=16",
                "predictor.heads=2", "predictor.depth=1"]  # fmt: skip

    def data_fixed(self, cfg: TIJEPAConfig) -> str:
        if cfg.model.image_encoder:
            return ""
        return ("this run's image side was pre-trained on its own training images and is "
                "not saved with it, so other data would pre-train another image encoder; "
                "train with model.image_encoder=RUN to evaluate on other data")  # fmt: skip

    def build(self, cfg: TIJEPAConfig, device: torch.device) -> Built:
        LATENT_LOSSES.get(loss_and_penalty(cfg)[0])  # an unknown loss fails before any work
        if cfg.model.image_encoder and not Path(cfg.model.image_encoder).is_dir():
            raise ConfigError(f"model.image_encoder={cfg.model.image_encoder}: no run "
                              "directory there (a finished omnijepa image run)")  # fmt: skip
        data = load_caption_data(cfg.data, cfg.seed)
        classes = np.unique(data.train.labels)  # a thin or one-sided split is said up front
        warn_thin_test(classes, data.test.labels)
        warn_thin_train(data.train.labels, data.test.labels)
        progress = cfg.train.progress
        side = frozen_image_side(cfg.model.image_encoder, cfg.image, data.train.images,
                                 cfg.seed, device, progress, self.recipes)  # fmt: skip
        text = build_text_encoder(cfg.text, [*data.train.captions, *data.test.captions], cfg.seed)

        def encode_text(captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
            t = text.encode(captions)
            return t.tokens, t.padding

        packed = {}  # both splits share one layout: the same encoders and text.max_len
        for name, split in (("train", data.train), ("test", data.test)):
            images = side.dataset.normalize(torch.from_numpy(split.images))
            packed[name], layout = pack_pairs(images, split.captions, side.encoder, encode_text,
                                              cfg.text.max_len)  # fmt: skip
        objective = build_objective(cfg, layout, side.grid)
        sampler = MultiBlockMaskSampler(side.grid, cfg.mask)
        parts = TrainParts(objective, PackedPairs(packed["train"], data.train.labels),
                           MaskCollator(sampler, cfg.seed))  # fmt: skip

        predictions: dict[str, np.ndarray] = {}

        def evaluate(trained: nn.Module) -> dict:
            return evaluate_tijepa(trained, cfg, data, packed, layout, side.grid, device,
                                   predictions)  # fmt: skip

        def figures(trained: nn.Module, run_dir: Path) -> None:
            draw_examples(data, predictions, run_dir / "examples.png", cfg.eval.examples)

        desc = (f"{data.describe()}; image side: {side.source}, {side.grid} tokens; text "
                f"side: {text.name} encoder ({layout.text_dim}-d tokens)")  # fmt: skip
        return Built(parts, evaluate, desc, figures)

    def draw_masks(self, cfg: TIJEPAConfig, path: Path, n: int) -> None:
        """Multi-block masks on the image-token grid of ``n`` training scenes."""
        data = load_caption_data(cfg.data, cfg.seed)
        patch = cfg.image.vit.patch
        if cfg.model.image_encoder:
            encoder = run_encoder(Path(cfg.model.image_encoder), torch.device("cpu"), self.recipes)
            patch = encoder.tokenizer.patch
        side = cfg.data.size // patch
        sampler = MultiBlockMaskSampler((side, side), cfg.mask)
        masks = sampler.sample(n, batch_generator(cfg.seed, 0))
        images = torch.from_numpy(data.train.images[:n])
        title = "TI-JEPA multi-block masks on the image tokens"
        draw_image_masks(images, patch, masks.context, masks.targets, path, title)

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        from omnijepa.recipes.repro_runs import judged_variant_repro
        from omnijepa.recipes.tijepa_checks import METRIC, NOTES, VARIANTS, judge_tijepa

        ov = [*(self.quick_overrides() if quick else []), *overrides]
        return judged_variant_repro(self, out, seeds, ov, VARIANTS, judge_tijepa, METRIC, NOTES)


__all__ = ["TIJEPARecipe", "TIJEPAConfig", "build_objective", "evaluate_tijepa"]
