"""Step schedules (pure functions of the step), shared by trainer and objectives."""

from __future__ import annotations

import math

# decay of the LR after the warmup: fraction of (peak - final) left at progress p in [0, 1]
_DECAYS = {
    "cosine": lambda p: 0.5 * (1.0 + math.cos(math.pi * p)),
    "linear": lambda p: 1.0 - p,
}


def warmup_decay(
    kind: str, step: int, total: int, warmup: int, start: float, peak: float, final: float
) -> float:
    """Linear warmup from ``start`` to ``peak`` over ``warmup`` steps, then a ``kind`` decay
    (``cosine`` or ``linear``) to ``final`` at ``total``."""
    if step < warmup:
        return start + (peak - start) * step / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return final + (peak - final) * _DECAYS[kind](progress)


def cosine_ramp(step: int, total: int, start: float, end: float) -> float:
    """Cosine interpolation from ``start`` (step 0) to ``end`` (step ``total``); I-JEPA's WD."""
    progress = min(1.0, step / max(1, total))
    return end + 0.5 * (start - end) * (1.0 + math.cos(math.pi * progress))


def linear_ramp(step: int, total: int, start: float, end: float) -> float:
    """Linear interpolation from ``start`` to ``end`` over ``total`` steps (EMA momentum)."""
    progress = min(1.0, step / max(1, total))
    return start + (end - start) * progress
