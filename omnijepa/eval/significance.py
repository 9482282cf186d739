"""Verdicts that cannot pass by noise: paired gaps over seeds and a one-sided paired t-test.

A check "A beats B by at least m" passes only when the mean of the per-seed gaps A − B is at
least m *and* a one-sided paired t-test (scipy) gives p < ``ALPHA``. With fewer than two
paired seeds the test cannot be made: the check is *skipped* (``passed=None``), which makes
the reproduction "partial", never "reproduced". So is a check whose gaps are the same on every
seed (spread 0): that happens when both sides ignore the seed (a probe stuck at chance beside
deterministic hand-made features), and the noise that matters then, the test set's, is not
measured by seeds at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

ALPHA = 0.05


def paired_gap(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Mean, std (ddof 1) and n of the per-seed gaps a − b, the gaps themselves, and the
    one-sided p-value for "mean gap > 0" (None when n < 2 or the gaps do not vary)."""
    if len(a) != len(b):
        raise ValueError(f"paired values need equal lengths, got {len(a)} and {len(b)}")
    gaps = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    n = int(gaps.size)
    mean = float(gaps.mean()) if n else float("nan")
    std = float(gaps.std(ddof=1)) if n > 1 else 0.0
    p: float | None = None
    if n >= 2 and std > 1e-12 * max(1.0, abs(mean)):  # identical gaps: no t statistic
        p = float(stats.ttest_1samp(gaps, 0.0, alternative="greater").pvalue)
    return {"mean": mean, "std": std, "n": n, "p": p, "gaps": [float(g) for g in gaps]}


@dataclass
class Check:
    """One named claim with its numbers; ``passed`` is None when it could not be tested."""

    name: str
    passed: bool | None
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "detail": self.detail}


def _untestable(gap: dict[str, Any], margin: float | None = None) -> str:
    if gap["n"] < 2:
        return f"gap {gap['mean']:+.3f} from n={gap['n']} seed(s): no test possible (skipped)"
    text = f"gap {gap['mean']:+.3f}, the same on every seed (n={gap['n']}): no t-test possible"
    if margin is not None and gap["mean"] < margin:
        return f"{text}; under the margin {margin:+.3f}"
    return f"{text} (skipped)"


def beats(
    name: str, a: Sequence[float], b: Sequence[float], margin: float = 0.0
) -> tuple[Check, dict[str, Any]]:
    """Check that ``a`` beats ``b`` by >= ``margin`` (mean paired gap) with p < ALPHA."""
    gap = paired_gap(a, b)
    if gap["p"] is None:  # under the margin fails without a test; above it cannot pass
        under = gap["n"] >= 2 and gap["mean"] < margin
        return Check(name, False if under else None, _untestable(gap, margin)), gap
    passed = gap["mean"] >= margin and gap["p"] < ALPHA
    detail = (
        f"gap {gap['mean']:+.3f} ± {gap['std']:.3f} (n={gap['n']}), margin {margin:+.3f}, "
        f"one-sided paired t-test p={gap['p']:.3g} (needs < {ALPHA})"
    )
    return Check(name, passed, detail), gap


def not_worse(
    name: str, a: Sequence[float], b: Sequence[float], tolerance: float
) -> tuple[Check, dict[str, Any]]:
    """Non-inferiority of ``a`` to ``b`` within ``tolerance``: passes when the one-sided paired
    t-test of "mean gap > -tolerance" gives p < ALPHA, fails when the opposite test ("mean gap
    < -tolerance") does, and is undecided (None: the run is "partial") when neither does —
    failing to show non-inferiority is not showing inferiority."""
    gap = paired_gap(a, b)
    above = paired_gap([x + tolerance for x in a], b)["p"]
    below = paired_gap(b, [x + tolerance for x in a])["p"]
    gap["p_not_worse"], gap["p_worse"] = above, below
    if above is None or below is None:
        return Check(name, None, _untestable(gap)), gap
    passed = True if above < ALPHA else (False if below < ALPHA else None)
    detail = (
        f"gap {gap['mean']:+.3f} ± {gap['std']:.3f} (n={gap['n']}), tolerance -{tolerance:.3f}; "
        f"one-sided paired t-tests: gap > -{tolerance:.3f} p={above:.3g}, "
        f"gap < -{tolerance:.3f} p={below:.3g} (either needs < {ALPHA}"
        f"{'; neither: undecided' if passed is None else ''})"
    )
    return Check(name, passed, detail), gap


def threshold(name: str, value: float, op: str, bound: float, what: str = "") -> Check:
    """A deterministic check on one number (``op``: '>' or '<'), printed with the number."""
    if not math.isfinite(value):
        return Check(name, None, f"{what or 'value'} is {value}: skipped")
    passed = value > bound if op == ">" else value < bound
    return Check(name, passed, f"{what or 'value'} {value:.4g} {op} {bound:.4g}")


def verdict(checks: Sequence[Check]) -> str:
    """'reproduced' (all pass), 'not reproduced' (any fails), else 'partial' (any skipped)."""
    if not checks:
        return "partial"
    if any(c.passed is False for c in checks):
        return "not reproduced"
    if any(c.passed is None for c in checks):
        return "partial"
    return "reproduced"
