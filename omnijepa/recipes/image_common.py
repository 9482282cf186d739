"""Pieces shared by the image recipes: ViT config, encoder builder, evaluation protocol.

Evaluation is the shared protocol (``eval.protocol``): frozen pooled features of the trained
encoder(s), the same ViT at its exact starting weights and the raw pixels, through the same
probes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from omnijepa.data.image_data import (
    ImageData,
    ImageDataConfig,
    ImageTensorDataset,
    make_datasets,
)
from omnijepa.data.image_loading import load_image_data
from omnijepa.errors import ConfigError
from omnijepa.eval.collapse import collapse_report
from omnijepa.eval.features import raw_features
from omnijepa.eval.frozen_probes import ProbeConfig, labeled, linear_accuracy, zscore
from omnijepa.eval.learning_curve import make_curve_probe
from omnijepa.eval.protocol import encoder_splits, evaluate_against_twin, has_labels
from omnijepa.modalities.image import PatchTokenizer
from omnijepa.nn.encoder import TokenEncoder
from omnijepa.recipes.base import Built
from omnijepa.recipes.model_configs import EncoderConfig
from omnijepa.train.trainer import TrainParts


@dataclass
class ViTConfig(EncoderConfig):
    """A small ViT over patch tokens (I-JEPA: fixed sin-cos positions, no CLS token)."""

    patch: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.patch < 1:
            raise ConfigError(f"model.patch must be >= 1, got {self.patch}")


@dataclass
class EvalConfig(ProbeConfig):
    """Frozen-feature evaluation of image encoders (``eval.*``): the shared protocol."""


# a tiny ViT on a few images: the shared part of the image recipes' --quick overrides
VIT_QUICK = [
    "train.steps=4",
    "train.batch_size=16",
    "data.train_size=64",
    "data.test_size=32",
    "model.dim=32",
    "model.depth=1",
    "model.heads=2",
]


def build_vit(model: ViTConfig, data: ImageDataConfig) -> TokenEncoder:
    """Patch tokenizer + transformer encoder for ``data.image_size`` images."""
    tok = PatchTokenizer(data.channels, model.patch, model.dim, data.image_size)
    return TokenEncoder(tok, model.depth, model.heads, model.mlp_ratio, model.pos)


def evaluate_head(
    head: nn.Module,
    train_ds: ImageTensorDataset,
    test_ds: ImageTensorDataset,
    cfg: EvalConfig,
    device: torch.device,
    seed: int,
) -> dict:
    """Collapse statistics and linear probe of an objective's output embedding (one
    vector per sample: ``eval.layers`` and ``eval.pool`` concern the backbone, not it)."""
    one = dataclasses.replace(cfg, layers=1)
    tr, te = encoder_splits(head, train_ds, test_ds, one, device, pool="mean")
    result: dict = {"collapse": collapse_report(te[0])}
    if has_labels(tr, te):
        z_tr, z_te = zscore(labeled(tr), labeled(te))
        result["linear_probe"] = linear_accuracy(z_tr, z_te, cfg, seed)[0]
    return result


def describe(data: ImageData) -> str:
    """One line about the loaded data."""
    return (
        f"{data.source}: {len(data.train)} train / {len(data.test)} test, "
        f"{len(data.classes)} classes"
    )


def build_image_run(
    cfg: Any,
    device: torch.device,
    make_objective: Callable[[], nn.Module],
    collate: Callable[[list[Any], int], dict],
) -> Built:
    """Load ``cfg.data``, build the objective, and evaluate against a random-init twin.

    ``make_objective`` must be deterministic given ``cfg.seed``: called again at evaluation,
    it yields the untrained encoder the trained one started from.
    """
    data = load_image_data(cfg.data, cfg.seed)
    train_ds, test_ds = make_datasets(data)
    probe = make_curve_probe(train_ds, test_ds, cfg.eval, device)

    def evaluate(trained: nn.Module) -> dict:
        twin = make_objective().eval_encoder().to(device)
        raw = lambda tr, te: (raw_features(tr), raw_features(te))  # noqa: E731  raw pixels
        result = evaluate_against_twin(
            trained, twin, train_ds, test_ds, cfg.eval, device, cfg.seed, raw
        )
        if hasattr(trained, "embedding_head"):
            result["projection"] = evaluate_head(
                trained.embedding_head(), train_ds, test_ds, cfg.eval, device, cfg.seed
            )
        return result

    parts = TrainParts(make_objective(), train_ds, collate, probe)
    return Built(parts, evaluate, describe(data))
