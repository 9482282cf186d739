"""Pieces shared by the image recipes: ViT config, encoder builder, evaluation protocol.

Evaluation follows I-JEPA: average-pool the evaluated encoder's tokens, then a frozen linear
probe and a kNN; a random-init encoder of the same architecture and the raw pixels are always
reported beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from omnijepa.data.image_data import (
    ImageData,
    ImageDataConfig,
    ImageTensorDataset,
    load_image_data,
    make_datasets,
)
from omnijepa.eval.collapse import collapse_report
from omnijepa.eval.features import pooled_features, raw_features
from omnijepa.eval.probes import has_labels, knn_probe, linear_probe
from omnijepa.modalities.image import PatchTokenizer
from omnijepa.nn.encoder import TokenEncoder
from omnijepa.recipes.base import Built
from omnijepa.train.trainer import TrainParts


@dataclass
class ViTConfig:
    """A small ViT over patch tokens (I-JEPA: fixed sin-cos positions, no CLS token)."""

    patch: int = 4
    dim: int = 128
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    pos: str = "sincos"

    def __post_init__(self) -> None:
        if self.dim % self.heads:
            raise ValueError(f"model.dim={self.dim} is not divisible by model.heads={self.heads}")
        if min(self.patch, self.depth, self.heads) < 1:
            raise ValueError("model.patch, model.depth and model.heads must be >= 1")


@dataclass
class EvalConfig:
    """Frozen-feature evaluation settings."""

    knn_k: int = 20
    probe_max_iter: int = 100
    online_probe_train: int = 2000  # samples used by the online probe during training
    online_probe_test: int = 1000
    batch_size: int = 256


def build_vit(model: ViTConfig, data: ImageDataConfig) -> TokenEncoder:
    """Patch tokenizer + transformer encoder for ``data.image_size`` images."""
    tok = PatchTokenizer(data.channels, model.patch, model.dim, data.image_size)
    return TokenEncoder(tok, model.depth, model.heads, model.mlp_ratio, model.pos)


def _subset(ds: ImageTensorDataset, n: int) -> torch.utils.data.Dataset:
    return torch.utils.data.Subset(ds, range(min(n, len(ds))))


def probe_scores(
    train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray], cfg: EvalConfig
) -> dict[str, float]:
    """Linear-probe and kNN accuracy for one feature set."""
    return {
        "linear_probe": linear_probe(*train, *test, max_iter=cfg.probe_max_iter),
        "knn": knn_probe(*train, *test, k=cfg.knn_k),
    }


def split_features(
    encoder: nn.Module,
    train_ds: torch.utils.data.Dataset,
    test_ds: torch.utils.data.Dataset,
    cfg: EvalConfig,
    device: torch.device,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Pooled (features, labels) of the train and the test split."""
    return (
        pooled_features(encoder, train_ds, device, cfg.batch_size),
        pooled_features(encoder, test_ds, device, cfg.batch_size),
    )


def evaluate_encoders(
    encoder: nn.Module,
    random_encoder: nn.Module,
    train_ds: ImageTensorDataset,
    test_ds: ImageTensorDataset,
    cfg: EvalConfig,
    device: torch.device,
) -> dict:
    """Probe the trained encoder, a random-init twin, and raw pixels; report collapse stats."""
    tr, te = split_features(encoder, train_ds, test_ds, cfg, device)
    result: dict = {"collapse": collapse_report(te[0])}
    if not has_labels(tr[1], te[1]):
        return result
    rtr, rte = split_features(random_encoder, train_ds, test_ds, cfg, device)
    scores = {
        "jepa": probe_scores(tr, te, cfg),
        "random_init": probe_scores(rtr, rte, cfg),
        "raw": probe_scores(raw_features(train_ds), raw_features(test_ds), cfg),
    }
    for metric in ("linear_probe", "knn"):
        result[metric] = {name: s[metric] for name, s in scores.items()}
    labels = te[1][te[1] >= 0]
    result["linear_probe"]["chance"] = float(np.bincount(labels).max() / len(labels))
    return result


def evaluate_head(
    head: nn.Module,
    train_ds: ImageTensorDataset,
    test_ds: ImageTensorDataset,
    cfg: EvalConfig,
    device: torch.device,
) -> dict:
    """Collapse statistics and linear probe of an objective's output embedding."""
    tr, te = split_features(head, train_ds, test_ds, cfg, device)
    result: dict = {"collapse": collapse_report(te[0])}
    if has_labels(tr[1], te[1]):
        result["linear_probe"] = linear_probe(*tr, *te, max_iter=cfg.probe_max_iter)
    return result


def make_online_probe(
    train_ds: ImageTensorDataset,
    test_ds: ImageTensorDataset,
    cfg: EvalConfig,
    device: torch.device,
) -> Callable[[nn.Module], dict[str, float]]:
    """A callback for the trainer: quick linear probe on small subsets of the data."""
    tr_sub, te_sub = (
        _subset(train_ds, cfg.online_probe_train),
        _subset(test_ds, cfg.online_probe_test),
    )

    def probe(encoder: nn.Module) -> dict[str, float]:
        tr, te = split_features(encoder, tr_sub, te_sub, cfg, device)
        if not has_labels(tr[1], te[1]):
            return {}
        return {"online_probe_acc": linear_probe(*tr, *te, max_iter=100)}

    return probe


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
    probe = make_online_probe(train_ds, test_ds, cfg.eval, device)

    def evaluate(trained: nn.Module) -> dict:
        random_init = make_objective().eval_encoder().to(device)
        result = evaluate_encoders(
            trained.eval_encoder(), random_init, train_ds, test_ds, cfg.eval, device
        )
        if hasattr(trained, "embedding_head"):
            result["projection"] = evaluate_head(
                trained.embedding_head(), train_ds, test_ds, cfg.eval, device
            )
        return result

    parts = TrainParts(make_objective(), train_ds, collate, probe)
    return Built(parts, evaluate, describe(data))


def probe_checks(linear_probe: dict[str, Any], margin: float = 0.10) -> dict[str, bool]:
    """The image recipes' shared claim: JEPA >= random init + margin, and > raw pixels."""
    jepa = linear_probe["jepa"]["mean"]
    return {
        f"jepa beats random init by >= {margin:.2f}": jepa - linear_probe["random_init"]["mean"]
        >= margin,
        "jepa beats raw pixels": jepa > linear_probe["raw"]["mean"],
    }
