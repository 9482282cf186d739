"""Supervised training and exact-match evaluation shared by the copying and arithmetic labs.

Training goes through the library's one training loop (``train/``), so a lab run has a run
directory (metrics.jsonl, checkpoint) and runs on a GPU like every recipe.

A batch is ``(inputs (B, T), targets (B, T))`` with ``IGNORE`` (-100) where nothing is scored.
String accuracy is exact match of ``argmax`` over every scored position of a row (under
teacher forcing, which for exact match equals greedy decoding); character accuracy is the
fraction of scored positions that are right.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch import nn
from torch.utils.data import Dataset

from omnijepa.config import to_dict
from omnijepa.train.checkpoint import atomic_write_text
from omnijepa.train.config import TrainConfig
from omnijepa.train.metrics_log import read_metrics
from omnijepa.train.trainer import TrainingDiverged, TrainParts, resolve_device, train

IGNORE = -100
Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass
class LabTrainConfig:
    """Optimiser settings (AdamW, linear warmup then linear decay, as the official copy code)."""

    steps: int = 2000
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup: int = 100
    clip: float = 1.0
    eval_every: int = 100


def causal_batch(tokens: np.ndarray, mask: np.ndarray) -> Batch:
    """Next-token inputs/targets from a token array and its answer mask."""
    t = torch.from_numpy(tokens)
    m = torch.from_numpy(mask)
    targets = torch.where(m[:, 1:], t[:, 1:], torch.full_like(t[:, 1:], IGNORE))
    return t[:, :-1], targets


def tagging_batch(tokens: np.ndarray, labels: np.ndarray) -> Batch:
    """Encoder-only inputs/targets: labels are given per position already."""
    return torch.from_numpy(tokens), torch.from_numpy(labels)


@torch.no_grad()
def exact_match(model: nn.Module, batch: Batch, chunk: int = 64) -> tuple[float, float]:
    """(string accuracy, character accuracy) of ``model`` on ``batch``."""
    model.eval()
    inputs, targets = batch
    param = next(model.parameters(), None)
    device = param.device if param is not None else inputs.device
    rows_ok, chars_ok, chars = 0, 0, 0
    for i in range(0, len(inputs), chunk):
        x, y = inputs[i : i + chunk], targets[i : i + chunk]
        pred = model(x.to(device)).argmax(-1).cpu()
        scored = y != IGNORE
        right = (pred == y) & scored
        rows_ok += int((right.sum(1) == scored.sum(1)).sum())
        chars_ok += int(right.sum())
        chars += int(scored.sum())
    model.train()
    return rows_ok / len(inputs), chars_ok / max(chars, 1)


class SupervisedTokens(nn.Module):
    """The lab's objective for the shared trainer: masked cross-entropy on per-token logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: dict, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        logits = self.model(batch["x"])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["y"].reshape(-1))
        return loss, {}

    def after_optimizer_step(self, step: int, total: int) -> dict[str, float]:
        return {}  # no target network

    def eval_encoder(self) -> nn.Module:
        return self.model


class _StepStream(Dataset):
    """Stand-in dataset: the trainer draws indices, ``next_batch(step)`` makes the batch."""

    def __init__(self, size: int) -> None:
        self.size = size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> int:
        return i


def trainer_config(cfg: LabTrainConfig) -> TrainConfig:
    """The shared trainer's settings for a lab run: AdamW, gradient clipping, the monitor
    every ``eval_every`` steps, no progress lines, and the official copy code's LR: step s of
    the warmup uses ``lr (s + 1) / warmup`` (the trainer's ramp from ``lr / warmup`` over
    ``warmup - 1`` steps is exactly that), then a linear decay to 0."""
    warm = max(1, cfg.warmup)
    return TrainConfig(
        steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, start_lr=cfg.lr / warm,
        final_lr=0.0, warmup=min(0.99, (warm - 0.5) / cfg.steps), lr_schedule="linear",
        weight_decay=(cfg.weight_decay, cfg.weight_decay), clip_grad=cfg.clip,
        log_every=min(cfg.eval_every, 50), probe_every=cfg.eval_every, progress=False,
        num_workers=0,  # next_batch draws from one sequential generator: keep it in-process
    )  # fmt: skip


def train_model(
    model: nn.Module,
    next_batch: Callable[[int], Batch],
    cfg: LabTrainConfig,
    run_dir: Path,
    monitor: Callable[[nn.Module], float] | None = None,
    label: str = "model",
    seed: int = 0,
) -> dict:
    """Train ``model`` with masked cross-entropy through the shared trainer (``train/``: device,
    metrics.jsonl, checkpoint in ``run_dir``); ``monitor(model)`` every ``eval_every`` steps.

    ``next_batch(step)`` is called once per step, in order (the loader runs in this process).
    Returns ``{"curve": [[examples_seen, monitor value], ...], "loss": mean of the last
    logged losses, "seconds": wall time}``. Subnormal floats are flushed to zero while
    training (Adam's second moments otherwise slow CPU steps about twice).
    """

    def collate(samples: list[Any], step: int) -> dict:
        inputs, targets = next_batch(step)
        return {"x": inputs, "y": targets}

    def probe(m: nn.Module) -> dict[str, float]:
        return {"monitor_acc": monitor(m)} if monitor is not None else {}

    tcfg = trainer_config(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    saved = {"lab_run": label, "model": repr(model.spec) if hasattr(model, "spec") else label,
             "train": to_dict(tcfg)}  # fmt: skip
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(saved, sort_keys=False))
    parts = TrainParts(SupervisedTokens(model), _StepStream(cfg.batch_size), collate, probe)
    device = resolve_device("auto")
    torch.set_flush_denormal(True)
    started = time.perf_counter()
    try:
        train(parts, tcfg, seed, device, run_dir)
    except TrainingDiverged as exc:
        raise FloatingPointError(f"{label}: {exc}") from None
    finally:
        torch.set_flush_denormal(False)  # torch's default; it has no getter to restore from
    records = read_metrics(run_dir / "metrics.jsonl")
    curve = [[r["step"] * cfg.batch_size, r["monitor_acc"]] for r in records
             if r.get("step", 0) > 0 and "monitor_acc" in r]  # fmt: skip
    losses = [r["loss"] for r in records if "loss" in r][-5:]
    result = {
        "curve": curve,
        "loss": float(np.mean(losses)),
        "seconds": time.perf_counter() - started,
    }
    atomic_write_text(run_dir / "results.json", json.dumps(result, indent=2) + "\n")
    return result


def examples_to_reach(curve: list[list[float]], level: float) -> float | None:
    """First number of examples at which the monitored accuracy reached ``level``."""
    for seen, acc in curve:
        if acc >= level:
            return seen
    return None
