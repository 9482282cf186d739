"""Checks of a reproduction built from per-seed runs: paired gaps with their t-test.

``runs`` are the per-seed metric dicts of ``recipes.parallel_runs.run_jobs`` on
``recipes.parallel_runs.seed_jobs`` (seed k of every variant
shares its data split and its initial weights, so variants pair by seed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omnijepa.eval.significance import Check, beats, not_worse, paired_gap
from omnijepa.recipes.summary import aggregate

Runs = list[dict[str, Any]]
# per-feature-set figures that are settings or diagnostics, not accuracies: no gap, no test
NOT_SCORES = {"linear_c", "turn_variance_share"}


def per_seed(runs: Runs, *path: str) -> list[float]:
    """One number per run at ``path`` (e.g. ``"linear_probe", "jepa"``)."""
    out = []
    for run in runs:
        node: Any = run
        for key in path:
            node = node[key]
        out.append(float(node))
    return out


def twin_gaps(runs: Runs, reference: str = "random_init") -> dict[str, Any]:
    """Paired gap jepa − ``reference`` for every probe metric that every run reports (a
    few-label probe can be missing from a seed whose split lacks the labels)."""
    gaps: dict[str, Any] = {}
    for metric, values in runs[0].items():
        if metric in NOT_SCORES or not all(metric in run for run in runs):
            continue
        if isinstance(values, dict) and "jepa" in values and reference in values:
            gaps[metric] = paired_gap(
                per_seed(runs, metric, "jepa"), per_seed(runs, metric, reference)
            )
    return gaps


def beats_reference(
    runs: Runs, metric: str, reference: str, margin: float, label: str
) -> tuple[Check, dict[str, Any]]:
    """``jepa`` beats ``reference`` on ``metric`` by >= ``margin`` (paired over seeds)."""
    name = f"{label}: jepa beats {reference} by >= {margin:.2f} ({metric})"
    return beats(name, per_seed(runs, metric, "jepa"), per_seed(runs, metric, reference), margin)


def beats_variant(
    runs: Runs, other: Runs, metric: str, variant: str, margin: float = 0.0
) -> tuple[Check, dict[str, Any]]:
    """The default recipe beats an ablation ``variant`` on ``metric`` (paired by seed)."""
    name = f"default beats {variant} ({metric}, margin {margin:.2f})"
    return beats(name, per_seed(runs, metric, "jepa"), per_seed(other, metric, "jepa"), margin)


def headline(metrics: dict[str, Any], metric: str, data: str = "") -> dict[str, Any]:
    """The row a results table shows: trained vs twin on ``metric`` and their paired gap
    (``metrics`` holds the aggregated runs and their ``gaps_vs_random_init``)."""
    return {
        "metric": metric,
        "data": data,
        "trained": metrics[metric]["jepa"],
        "random_init": metrics[metric]["random_init"],
        "gap": metrics["gaps_vs_random_init"][metric],
    }


Judge = Callable[[dict[str, Runs], list[tuple[str, list[str]]], str, dict[str, Any]], list[Check]]


def non_inferiority_judge(tolerances: dict[str, float], what: str) -> Judge:
    """A repro judge for ablations whose published gain is below our seed noise: the default
    (``what``) is not worse than each variant named in ``tolerances`` by more than its
    tolerance (paired over seeds; three outcomes, see ``significance.not_worse``); other
    variants are reported with their paired gap. Records every variant's score and gap."""

    def judge(runs: dict[str, Runs], variants: list[tuple[str, list[str]]], probe: str,
              metrics: dict[str, Any]) -> list[Check]:  # fmt: skip
        default = per_seed(runs["default"], probe, "jepa")
        checks = []
        for name, _ in variants:
            other = per_seed(runs[name], probe, "jepa")
            metrics[f"{name}_{probe}"] = aggregate(runs[name])[probe]["jepa"]
            if name in tolerances:
                tol = tolerances[name]
                label = f"{what} not worse than {name} by more than {tol:.2f} ({probe})"
                check, gap = not_worse(label, default, other, tol)
                checks.append(check)
            else:
                gap = paired_gap(default, other)
            metrics[f"gap_vs_{name}"] = gap
        return checks

    return judge
