"""LeJEPA (Balestriero & LeCun 2025): multi-view invariance + SIGReg, no EMA, no stop-grad.

Views are random resized crops (2 global at full size and 2 local at 16 px by default; the
paper uses 2 + 6, fewer here to fit a CPU budget) with flips, brightness/contrast jitter and
blur (``views.photometric``; no colour here: the built-in data are grey). The backbone is a
small conv net by default (``model.backbone=conv``; ``vit`` for the image recipes' ViT, which
the paper's headline uses): LeJEPA's objective reads only pooled outputs, its paper trains
ResNets and ConvNeXts too, and at this budget the conv net is the one whose features pre-training
lifts well above its random init (README, LeJEPA). The backbone's pooled output goes through a
BatchNorm MLP projector; every view's projection is
pulled to the mean of the global views, and SIGReg (sliced Epps-Pulley, directions redrawn
each step) keeps the projections close to an isotropic Gaussian so they cannot collapse.
loss = lam * SIGReg + (1 - lam) * invariance with lam = 0.05 as in the paper's README.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from omnijepa.data.image_data import ImageDataConfig, make_datasets
from omnijepa.data.image_loading import load_image_data
from omnijepa.errors import ConfigError
from omnijepa.eval.significance import threshold
from omnijepa.modalities.image_views import MultiViewCollate, ViewConfig
from omnijepa.modalities.photometric import PhotometricConfig
from omnijepa.nn.projector import Projector
from omnijepa.objectives.multiview_sigreg import MultiViewSIGReg
from omnijepa.objectives.sigreg import SIGReg
from omnijepa.recipes.base import Built, Recipe
from omnijepa.recipes.image_backbones import (
    BackboneConfig,
    build_backbone,
    check_backbone_fits,
    warn_unused_keys,
)
from omnijepa.recipes.image_common import VIT_QUICK, EvalConfig, build_image_run
from omnijepa.recipes.paired_checks import beats_reference, headline, twin_gaps
from omnijepa.recipes.parallel_runs import run_jobs, seed_jobs
from omnijepa.recipes.repro_report import write_repro
from omnijepa.recipes.repro_runs import run_description
from omnijepa.recipes.summary import aggregate
from omnijepa.train.config import TrainConfig


@dataclass
class SIGRegConfig:
    """The LeJEPA objective's knobs."""

    lam: float = 0.05  # SIGReg weight; 0 leaves only the invariance term (collapses)
    num_slices: int = 256
    t_max: float = 3.0
    n_points: int = 17
    proj_hidden: int = 512
    proj_dim: int = 64

    def __post_init__(self) -> None:
        if not 0.0 <= self.lam <= 1.0:
            raise ValueError(f"objective.lam must be in [0, 1], got {self.lam}")
        for key in ("num_slices", "n_points", "proj_hidden", "proj_dim"):
            if getattr(self, key) < 1:
                raise ValueError(f"objective.{key} must be >= 1, got {getattr(self, key)}")
        if self.t_max <= 0:
            raise ValueError(f"objective.t_max must be > 0, got {self.t_max}")


@dataclass
class LeJEPAConfig:
    """All keys of the ``lejepa`` recipe."""

    seed: int = 0
    device: str = "auto"
    # a 32 px canvas and 16 px local views: chosen with the ViT over 40 px and 24 px (3 seeds,
    # C grid then capped at 100: linear +9.5 / kNN +12.9 against +8.5 / +5.9), cheaper per step
    data: ImageDataConfig = field(
        default_factory=lambda: ImageDataConfig(train_size=5000, image_size=32)
    )
    # a small conv net by default (model.backbone=vit for the ViT): over 3 seeds its linear probe
    # reads +11.2 +- 1.6 points above its random init where the ViT's reads +4.0 (README, LeJEPA)
    model: BackboneConfig = field(default_factory=lambda: BackboneConfig(dim=96))
    # the paper's views are crops plus photometric jitter and blur; with them (3 seeds) the
    # linear probe rose by +3.1 / +1.0 / +0.7 points over crops and flips alone
    views: ViewConfig = field(
        default_factory=lambda: ViewConfig(
            num_local=2,
            local_size=16,
            photometric=PhotometricConfig(jitter_p=0.8, blur_p=0.5),
        )
    )
    objective: SIGRegConfig = field(default_factory=SIGRegConfig)
    # 400 steps: the conv backbone's step is cheaper than the ViT's; seed 2 read +12.2 at 400
    # and +13.1 at 500 against its twin
    train: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            steps=400,
            batch_size=64,
            lr=2e-3,
            start_lr=1e-5,
            final_lr=2e-6,
            weight_decay=(0.05, 0.05),
            probe_every=50,
        )
    )
    eval: EvalConfig = field(default_factory=EvalConfig)


def build_objective(cfg: LeJEPAConfig) -> MultiViewSIGReg:
    """Backbone, projector and SIGReg for ``cfg`` (deterministic given ``cfg.seed``)."""
    torch.manual_seed(cfg.seed)
    encoder = build_backbone(cfg.model, cfg.data)
    o = cfg.objective
    projector = Projector(cfg.model.out_dim, o.proj_hidden, o.proj_dim)
    sigreg = SIGReg(o.num_slices, o.t_max, o.n_points)
    return MultiViewSIGReg(encoder, projector, sigreg, o.lam, cfg.views.num_global)


