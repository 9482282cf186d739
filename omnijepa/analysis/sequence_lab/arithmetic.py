"""The arithmetic experiment: addition length generalisation by positional scheme, and
train-set priming for multiplication.

Addition: encoder-only models with absolute (APE) vs relative (RPE_k, RPE_kq) positions,
trained on fresh examples of 1..5 digits, tested at longer operands. Multiplication: a fixed
training set of ``N`` short examples plus ``n_prime`` fixed long ones, for several ``N``;
accuracy at the primed length as a function of ``n_prime``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from omnijepa.analysis.sequence_lab.arithmetic_tasks import (
    VOCAB_SIZE,
    BucketedSet,
    draw_pairs,
    encode_batch,
    fixed_train_set,
    fresh_batch,
)
from omnijepa.analysis.sequence_lab.lab_model import (
    BackboneSpec,
    TokenSequenceModel,
    count_parameters,
)
from omnijepa.analysis.sequence_lab.lab_training import (
    Batch,
    LabTrainConfig,
    exact_match,
    tagging_batch,
    train_model,
)
from omnijepa.errors import ConfigError
from omnijepa.registry import Registry

POSITION_VARIANTS: Registry[str] = Registry("arithmetic positional variant")
POSITION_VARIANTS.add("APE", "learned")
POSITION_VARIANTS.add("RPE_k", "rpe_k")
POSITION_VARIANTS.add("RPE_kq", "rpe_kq")


def _add_train() -> LabTrainConfig:
    return LabTrainConfig(steps=3000, batch_size=64, lr=1e-3, weight_decay=0.01, warmup=100)


def _mul_train() -> LabTrainConfig:
    return LabTrainConfig(steps=8000, batch_size=64, lr=2e-3, weight_decay=0.01, warmup=100)


@dataclass
class ArithmeticConfig:
    """Every field is a ``key=value`` override of ``omnijepa repro arithmetic``."""

    seed: int = 0
    parts: tuple[str, ...] = ("addition", "multiplication")
    dim: int = 64
    depth: int = 3
    heads: int = 4
    max_dist: int = 8  # RPE clipping distance
    max_len: int = 128  # APE table size (must cover the longest test sequence)
    eval_examples: int = 200
    add_layout: str = "add_interleaved"
    add_digits: tuple[int, int] = (1, 5)
    add_eval_digits: tuple[int, ...] = (5, 6, 8, 10, 15, 20)
    add_models: tuple[str, ...] = ("APE", "RPE_k", "RPE_kq")
    add_train: LabTrainConfig = field(default_factory=_add_train)
    mul_model: str = "APE"  # RPE_k ignored priming in our budget (see the README)
    mul_b_digits: int = 1
    mul_digits: tuple[int, int] = (1, 5)
    mul_prime_digits: int = 10
    mul_eval_digits: tuple[int, ...] = (5, 10)
    mul_train_sizes: tuple[int, ...] = (3000, 10000)
    mul_n_primes: tuple[int, ...] = (0, 10, 50)  # 25 too via mul_n_primes=[0,10,25,50] (> 10 min)
    mul_train: LabTrainConfig = field(default_factory=_mul_train)

    def __post_init__(self) -> None:
        for name in (*self.add_models, self.mul_model):
            POSITION_VARIANTS.get(name)
        longest = max((*self.add_eval_digits, *self.mul_eval_digits, self.mul_prime_digits))
        if 2 * longest + 2 > self.max_len:
            raise ConfigError(
                f"max_len ({self.max_len}) must cover the longest test sequence "
                f"({2 * longest + 2} tokens)"
            )
        if self.mul_prime_digits <= self.mul_digits[1]:
            raise ConfigError("mul_prime_digits must exceed the training digits mul_digits")


def _model(cfg: ArithmeticConfig, variant: str) -> TokenSequenceModel:
    pos = POSITION_VARIANTS.get(variant)
    opts: dict[str, Any] = {"position": pos}
    if pos == "learned":
        opts["max_len"] = cfg.max_len
    else:
        opts["max_dist"] = cfg.max_dist
    spec = BackboneSpec(variant, "transformer", opts)
    torch.manual_seed(cfg.seed)
    return TokenSequenceModel(VOCAB_SIZE, 10, spec, cfg.dim, cfg.depth, cfg.heads, causal=False)


def _test_batch(layout: str, n: int, m: int, count: int, seed: int) -> Batch:
    rng = np.random.default_rng([seed, n, 17])
    return tagging_batch(*encode_batch(layout, draw_pairs(rng, count, n, m, layout), n, m))


def run_addition(
    cfg: ArithmeticConfig, runs_dir: Path, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Train one encoder per positional variant on fresh additions (run directory
    ``runs_dir/add_<variant>``); accuracy by digits."""
    out: dict[str, Any] = {}
    hi = cfg.add_digits[1]
    monitor = _test_batch(cfg.add_layout, hi, 0, cfg.eval_examples, cfg.seed + 1)
    for variant in cfg.add_models:
        model = _model(cfg, variant)
        rng = np.random.default_rng([cfg.seed, 21])

        def next_batch(step: int, rng: np.random.Generator = rng) -> Batch:
            return tagging_batch(*fresh_batch(
                rng, cfg.add_layout, cfg.add_train.batch_size, cfg.add_digits, 0
            ))  # fmt: skip

        hist = train_model(
            model, next_batch, cfg.add_train, runs_dir / f"add_{variant}",
            monitor=lambda m: exact_match(m, monitor)[0], label=f"add/{variant}", seed=cfg.seed,
        )  # fmt: skip
        acc = {
            str(n): exact_match(
                model, _test_batch(cfg.add_layout, n, 0, cfg.eval_examples, cfg.seed + 2)
            )[0]
            for n in cfg.add_eval_digits
        }
        out[variant] = {
            "params": count_parameters(model), "curve": hist["curve"], "accuracy": acc,
            "final_loss": hist["loss"], "seconds": hist["seconds"],
        }  # fmt: skip
        log(f"addition {variant:<7} {hist['seconds']:5.0f}s  exact match by digits "
            + " ".join(f"{n}:{a:.2f}" for n, a in acc.items()))  # fmt: skip
    return out


