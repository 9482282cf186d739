"""Step schedules (pure functions of the step), shared by trainer and objectives."""

from __future__ import annotations

import math


def warmup_cosine(
    step: int, total: int, warmup: int, start: float, peak: float, final: float
) -> float:
    """Linear warmup from ``start`` to ``peak`` over ``warmup`` steps, then cosine to ``final``."""
    if step < warmup:
        return start + (peak - start) * step / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return final + 0.5 * (peak - final) * (1.0 + math.cos(math.pi * progress))


def warmup_linear(
    step: int, total: int, warmup: int, start: float, peak: float, final: float
) -> float:
    """Linear warmup from ``start`` to ``peak`` over ``warmup`` steps, then linear to ``final``."""
    if step < warmup:
        return start + (peak - start) * step / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return final + (peak - final) * (1.0 - progress)


LR_SCHEDULES = {"cosine": warmup_cosine, "linear": warmup_linear}


def cosine_ramp(step: int, total: int, start: float, end: float) -> float:
    """Cosine interpolation from ``start`` (step 0) to ``end`` (step ``total``); I-JEPA's WD."""
    progress = min(1.0, step / max(1, total))
    return end + 0.5 * (start - end) * (1.0 + math.cos(math.pi * progress))


def linear_ramp(step: int, total: int, start: float, end: float) -> float:
    """Linear interpolation from ``start`` to ``end`` over ``total`` steps (EMA momentum)."""
    progress = min(1.0, step / max(1, total))
    return start + (end - start) * progress
