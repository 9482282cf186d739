"""Brain-JEPA (Dong et al., NeurIPS 2024): fMRI ROI x time-patch tokens, regions placed at their
connectivity gradients, spatio-temporal masks, latent prediction against an EMA target.

Tokens: each ROI's z-scored series cut into patches of ``model.patch`` TRs, one linear map
shared by all ROIs (``modalities.roi_series``). Positions (``model.positions``): ``gradient``
places each ROI at its first ``model.gradients`` diffusion-map gradients of the training
subjects' mean connectivity (``modalities.brain_gradients``), mapped by a learned linear layer
beside a fixed sin-cos of time (``pos=linear_sincos``); ``index`` gives the ROI's index instead
(``pos=learned``: a learned table; ``pos=sincos``). Masks (``mask.kind``): ``roi_time`` is the
paper's observation / cross-ROI / cross-time regions (``masks.roi_time_regions``);
``multiblock`` is I-JEPA's blocks on the same grid. Loss smooth-L1 (the code's; the paper says
MSE) on layer-normed EMA targets, with this library's EMA schedule and VC term.

Evaluation: the shared protocol (frozen mean-pooled tokens beside the random-init twin) on the
subjects' label, and the field's baseline: logistic regression on the upper triangle of each
subject's connectivity (Fisher z). Built-in data: generated subjects whose label weakens the
coupling inside one network (``data.fmri_data``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from omnijepa.data.fmri_data import (
    FMRIDataConfig,
    ROIDataset,
    connectivity_features,
    load_fmri_data,
)
from omnijepa.errors import ConfigError
from omnijepa.eval.feature_export import name_rows
from omnijepa.eval.frozen_probes import ProbeConfig
from omnijepa.eval.grid_mask_figure import draw_region_time_masks
from omnijepa.eval.learning_curve import make_curve_probe
from omnijepa.eval.protocol import evaluate_against_twin
from omnijepa.masks.collator import MaskCollator, batch_generator
from omnijepa.masks.mask_batch import MaskSampler
from omnijepa.masks.multiblock import MultiBlockConfig, MultiBlockMaskSampler
from omnijepa.masks.roi_time_regions import RoiTimeConfig, RoiTimeMaskSampler
from omnijepa.modalities.brain_gradients import (
    diffusion_gradients,
    functional_connectivity,
    scaled_positions,
)
from omnijepa.modalities.roi_series import ROIPatchTokenizer
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
from omnijepa.recipes.paired_checks import non_inferiority_judge
from omnijepa.recipes.repro_runs import run_latent_repro
from omnijepa.recipes.token_budget import check_tokens
from omnijepa.registry import Registry
from omnijepa.train.config import TrainConfig
from omnijepa.train.trainer import TrainParts


@dataclass
class ROIModelConfig(EncoderConfig):
    """Patches of ``patch`` TRs; ROI positions from ``gradients`` connectivity gradients
    (``positions=gradient``) or the ROI index (``positions=index``)."""

    patch: int = 16
    dim: int = 96
    depth: int = 4
    heads: int = 4
    pos: str = "linear_sincos"
    positions: str = "gradient"
    gradients: int = 8


@dataclass
class BrainMaskConfig:
    """``kind``: roi_time (the paper's regions) | multiblock (I-JEPA's blocks)."""

    kind: str = "roi_time"
    regions: RoiTimeConfig = field(default_factory=RoiTimeConfig)
    block: MultiBlockConfig = field(default_factory=MultiBlockConfig)


MASK_KINDS: Registry[Any] = Registry("fMRI mask kind (mask.kind)")
MASK_KINDS.add("roi_time", lambda grid, m: RoiTimeMaskSampler(grid, m.regions))
MASK_KINDS.add("multiblock", lambda grid, m: MultiBlockMaskSampler(grid, m.block))


@dataclass
class BrainJEPAConfig:
    """All keys of the ``brainjepa`` recipe."""

    seed: int = 0
    device: str = "auto"
    data: FMRIDataConfig = field(default_factory=FMRIDataConfig)
    model: ROIModelConfig = field(default_factory=ROIModelConfig)
    predictor: PredictorConfig = field(default_factory=lambda: PredictorConfig(dim=48, depth=2))
    mask: BrainMaskConfig = field(default_factory=BrainMaskConfig)
    loss: str = "smooth_l1"
    ema: TeacherConfig = field(default_factory=TeacherConfig)
    anti_collapse: AntiCollapseConfig = field(
        default_factory=lambda: AntiCollapseConfig(kind="vc", weight=1.0)
    )
    train: TrainConfig = field(
        # 200 steps: the repro's 3 arms x 3 seeds fit 10 minutes on 2 cores (400, 300 and 250
        # steps gave gaps over the twin of +23.5, +23.3 and +30.7 points; 250 took 605 s)
        default_factory=lambda: TrainConfig(steps=200, batch_size=32, probe_every=100)
    )
    eval: ProbeConfig = field(default_factory=ProbeConfig)
    position_probe: bool = False


def region_positions(cfg: BrainJEPAConfig, train_series: np.ndarray) -> np.ndarray | None:
    """The ROIs' coordinates: scaled gradients of the training subjects' connectivity, or
    ``None`` (the index) for ``model.positions=index``."""
    if cfg.model.positions == "index":
        return None
    if cfg.model.positions != "gradient":
        raise ConfigError(f"model.positions={cfg.model.positions!r}; use gradient or index")
    fc = functional_connectivity(train_series)
    return scaled_positions(diffusion_gradients(fc, cfg.model.gradients))


def build_objective(cfg: BrainJEPAConfig, positions: np.ndarray | None, shape: tuple[int, int]
                    ) -> LatentPrediction:  # fmt: skip
    """Tokenizer, encoder, predictor and EMA target (deterministic given ``cfg.seed``)."""
    torch.manual_seed(cfg.seed)
    regions, length = shape
    tok = ROIPatchTokenizer(regions, length, cfg.model.patch, cfg.model.dim, positions)
    return build_token_jepa(tok, cfg)


def build_sampler(cfg: BrainJEPAConfig, grid: tuple[int, int]) -> MaskSampler:
    return MASK_KINDS.get(cfg.mask.kind)(grid, cfg.mask)


def _patch_grid(cfg: BrainJEPAConfig, shape: tuple[int, int]) -> tuple[int, int]:
    if shape[1] < cfg.model.patch:
        raise ConfigError(
            f"series of {shape[1]} time points are shorter than one patch (model.patch="
            f"{cfg.model.patch})"
        )
    return shape[0], shape[1] // cfg.model.patch


class BrainJEPARecipe(Recipe):
    name = "brainjepa"
    raw_name = "the functional-connectivity baseline"
    summary = "Brain-JEPA: fMRI ROI x time tokens at connectivity gradients (Dong et al. 2024)"
    claim = (
        "frozen Brain-JEPA features beat the same ViT at its random-init weights by >= 10 "
        "points of linear-probe accuracy on the connectivity label (paired over seeds, "
        "p < 0.05); gradient positions are not worse than learned or sin-cos index positions "
        "by more than 2 points"
    )
    reference = {
        "note": "UKB/HCP-A/ADNI results in the paper's Tables 1-3; not comparable at this scale",
    }
    variants = [
        ("learned_positions", ["model.positions=index", "model.pos=learned"]),
        ("multiblock_masks", ["mask.kind=multiblock"]),
    ]

    def default_config(self) -> BrainJEPAConfig:
        return BrainJEPAConfig()

    def quick_overrides(self) -> list[str]:
        return [*TOKEN_QUICK, "model.gradients=3"]

    def build(self, cfg: BrainJEPAConfig, device: torch.device) -> Built:
        splits = load_fmri_data(cfg.data, cfg.seed)
        shape = tuple(splits["train"].series.shape[1:])
        grid = _patch_grid(cfg, shape)
        check_tokens(
            grid[0] * grid[1], device, f"{shape[0]} ROIs x {shape[1]} TRs",
            "raise model.patch, or cut the series shorter",
        )  # fmt: skip
        positions = region_positions(cfg, splits["train"].series)
        data = {k: ROIDataset(v) for k, v in splits.items()}
        name_rows(data["train"], splits["train"].sources, splits["train"].classes)  # for embed
        name_rows(data["test"], splits["test"].sources)
        collate = MaskCollator(build_sampler(cfg, grid), cfg.seed, steps=cfg.train.steps)

        def evaluate(trained: nn.Module) -> dict:
            twin = build_objective(cfg, positions, shape).eval_encoder().to(device)
            raw = lambda tr, te: (connectivity_features(tr), connectivity_features(te))  # noqa: E731
            return evaluate_against_twin(
                trained, twin, data["train"], data["test"], cfg.eval, device, cfg.seed, raw
            )

        probe = make_curve_probe(data["train"], data["test"], cfg.eval, device)
        parts = TrainParts(build_objective(cfg, positions, shape), data["train"], collate, probe)
        where = cfg.data.path or f"generated {cfg.data.name} subjects"
        desc = (
            f"fMRI {where}: {len(data['train'])}/{len(data['test'])} train/test subjects, "
            f"{shape[0]} ROIs x {shape[1]} TRs ({grid[0] * grid[1]} tokens), positions "
            f"{cfg.model.positions}"
        )
        return Built(parts, evaluate, desc)

    def draw_masks(self, cfg: BrainJEPAConfig, path: Path, n: int) -> None:
        """Masks of ``n`` samples on the ROI x time-patch grid."""
        shape = (cfg.data.regions, cfg.data.timepoints)
        grid = _patch_grid(cfg, shape)
        sampler = build_sampler(cfg, grid)
        context, targets = [], []
        for i in range(n):
            masks = sampler.sample(1, batch_generator(cfg.seed, i))
            context.append(masks.context[0])
            targets.append(masks.targets[0])
        title = f"Brain-JEPA {cfg.mask.kind} masks, {grid[0]} ROIs x {grid[1]} time patches"
        draw_region_time_masks(context, targets, grid, path, title)

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        ov = [*(self.quick_overrides() if quick else []), *overrides]
        notes = (
            "Generated subjects: VAR(1) neural activity in 6 networks of 48 ROIs, HRF, TR 2 s, "
            "80 TRs; the label weakens the coupling inside one network by 40%. Baseline: "
            "logistic regression on the connectivity upper triangle. Variants: ROI index "
            "positions (a learned table) and I-JEPA multi-block masks. Sin-cos index positions "
            "(model.positions=index model.pos=sincos) left the repro to fit 10 minutes."
        )
        judge = non_inferiority_judge({"learned_positions": 0.02}, "gradient positions")
        return run_latent_repro(self, out, seeds, ov, 0.10, notes, judge=judge)
