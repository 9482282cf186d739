"""Figures in results.json: every metric is ``{"mean", "std", "n"}`` over seeds."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def summarize(values: list[float]) -> dict[str, float | int]:
    """Mean, (population) std and count of a list of numbers."""
    arr = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # inf (e.g. "never reached") gives std nan, quietly
        return {"mean": float(arr.mean()), "std": float(arr.std()), "n": int(arr.size)}


def aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Turn per-seed nested dicts of numbers into one nested dict of summaries."""
    out: dict[str, Any] = {}
    for key in runs[0]:
        vals = [r[key] for r in runs if key in r]
        if isinstance(vals[0], dict):
            out[key] = aggregate(vals)
        elif isinstance(vals[0], (int, float)) and not isinstance(vals[0], bool):
            out[key] = summarize([float(v) for v in vals])
    return out


def fmt(summary: dict[str, Any]) -> str:
    """``0.812 ± 0.004 (n=3)`` for a summary dict."""
    mean, std = summary["mean"], summary["std"]
    if not math.isfinite(mean):
        return str(mean)
    text = f"{mean:.3f} ± {std:.3f} (n={summary['n']})"
    if summary.get("p") is not None:
        text += f", p={summary['p']:.3g}"
    return text


def _is_summary(value: Any) -> bool:
    return isinstance(value, dict) and "mean" in value and "n" in value


SKIPPED_SECTIONS = ("linear_c", "collapse")  # a chosen hyper-parameter; collapse has its own line


def metric_lines(metrics: dict[str, Any], prefix: str = "") -> list[str]:
    """One ``section: name value, ...`` line per metric of a run's results (means only), in the
    recipe's order, nested sections as ``outer/inner``: whatever a recipe measures, its
    summary is printed (a fixed list of names used to leave Point-JEPA's SVM and every
    ACT-JEPA metric out)."""
    lines = []
    for section, value in metrics.items():
        name = f"{prefix}{section}"
        if (not prefix and section in SKIPPED_SECTIONS) or not isinstance(value, dict):
            continue
        if _is_summary(value):
            lines.append(f"{name}: {fmt(value).split(' ±')[0]}")
        elif value and all(_is_summary(v) for v in value.values()):
            row = ", ".join(f"{k} {fmt(v).split(' ±')[0]}" for k, v in value.items())
            lines.append(f"{name}: {row}")
        else:
            lines += metric_lines(value, f"{name}/")
    return lines