class LeJEPARecipe(Recipe):
    name = "lejepa"
    summary = "LeJEPA: images, multi-crop views, SIGReg instead of EMA (Balestriero & LeCun 2025)"
    claim = (
        "frozen LeJEPA features beat the same backbone at random init by >= 10 points of "
        "linear-probe accuracy and beat raw pixels on canvas Fashion-MNIST; with the SIGReg "
        "weight at 0 the embedding (projector output) collapses (std -> 0, probe near chance) "
        "and with the default it does not"
    )
    reference = {
        "imagenet_linear_top1": {"ViT-H/14": 79.0},
        "imagenette_linear_minimal_vits8": 90.7,
        "few_shot_8_datasets_vitl_in1k_100ep": {"1-shot": 29.55, "10-shot": 60.95, "all": 79.48},
    }

    def default_config(self) -> LeJEPAConfig:
        return LeJEPAConfig()

    def quick_overrides(self) -> list[str]:
        return [
            *(o for o in VIT_QUICK if not o.startswith("model.")),  # the ViT's keys: unused
            "objective.proj_hidden=32",
            "objective.proj_dim=8",
            "objective.num_slices=16",
            "views.num_local=2",
            "model.widths=[8,8,16]",
        ]

    def build(self, cfg: LeJEPAConfig, device: torch.device) -> Built:
        check_backbone_fits(cfg.model, {"views.local_size": cfg.views.local_size}, cfg.eval.layers)
        warn_unused_keys(cfg.model, self.default_config().model)
        if cfg.views.num_local and cfg.views.local_size > cfg.data.image_size:
            raise ConfigError(
                f"views.local_size={cfg.views.local_size} is larger than the global views "
                f"(data.image_size={cfg.data.image_size}); local crops are the small views"
            )
        collate = MultiViewCollate(cfg.views, cfg.data.image_size, cfg.seed)
        return build_image_run(cfg, device, lambda: build_objective(cfg), collate)

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        t0 = time.perf_counter()
        ov = [*(self.quick_overrides() if quick else []), *overrides]
        jobs = seed_jobs(self, ov, seeds, out, "seed")
        jobs += seed_jobs(self, [*ov, "objective.lam=0"], 1, out, "lam0_seed")
        *runs, lam0 = run_jobs(jobs)  # one pool: the ablation runs beside the seeds
        metrics = aggregate(runs)
        metrics["gaps_vs_random_init"] = twin_gaps(runs)
        ablation = aggregate([lam0])
        metrics["lam0"] = ablation
        lp = metrics["linear_probe"]
        chance = lp["chance"]["mean"]
        proj, proj0 = metrics["projection"], ablation["projection"]
        std_default = proj["collapse"]["feature_std"]["mean"]
        checks = [
            beats_reference(runs, "linear_probe", "random_init", 0.10, "lejepa")[0],
            beats_reference(runs, "linear_probe", "raw", 0.0, "lejepa")[0],
            threshold(
                "lam=0 collapses: projection std < 0.05 x default's",
                proj0["collapse"]["feature_std"]["mean"], "<", 0.05 * std_default,
                "lam=0 projection std",
            ),
            threshold(
                "lam=0 collapses: projection probe within 0.10 of chance",
                proj0["linear_probe"]["mean"], "<", chance + 0.10, "lam=0 projection probe",
            ),
            threshold(
                "default does not collapse: projection effective rank > 50% of its width",
                proj["collapse"]["rankme_ratio"]["mean"], ">", 0.5, "RankMe / width",
            ),
        ]  # fmt: skip
        notes = (
            "Collapse is judged on the projector output, the embedding SIGReg and the invariance "
            "term act on. With lam=0 its std falls to "
            f"{proj0['collapse']['feature_std']['mean']:.4f} "
            f"(default {std_default:.3f}), yet a standardised linear probe on it still reaches "
            f"{proj0['linear_probe']['mean']:.3f}: standardisation rescales the shrunken "
            "dimensions, so std -> 0 is not the same as information -> 0 until it reaches "
            "numerical zero. The backbone's pooled features keep "
            f"{ablation['collapse']['feature_std']['mean']:.3f} std and probe at "
            f"{ablation['linear_probe']['jepa']['mean']:.3f} (random init "
            f"{ablation['linear_probe']['random_init']['mean']:.3f}): once the projector output "
            "is nearly constant, little gradient reaches the backbone, which stays near its init."
        )
        top = headline(metrics, "linear_probe", run_description(out, "seed"))
        return write_repro(self, out, metrics, checks, t0, notes, top)

    def draw_masks(self, cfg: LeJEPAConfig, path: Path, n: int) -> None:
        from omnijepa.eval.view_figure import draw_views

        data = load_image_data(cfg.data, cfg.seed)
        train_ds, _ = make_datasets(data)
        batch = MultiViewCollate(cfg.views, cfg.data.image_size, cfg.seed)(
            [train_ds[i] for i in range(n)], 0
        )
        draw_views(batch["x"], batch["views"], cfg.views.num_global, path)
