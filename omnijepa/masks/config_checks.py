"""Validation shared by mask-sampler configs (one clear ConfigError naming the key)."""

from __future__ import annotations

import math

from omnijepa.errors import ConfigError


def check_fraction_pair(where: str, value: object) -> tuple[float, float]:
    """Validate a ``(lo, hi)`` pair with ``0 < lo <= hi <= 1``; return it as floats."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ConfigError(f"{where} must be a (lo, hi) pair, got {value!r}")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
        raise ConfigError(f"{where} must hold two numbers, got {value!r}")
    lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or not 0.0 < lo <= hi <= 1.0:
        raise ConfigError(f"{where} needs 0 < lo <= hi <= 1, got {value!r}")
    return lo, hi


def check_token_grid(grid: object, what: str = "token masks") -> tuple[int, ...]:
    """A grid as a tuple of ints >= 1 (an int n means ``(n,)``) with >= 2 cells."""
    if isinstance(grid, int) and not isinstance(grid, bool):
        grid = (grid,)
    if (
        not isinstance(grid, (tuple, list))
        or len(grid) == 0
        or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in grid)
    ):
        raise ConfigError(f"{what} need a grid of ints >= 1, got {grid!r}")
    if math.prod(grid) < 2:
        raise ConfigError(f"{what} need >= 2 tokens (context + target), got {math.prod(grid)}")
    return tuple(int(d) for d in grid)
