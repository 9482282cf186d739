"""Time-series JEPA: the worked example of adding a modality (README, "Adding a modality").

Everything modality-specific is in three files: the window tokenizer
(``modalities/series.py``), the data (``data/series_data.py``) and this recipe. The rest is
the shared core: multi-block masks on the 1-D grid of windows, the token encoder and
predictor, latent prediction against an EMA target with the VC anti-collapse term, the
trainer, and the one evaluation protocol (trained encoder vs its random-init twin vs raw
samples). Series of different lengths batch through the padding mask: padded windows are
never attended to, never predicted, never pooled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from omnijepa.data.series_data import (
    PaddedSeriesDataset,
    SeriesDataConfig,
    load_series_data,
    padded_length,
)
from omnijepa.eval.feature_export import name_rows
from omnijepa.eval.features import raw_features
from omnijepa.eval.frozen_probes import ProbeConfig
from omnijepa.eval.learning_curve import make_curve_probe
from omnijepa.eval.mask_figure import draw_feature_masks
from omnijepa.eval.protocol import evaluate_against_twin
from omnijepa.masks.collator import MaskCollator, batch_generator
from omnijepa.masks.multiblock import MultiBlockConfig, MultiBlockMaskSampler
from omnijepa.modalities.series import SeriesWindowTokenizer
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
class SeriesModelConfig(EncoderConfig):
    """Window tokenizer (``window`` samples per token) and the encoder over windows."""

    window: int = 8
    dim: int = 64
    depth: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.window < 1:
            raise ValueError(f"model.window is samples per token, >= 1; got {self.window}")


@dataclass
class SeriesJEPAConfig:
    """All keys of the ``series_jepa`` recipe."""

    seed: int = 0
    device: str = "auto"
    data: SeriesDataConfig = field(default_factory=SeriesDataConfig)
    model: SeriesModelConfig = field(default_factory=SeriesModelConfig)
    predictor: PredictorConfig = field(default_factory=lambda: PredictorConfig(dim=32))
    mask: MultiBlockConfig = field(
        default_factory=lambda: MultiBlockConfig(target_scale=(0.1, 0.15))
    )  # 4 runs of 10-15% of the windows; the context is the rest of one long run
    loss: str = "smooth_l1"
    ema: TeacherConfig = field(default_factory=TeacherConfig)
    anti_collapse: AntiCollapseConfig = field(
        default_factory=lambda: AntiCollapseConfig(kind="vc", weight=1.0)
    )
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(steps=300, batch_size=64, probe_every=50)
    )
    eval: ProbeConfig = field(default_factory=ProbeConfig)
    position_probe: bool = False  # diagnostic predictor that sees only the target positions


def build_objective(cfg: SeriesJEPAConfig) -> LatentPrediction:
    """Tokenizer, encoder, predictor and EMA target (deterministic given ``cfg.seed``)."""
    torch.manual_seed(cfg.seed)
    m = cfg.model
    windows = padded_length(cfg.data, m.window) // m.window
    tok = SeriesWindowTokenizer(cfg.data.channels, m.window, m.dim, max_windows=windows)
    return build_token_jepa(tok, cfg)


class SeriesJEPARecipe(Recipe):
    name = "series_jepa"
    summary = "time series of any length: window tokens, padding masks, multi-block JEPA"
    claim = (
        "frozen features of the trained encoder beat the same encoder at its random-init "
        "weights by >= 3 points of linear-probe accuracy on the 8 generated waveform classes "
        "(paired over seeds, p < 0.05); the EMA teacher beats a frozen random one, and the "
        "latent prediction adds to the VC term (the default beats the encoder trained by the "
        "VC term alone)"
    )
    reference: dict[str, Any] = {}
    variants = [
        ("frozen_teacher", ["ema.mode=frozen"]),  # the random-teacher control
        ("vc_alone", ["anti_collapse.alone=true"]),  # does the prediction teach anything?
    ]

    def default_config(self) -> SeriesJEPAConfig:
        return SeriesJEPAConfig()

    def quick_overrides(self) -> list[str]:
        return list(TOKEN_QUICK)

    def build(self, cfg: SeriesJEPAConfig, device: torch.device) -> Built:
        data = load_series_data(cfg.data, cfg.seed)
        length = padded_length(cfg.data, cfg.model.window)
        train_ds = PaddedSeriesDataset(data.train, length)
        test_ds = PaddedSeriesDataset(data.test, length)
        name_rows(train_ds, data.train.files, data.class_names)  # for `embed`
        name_rows(test_ds, data.test.files)
        sampler = MultiBlockMaskSampler((length // cfg.model.window,), cfg.mask)
        collate = MaskCollator(sampler, cfg.seed, steps=cfg.train.steps)

        def evaluate(trained: nn.Module) -> dict:
            twin = build_objective(cfg).eval_encoder().to(device)
            # the raw baseline: samples with the padding read as 0
            raw = lambda tr, te: (_raw_without_nan(tr), _raw_without_nan(te))  # noqa: E731
            return evaluate_against_twin(
                trained, twin, train_ds, test_ds, cfg.eval, device, cfg.seed, raw
            )

        probe = make_curve_probe(train_ds, test_ds, cfg.eval, device)
        parts = TrainParts(build_objective(cfg), train_ds, collate, probe)
        return Built(parts, evaluate, data.source)

    def draw_masks(self, cfg: SeriesJEPAConfig, path: Path, n: int) -> None:
        windows = padded_length(cfg.data, cfg.model.window) // cfg.model.window
        masks = MultiBlockMaskSampler((windows,), cfg.mask).sample(n, batch_generator(cfg.seed, 0))
        title = f"series_jepa masks on {windows} windows"
        draw_feature_masks(masks.context, masks.targets, windows, path, title)

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        ov = [*(self.quick_overrides() if quick else []), *overrides]
        notes = (
            "The worked example of a new modality; probes as in every recipe (the EMA target "
            "encoder decides). frozen_teacher keeps the target at its random init and is "
            "judged by its online encoder."
        )
        return run_latent_repro(self, out, seeds, ov, 0.03, notes)


def _raw_without_nan(ds: Dataset) -> Any:
    x, y = raw_features(ds)
    x[x != x] = 0.0  # NaN padding -> 0
    return x, y
