"""The copying experiment: train each backbone on short strings, test on longer ones.

For every task in ``tasks`` and every model of that task, train a causal model on packed
examples of length U[train_lengths], record string accuracy at the longest training length
against training rows seen, then measure string/character accuracy at each ``eval_lengths``.
Copy models are also probed on strings with a duplicated n-gram.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from omnijepa.analysis.sequence_lab.copy_tasks import Vocab, eval_batch, packed_batch
from omnijepa.analysis.sequence_lab.lab_model import (
    BackboneSpec,
    TokenSequenceModel,
    count_parameters,
)
from omnijepa.analysis.sequence_lab.lab_training import (
    Batch,
    LabTrainConfig,
    causal_batch,
    exact_match,
    examples_to_reach,
    train_model,
)
from omnijepa.errors import ConfigError
from omnijepa.registry import Registry

COPY_MODELS: Registry[BackboneSpec] = Registry("copying model")
for _spec in (
    BackboneSpec("T_nope", "transformer", {"position": "nope"}),
    BackboneSpec("T_rope", "transformer", {"position": "rope"}),
    BackboneSpec("T_alibi", "transformer", {"position": "alibi"}),
    BackboneSpec("T_hard_alibi", "transformer", {"position": "hard_alibi"}),
    BackboneSpec("mamba", "mamba", {"d_state": 16}),
    BackboneSpec("lstm", "lstm", {}),
):
    COPY_MODELS.add(_spec.label, _spec)


@dataclass
class CopyingConfig:
    """Every field is a ``key=value`` override of ``omnijepa repro copying``."""

    seed: int = 0
    alphabet: int = 26
    train_lengths: tuple[int, int] = (5, 20)
    context: int = 64
    eval_lengths: tuple[int, ...] = (10, 20, 30, 40, 60)
    eval_examples: int = 96
    eval_batches: int = 3  # accuracy is mean +- std over this many batches (official: 3)
    monitor_examples: int = 64
    dim: int = 64
    depth: int = 2
    heads: int = 8
    # the phone-book proxy (tasks=[...,phonebook]) is off by default: no model learned it in
    # budget, and it pushed the repro past 10 minutes
    tasks: tuple[str, ...] = ("copy", "prefix_key", "suffix_key")
    copy_models: tuple[str, ...] = (
        "T_nope", "T_rope", "T_alibi", "T_hard_alibi", "mamba", "lstm",
    )  # fmt: skip
    lookup_models: tuple[str, ...] = ("T_hard_alibi", "mamba", "lstm")  # prefix_key
    suffix_models: tuple[str, ...] = ("T_hard_alibi", "mamba")  # suffix_key and phonebook
    ngram: int = 2  # lookup key length (with 4, no model learned the lookups in our budget)
    answer_len: int = 2
    duplicate_ngrams: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8)
    phonebook_train: tuple[int, int] = (2, 4)
    phonebook_eval: tuple[int, ...] = (2, 4, 6, 8)
    train: LabTrainConfig = field(
        default_factory=lambda: LabTrainConfig(steps=1600, batch_size=16, lr=3e-3, eval_every=100)
    )

    def __post_init__(self) -> None:
        lo, hi = self.train_lengths
        if not 1 <= lo <= hi:
            raise ConfigError(f"train_lengths must be 1 <= lo <= hi, got {self.train_lengths}")
        if 2 * hi + 3 > self.context:
            raise ConfigError(
                f"context ({self.context}) must hold one full training example (2*{hi}+3)"
            )
        if self.alphabet < 2 or self.alphabet > 200:
            raise ConfigError(f"alphabet must be in [2, 200], got {self.alphabet}")
        for name in set(self.copy_models) | set(self.lookup_models) | set(self.suffix_models):
            COPY_MODELS.get(name)


def _task_lengths(cfg: CopyingConfig, task: str) -> tuple[tuple[int, int], tuple[int, ...]]:
    if task == "phonebook":
        return cfg.phonebook_train, cfg.phonebook_eval
    if task in ("prefix_key", "suffix_key"):  # the key and its answer must fit in the string
        lo, hi = cfg.train_lengths
        return (max(lo, cfg.ngram + cfg.answer_len), hi), cfg.eval_lengths
    return cfg.train_lengths, cfg.eval_lengths


def _models_for(cfg: CopyingConfig, task: str) -> tuple[str, ...]:
    if task == "copy":
        return cfg.copy_models
    return cfg.lookup_models if task == "prefix_key" else cfg.suffix_models


def _batch(cfg: CopyingConfig, vocab: Vocab, task: str, length: int, n: int, seed: int) -> Batch:
    return causal_batch(*eval_batch(task, length, n, vocab, seed, cfg.ngram, cfg.answer_len))


def _accuracy_over_batches(
    cfg: CopyingConfig, model: torch.nn.Module, vocab: Vocab, task: str, length: int
) -> dict[str, float]:
    per = [
        exact_match(model, _batch(cfg, vocab, task, length, cfg.eval_examples, 1000 + k))
        for k in range(cfg.eval_batches)
    ]
    s = np.array([p[0] for p in per])
    c = np.array([p[1] for p in per])
    return {"string": float(s.mean()), "string_std": float(s.std()), "char": float(c.mean())}


def run_copying(
    cfg: CopyingConfig, runs_dir: Path, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Train and evaluate every (task, model), each in its run directory
    ``runs_dir/<task>_<model>``; returns the nested results dictionary."""
    vocab = Vocab(cfg.alphabet)
    results: dict[str, Any] = {}
    for task in cfg.tasks:
        train_lengths, eval_lengths = _task_lengths(cfg, task)
        monitor_len = train_lengths[1]
        monitor_batch = _batch(cfg, vocab, task, monitor_len, cfg.monitor_examples, 999)
        results[task] = {}
        for name in _models_for(cfg, task):
            spec = COPY_MODELS.get(name)
            torch.manual_seed(cfg.seed)
            model = TokenSequenceModel(
                vocab.size, vocab.size, spec, cfg.dim, cfg.depth, cfg.heads, causal=True
            )
            rng = np.random.default_rng([cfg.seed, zlib.crc32(task.encode())])
            next_batch = _packed_stream(cfg, vocab, task, train_lengths, rng)
            started = time.perf_counter()
            hist = train_model(
                model, next_batch, cfg.train, runs_dir / f"{task}_{name}",
                monitor=lambda m, b=monitor_batch: exact_match(m, b)[0],
                label=f"{task}/{name}", seed=cfg.seed,
            )  # fmt: skip
            by_len = {
                str(n): _accuracy_over_batches(cfg, model, vocab, task, n) for n in eval_lengths
            }
            entry: dict[str, Any] = {
                "params": count_parameters(model),
                "curve": hist["curve"],
                "final_loss": hist["loss"],
                "examples_to_95": examples_to_reach(hist["curve"], 0.95),
                "by_length": by_len,
                "seconds": time.perf_counter() - started,
            }
            if task == "copy":
                entry["duplicate_ngram"] = {
                    str(n): _duplicate_probe(cfg, model, vocab, n) for n in cfg.duplicate_ngrams
                }
            results[task][name] = entry
            accs = " ".join(f"{n}:{v['string']:.2f}" for n, v in by_len.items())
            log(f"{task:<11} {name:<13} {entry['seconds']:5.0f}s  string acc by length {accs}")
    return results


def _packed_stream(
    cfg: CopyingConfig,
    vocab: Vocab,
    task: str,
    lengths: tuple[int, int],
    rng: np.random.Generator,
) -> Callable[[int], Batch]:
    """``step -> batch`` of packed training rows for ``task`` drawn from ``rng``."""

    def next_batch(step: int) -> Batch:
        return causal_batch(
            *packed_batch(
                task, rng, cfg.train.batch_size, cfg.context, lengths, vocab, cfg.ngram,
                cfg.answer_len,
            )
        )  # fmt: skip

    return next_batch


def _duplicate_probe(cfg: CopyingConfig, model: torch.nn.Module, vocab: Vocab, n: int) -> float:
    """Copy accuracy at the longest training length with one duplicated ``n``-gram."""
    length = cfg.train_lengths[1]
    if length < 2 * n:
        return float("nan")
    batch = causal_batch(*eval_batch("duplicate_ngram", length, cfg.eval_examples, vocab, 2024,
                                     n, 0))  # fmt: skip
    return exact_match(model, batch)[0]
