"""The target ("teacher") encoder of latent prediction: its momentum schedule, two controls,
and how far teacher and student have moved from their shared random init.

After T steps of ``θ̄ ← m θ̄ + (1 − m) θ`` the teacher still holds ``∏ m_t`` of its initial
weights. With a paper schedule (I-JEPA 0.996 → 1, Point-JEPA 0.9995 → 0.99999) and a few
hundred steps that product is 0.5–0.9: the teacher *is* mostly the random network the trained
encoder is later compared with. So the schedule here fits the run: ``max_init_weight`` caps
the teacher's weight on its init at the end of the run, and a run too short for the configured
``(start, end)`` gets a lower start momentum (found by bisection on the exact product). A run
long enough keeps the paper's schedule untouched; ``max_init_weight=0`` always keeps it.

Controls (``mode``): ``frozen`` keeps the random teacher (momentum 1: "random teachers",
Sarnthein et al. 2023), ``shared`` uses the student's own weights under stop-grad (momentum 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import torch
from torch import nn

from omnijepa.distributed import full_tensor
from omnijepa.objectives.target_norms import TARGET_NORMS

TeacherMode = Literal["ema", "frozen", "shared"]


@dataclass
class TeacherConfig:
    """``ema.*`` keys: the teacher's momentum schedule (linear from start to end)."""

    mode: TeacherMode = "ema"  # ema | frozen (momentum 1) | shared (momentum 0, stop-grad)
    start: float = 0.996  # the paper's momentum at step 0 (I-JEPA)
    end: float = 1.0  # ... and at the last step
    max_init_weight: float = 1e-3  # cap on ∏ m_t at the end; 0 = use (start, end) as given
    # the target encoder's pass adds positional encodings (as every paper does); false makes
    # targets position-free, so they cannot be predicted from the target positions alone
    positions: bool = True
    # targets: "layer" = layer norm per token (I-JEPA); "layer_batch" also standardises every
    # channel over the batch's tokens; "position_residual" also removes what the position
    # alone predicts across the batch (objectives.target_norms)
    target_norm: str = "layer"
    # targets from the last k blocks of the target encoder, each normed, then averaged
    # (data2vec's target); 1 = the last block only (every JEPA paper)
    target_layers: int = 1

    def __post_init__(self) -> None:
        if self.target_layers < 1:
            raise ValueError(f"ema.target_layers must be >= 1, got {self.target_layers}")
        if not 0.0 <= self.start <= self.end <= 1.0:
            raise ValueError(
                f"ema.start and ema.end must satisfy 0 <= start <= end <= 1, "
                f"got {self.start}, {self.end}"
            )
        if not 0.0 <= self.max_init_weight < 1.0:
            raise ValueError(f"ema.max_init_weight must be in [0, 1), got {self.max_init_weight}")
        TARGET_NORMS.get(self.target_norm)  # an unknown kind fails here, naming the valid ones


def _log_momenta(start: float, end: float, total: int) -> np.ndarray:
    """log m_t for t = 1..total (the trainer updates after each step with t = step + 1)."""
    t = np.arange(1, total + 1, dtype=np.float64)
    m = start + (end - start) * np.minimum(1.0, t / max(1, total))
    with np.errstate(divide="ignore"):
        return np.log(m)


@lru_cache(maxsize=64)
def fitted_start(start: float, end: float, total: int, max_init_weight: float) -> float:
    """The start momentum actually used: ``start`` if the schedule already leaves at most
    ``max_init_weight`` on the init after ``total`` steps, else the largest lower start that
    does (bisection on ∑ log m_t)."""
    if max_init_weight <= 0.0 or end <= 0.0:
        return start
    target = math.log(max_init_weight)
    if _log_momenta(start, end, total).sum() <= target:
        return start
    lo, hi = 0.0, start  # log-weight is increasing in the start momentum
    if _log_momenta(lo, end, total).sum() > target:
        return lo  # even a zero start cannot forget enough (e.g. end = 1 and total = 1)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if _log_momenta(mid, end, total).sum() <= target:
            lo = mid
        else:
            hi = mid
    return lo


class TeacherSchedule:
    """Momentum per step and the teacher's remaining weight on its init, for one config."""

    def __init__(self, cfg: TeacherConfig) -> None:
        self.cfg = cfg

    def bounds(self, total: int) -> tuple[float, float]:
        """(start, end) momenta used for a run of ``total`` steps."""
        c = self.cfg
        if c.mode == "frozen":
            return 1.0, 1.0
        if c.mode == "shared":
            return 0.0, 0.0
        return fitted_start(c.start, c.end, total, c.max_init_weight), c.end

    def momentum(self, step: int, total: int) -> float:
        """Momentum of the update made after ``step`` steps (1-based, as the trainer calls it)."""
        start, end = self.bounds(total)
        return start + (end - start) * min(1.0, step / max(1, total))

    def init_weight(self, step: int, total: int) -> float:
        """∏_{t ≤ step} m_t: how much of its random init the teacher still holds."""
        start, end = self.bounds(total)
        if step <= 0:
            return 1.0
        return float(np.exp(_log_momenta(start, end, total)[: min(step, total)].sum()))


@torch.no_grad()
def ema_update(target: nn.Module, source: nn.Module, momentum: float) -> None:
    """target <- momentum * target + (1 - momentum) * source, parameter by parameter (no-op
    at momentum 1)."""
    if momentum >= 1.0:
        return
    sources = [p.detach() for p in source.parameters()]
    torch._foreach_lerp_(list(target.parameters()), sources, 1.0 - momentum)


@torch.no_grad()
def relative_drift(module: nn.Module, initial: list[torch.Tensor]) -> float:
    """‖θ − θ₀‖ / ‖θ₀‖ over all parameters of ``module`` (same order as ``initial``); sharded
    parameters are gathered, so under FSDP every rank must call it."""
    params = [full_tensor(p.detach()).float() for p in module.parameters()]
    diff = torch.stack([(p - q.to(p.device)).square().sum() for p, q in zip(params, initial)])
    base = torch.stack([q.float().square().sum().to(diff.device) for q in initial])
    totals = torch.stack([diff.sum(), base.sum()]).tolist()  # one host sync
    return math.sqrt(totals[0] / max(totals[1], 1e-30))
