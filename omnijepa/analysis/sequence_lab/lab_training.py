"""Supervised training and exact-match evaluation shared by the copying and arithmetic labs.

A batch is ``(inputs (B, T), targets (B, T))`` with ``IGNORE`` (-100) where nothing is scored.
String accuracy is exact match of ``argmax`` over every scored position of a row (under
teacher forcing, which for exact match equals greedy decoding); character accuracy is the
fraction of scored positions that are right.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

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
    rows_ok, chars_ok, chars = 0, 0, 0
    for i in range(0, len(inputs), chunk):
        x, y = inputs[i : i + chunk], targets[i : i + chunk]
        pred = model(x).argmax(-1)
        scored = y != IGNORE
        right = (pred == y) & scored
        rows_ok += int((right.sum(1) == scored.sum(1)).sum())
        chars_ok += int(right.sum())
        chars += int(scored.sum())
    model.train()
    return rows_ok / len(inputs), chars_ok / max(chars, 1)


def _lr_factor(step: int, cfg: LabTrainConfig) -> float:
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    return max(0.0, (cfg.steps - step) / max(1, cfg.steps - cfg.warmup))


def train_model(
    model: nn.Module,
    next_batch: Callable[[int], Batch],
    cfg: LabTrainConfig,
    monitor: Callable[[nn.Module], float] | None = None,
    label: str = "model",
) -> dict:
    """Train with masked cross-entropy; every ``eval_every`` steps record ``monitor(model)``.

    Returns ``{"curve": [[examples_seen, monitor value], ...], "loss": final smoothed loss,
    "seconds": wall time}``. NaN/inf losses stop training with a clear error. Subnormal
    floats are flushed to zero while training (Adam's second moments otherwise slow CPU
    steps about twice).
    """
    torch.set_flush_denormal(True)
    try:
        return _train(model, next_batch, cfg, monitor, label)
    finally:
        torch.set_flush_denormal(False)  # torch's default; it has no getter to restore from


def _train(
    model: nn.Module,
    next_batch: Callable[[int], Batch],
    cfg: LabTrainConfig,
    monitor: Callable[[nn.Module], float] | None,
    label: str,
) -> dict:
    decay = [p for p in model.parameters() if p.ndim >= 2]
    rest = [p for p in model.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": rest, "weight_decay": 0}],
        lr=cfg.lr,
    )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, cfg))
    curve: list[list[float]] = []
    smooth = math.nan
    started = time.perf_counter()
    bar = tqdm(range(cfg.steps), desc=label, leave=False, disable=not sys.stderr.isatty())
    model.train()
    for step in bar:
        inputs, targets = next_batch(step)
        logits = model(inputs)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{label}: loss became {loss.item()} at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        sched.step()
        value = loss.item()
        smooth = value if math.isnan(smooth) else 0.95 * smooth + 0.05 * value
        if monitor is not None and ((step + 1) % cfg.eval_every == 0 or step + 1 == cfg.steps):
            curve.append([(step + 1) * cfg.batch_size, monitor(model)])
            bar.set_postfix(loss=f"{smooth:.3f}", acc=f"{curve[-1][1]:.2f}")
    return {"curve": curve, "loss": smooth, "seconds": time.perf_counter() - started}


def examples_to_reach(curve: list[list[float]], level: float) -> float | None:
    """First number of examples at which the monitored accuracy reached ``level``."""
    for seen, acc in curve:
        if acc >= level:
            return seen
    return None
