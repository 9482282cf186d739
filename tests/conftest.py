"""Shared fixtures: smoke-sized config overrides and one finished tiny run per session.

Everything here runs on the CPU in seconds: 16x16 canvas digits (scikit-learn, always
available), 4x4 patches (16 tokens), a 1-block width-32 ViT and a width-16 predictor.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from omnijepa.recipes.ijepa import VIT_SETTINGS


def pytest_configure(config: pytest.Config) -> None:
    # One intra-op thread: these models are tiny, and on a busy 2-core machine two OpenMP
    # threads contend so badly that a 4-step run goes from ~0.1 s to several seconds.
    # Results are the same either way (checked for the golden losses in test_training).
    torch.set_num_threads(1)
    # A repro's runs go one after another in the test's own process: beside the other xdist
    # worker, a pool of spawned workers only oversubscribed the cores and paid each worker's
    # imports (a quick repro took 2.5x as long). tests/test_parallel_runs.py sets its own.
    os.environ.setdefault("OMNIJEPA_REPRO_JOBS", "1")


# Trainer and probe settings shared by the image and series smoke runs.
TRAIN_EVAL_TINY = [
    "train.batch_size=16",
    "train.steps=4",
    "train.progress=false",
    "eval.max_iter=200",
    "eval.c_grid=[1.0]",
    "eval.few_shot=[2]",
    "eval.knn_k=5",
]

# Data + backbone + trainer settings valid for every image recipe.
COMMON_TINY = [
    "device=cpu",
    "data.name=canvas_digits",
    "data.image_size=16",
    "data.train_size=64",
    "data.test_size=32",
    "model.patch=4",
    "model.dim=32",
    "model.depth=1",
    "model.heads=2",
    *TRAIN_EVAL_TINY,
]

# Recipe-specific knobs that shrink the rest of the model.
RECIPE_TINY = {
    "ijepa": ["predictor.dim=16", "predictor.depth=1", "predictor.heads=2"],
    "lejepa": [
        "objective.proj_hidden=32",
        "objective.proj_dim=8",
        "objective.num_slices=16",
        "views.num_local=2",
        "views.local_size=8",
    ],
}


# Tabular recipes: a 120-row slice of breast_cancer, a 1-block width-16 encoder.
TABULAR_TINY = [
    "device=cpu",
    "data.name=breast_cancer",
    "data.max_rows=120",
    "model.dim=16",
    "model.depth=1",
    "model.heads=2",
    "predictor.dim=8",
    "predictor.depth=1",
    "train.batch_size=16",
    "train.steps=4",
    "train.progress=false",
    "eval.mlp=false",
]
# Point-cloud recipes: 4 clouds per class of 64 points, 8 groups of 8, a width-32 encoder.
POINT_TINY = [
    "device=cpu",
    "data.train_per_class=4",
    "data.test_per_class=4",
    "data.num_points=64",
    "model.num_groups=8",
    "model.group_size=8",
    "model.dim=32",
    "model.depth=1",
    "model.heads=2",
    "predictor.dim=16",
    "predictor.depth=1",
    "predictor.heads=2",
    "train.batch_size=8",
    "train.steps=4",
    "train.progress=false",
    "eval.few_shot_shot=2",
    "eval.few_shot_queries=2",
    "eval.few_shot_episodes=2",
]
# Time series: 48 generated series of 16-64 samples, windows of 8, a width-32 encoder.
SERIES_TINY = [
    "device=cpu",
    "data.train_size=48",
    "data.test_size=24",
    "data.length=[16,64]",
    "data.max_length=64",
    "model.dim=32",
    "model.depth=1",
    "model.heads=2",
    "predictor.dim=16",
    "predictor.heads=2",
    *TRAIN_EVAL_TINY,
]
# Audio: 240 spoken words in one accent (12 voices), 16 mel bands, 8 x 8 patches.
AUDIO_TINY = [
    "device=cpu",
    "data.accents=[en-us]",
    "data.speeds=[160]",
    "data.pitches=[50]",
    "data.front_end.n_mels=16",
    "model.patch_time=8",
    "model.patch_freq=8",
    "model.dim=32",
    "model.depth=1",
    "model.heads=2",
    "predictor.dim=16",
    "predictor.depth=1",
    "predictor.heads=2",
    *TRAIN_EVAL_TINY,
]
# EEG: 64 generated trials on 19 channels, 2 s at 64 Hz, windows of 32 samples.
EEG_TINY = [
    "device=cpu",
    "heads.epochs=2",
    "heads.warmup=1",
    "heads.train_per_class=8",
    "heads.test_size=16",
    "data.train_size=64",
    "data.test_size=32",
    "data.sfreq=64",
    "model.dim=32",
    "model.depth=1",
    "model.heads=2",
    "predictor.dim=16",
    "predictor.heads=2",
    *TRAIN_EVAL_TINY,
]
FMRI_TINY = [
    "device=cpu",
    "data.train_size=32",
    "data.test_size=16",
    "data.regions=12",
    "data.networks=3",
    "data.timepoints=32",
    "model.patch=8",
    "model.gradients=3",
    "model.dim=32",
    "model.depth=1",
    "model.heads=2",
    "predictor.dim=16",
    "predictor.heads=2",
    *TRAIN_EVAL_TINY,
]

VIDEO_TINY = [
    "device=cpu",
    "data.train_size=48",
    "data.test_size=24",
    "data.frames=4",
    "data.size=16",
    "data.item=8",
    "model.dim=32",
    "model.depth=1",
    "model.heads=2",
    "predictor.dim=16",
    "predictor.heads=2",
    *TRAIN_EVAL_TINY,
]

MCJEPA_TINY = [
    "device=cpu",
    "data.size=32",
    "data.train_pairs=24",
    "data.test_pairs=6",
    "scenes.train_scenes=24",
    "scenes.test_scenes=12",
    "scenes.item_side=[10,16]",
    "model.widths=[8,8,16,16]",
    *TRAIN_EVAL_TINY,
]

# UI-JEPA: 16 recordings of 8 frames at 32 px, one decoder-training episode per intent.
UIJEPA_TINY = [
    "device=cpu", "data.frames=8", "data.size=32", "data.pretrain_episodes=16", "data.shots=1",
    "data.test_per_intent=1", "model.dim=32", "model.depth=1", "model.heads=2",
    "model.tubelet=2", "predictor.dim=16", "predictor.heads=2", "decoder.steps=4",
    "decoder.dim=16", "eval.similarity=tfidf", "train.batch_size=4", "train.steps=4",
    "train.progress=false",
]  # fmt: skip

# TI-JEPA: 48 / 24 captioned 32 px scenes, a 4-step I-JEPA image side, the tweets text side.
TIJEPA_TINY = [
    "device=cpu", "data.size=32", "data.train_size=48", "data.test_size=24",
    "image.vit.dim=32", "image.vit.depth=1", "image.vit.heads=2", "image.predictor.dim=16",
    "image.predictor.heads=2", "image.train.steps=4", "image.train.batch_size=8",
    "image.train.progress=false", "text.kind=tweets", "text.steps=4", "text.vocab=300",
    "text.corpus=500", "text.dim=32", "model.dim=32", "model.depth=1", "model.heads=2",
    "predictor.dim=16", "predictor.heads=2", "predictor.depth=1", "train.batch_size=8",
    "train.steps=4", "train.progress=false",
]  # fmt: skip

# ACT-JEPA: 4 + 2 Reacher demonstrations of 12 steps, a width-32 policy, 3 rollouts.
ACTJEPA_TINY = [
    "device=cpu", "data.episodes=4", "data.heldout_episodes=2", "data.steps=12",
    "model.dim=32", "model.depth=1", "model.heads=2", "model.chunk=3", "model.history=2",
    "model.predictor_dim=16", "model.predictor_depth=1", "eval.episodes=3",
    "eval.probe_steps=5", "eval.pictures=2", "train.batch_size=16", "train.steps=4",
    "train.progress=false",
]  # fmt: skip

# LeJEPA and I-JEPA train a conv net by default, where the ViT's keys of COMMON_TINY would go
# unused (and be warned about); "lejepa:vit" / "ijepa:vit" are the same recipes on the ViT.
VIT_KEYS = ["model.patch=4", "model.dim=32", "model.depth=1", "model.heads=2"]

MODALITY_TINY = {
    "lejepa": [*(o for o in COMMON_TINY if o not in VIT_KEYS), "model.widths=[8,8,16]"],
    "lejepa:vit": [*COMMON_TINY, "model.backbone=vit"],
    # I-JEPA's default is the sparse conv net too; "ijepa:vit" is the ViT with the settings
    # that were its default until session 24 (VC on every token, no crops or invariance)
    "ijepa": [*(o for o in COMMON_TINY if o not in VIT_KEYS), "model.widths=[8,8,16]"],
    "ijepa:vit": [*COMMON_TINY, *VIT_SETTINGS],
    "tjepa": TABULAR_TINY, "pointjepa": POINT_TINY, "3djepa": POINT_TINY,
    "series_jepa": SERIES_TINY, "ajepa": AUDIO_TINY, "sjepa": EEG_TINY,
    "brainjepa": FMRI_TINY,
    "vjepa": VIDEO_TINY, "mcjepa": MCJEPA_TINY, "uijepa": UIJEPA_TINY, "tijepa": TIJEPA_TINY,
    "actjepa": ACTJEPA_TINY,
}  # fmt: skip


def tiny(recipe: str, *extra: str) -> list[str]:
    """Smoke-sized overrides for ``recipe`` followed by ``extra`` (later keys win);
    ``NAME:VARIANT`` (``lejepa:vit``) takes NAME's recipe keys on VARIANT's data and model."""
    name = recipe.split(":")[0]
    return [*MODALITY_TINY.get(recipe, COMMON_TINY), *RECIPE_TINY.get(name, []), *extra]


@pytest.fixture(scope="session")
def tiny_overrides() -> Callable[..., list[str]]:
    """``tiny_overrides("ijepa", "train.steps=2")`` -> a fresh list of key=value overrides."""
    return tiny


@pytest.fixture(scope="session")
def common_tiny() -> list[str]:
    """The recipe-independent part of the smoke overrides (filter by the recipe's keys)."""
    return list(COMMON_TINY)


@pytest.fixture(scope="session")
def _finished_ijepa_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from omnijepa.recipes import RECIPES
    from omnijepa.recipes.run import train_run

    out = tmp_path_factory.mktemp("finished") / "ijepa_run"
    train_run(RECIPES.get("ijepa"), tiny("ijepa"), out)
    return out


@pytest.fixture
def finished_run(_finished_ijepa_run: Path, tmp_path: Path) -> Path:
    """A private copy of a finished tiny ijepa run directory (tests may damage it)."""
    dst = tmp_path / "run"
    shutil.copytree(_finished_ijepa_run, dst)
    return dst