def run_multiplication(
    cfg: ArithmeticConfig, runs_dir: Path, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Priming sweep: accuracy at the primed length for each (train-set size, n_prime); run
    directories ``runs_dir/mul_<size>_<n_prime>``."""
    out: dict[str, Any] = {}
    m = cfg.mul_b_digits
    tests = {n: _test_batch("mul", n, m, cfg.eval_examples, cfg.seed + 3)
             for n in cfg.mul_eval_digits}  # fmt: skip
    for size in cfg.mul_train_sizes:
        out[str(size)] = {}
        for n_prime in cfg.mul_n_primes:
            started = time.perf_counter()
            train: BucketedSet = fixed_train_set(
                "mul", size, cfg.mul_digits, m, cfg.seed, n_prime, cfg.mul_prime_digits
            )
            model = _model(cfg, cfg.mul_model)
            rng = np.random.default_rng([cfg.seed, 31, size, n_prime])

            def next_batch(step: int, rng: np.random.Generator = rng, t: BucketedSet = train):
                return tagging_batch(*t.sample(rng, cfg.mul_train.batch_size))

            hist = train_model(
                model, next_batch, cfg.mul_train, runs_dir / f"mul_{size}_{n_prime}",
                label=f"mul/N={size}/prime={n_prime}", seed=cfg.seed,
            )  # fmt: skip
            acc = {str(n): exact_match(model, b)[0] for n, b in tests.items()}
            out[str(size)][str(n_prime)] = {
                "accuracy": acc, "final_loss": hist["loss"],
                "seconds": time.perf_counter() - started,
            }  # fmt: skip
            log(f"multiply N={size:<6} n_prime={n_prime:<3} exact match by digits "
                + " ".join(f"{n}:{a:.2f}" for n, a in acc.items()))  # fmt: skip
    return out


def primes_needed(mul: dict[str, Any], digits: int, level: float = 0.9) -> dict[str, int | None]:
    """Smallest swept n_prime whose accuracy at ``digits`` reaches ``level``, per train size."""
    needed: dict[str, int | None] = {}
    for size, per in mul.items():
        hits = sorted(int(p) for p, r in per.items() if r["accuracy"][str(digits)] >= level)
        needed[size] = hits[0] if hits else None
    return needed
