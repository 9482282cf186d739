"""The repro results file and the side-by-side table printed for it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omnijepa.eval.plots import plot_probe_bars
from omnijepa.recipes.base import Recipe
from omnijepa.recipes.summary import fmt


@dataclass
class ReproSpec:
    """Name, claim and reference numbers of a reproduction that is not a training recipe."""

    name: str
    claim: str
    reference: dict[str, Any] = field(default_factory=dict)


def write_repro(
    source: Recipe | ReproSpec,
    out: Path,
    metrics: dict[str, Any],
    checks: dict[str, bool],
    started: float,
    notes: str = "",
) -> dict[str, Any]:
    """Assemble results.json: verdict is 'reproduced' only if every named check holds."""
    from omnijepa.recipes.run import RESULTS_FILE, write_json

    results = {
        "name": source.name,
        "claim": source.claim,
        "reference": source.reference,
        "metrics": metrics,
        "checks": checks,
        "verdict": "reproduced" if checks and all(checks.values()) else "not reproduced",
        "notes": notes,
        "seconds": time.perf_counter() - started,
    }
    out.mkdir(parents=True, exist_ok=True)
    if "linear_probe" in metrics:
        plot_probe_bars(metrics["linear_probe"], out / "probe.png", f"{source.name} linear probe")
    write_json(out / RESULTS_FILE, results)
    return results


def _rows(metrics: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows = []
    for key, val in metrics.items():
        if isinstance(val, dict) and "mean" in val:
            rows.append((prefix + key, fmt(val)))
        elif isinstance(val, dict):
            rows.extend(_rows(val, f"{prefix}{key}."))
    return rows


def format_table(results: dict[str, Any]) -> str:
    """Ours vs the paper's reference numbers, then the checks and the verdict."""
    ours = _rows(results["metrics"])
    ref = [(k, str(v)) for k, v in _flatten(results.get("reference", {}))]
    width = max([len(k) for k, _ in ours + ref] + [10])
    lines = [f"{results['name']}: {results['claim']}", "", "ours (this machine)".upper()]
    lines += [f"  {k:<{width}}  {v}" for k, v in ours]
    if ref:
        lines += ["", "paper (reference, different scale)".upper()]
        lines += [f"  {k:<{width}}  {v}" for k, v in ref]
    lines += ["", "CHECKS"]
    lines += [f"  [{'x' if ok else ' '}] {name}" for name, ok in results["checks"].items()]
    if results.get("notes"):
        lines += ["", f"notes: {results['notes']}"]
    lines += ["", f"verdict: {results['verdict']}  ({results['seconds']:.0f} s)"]
    return "\n".join(lines)


def _flatten(d: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out.extend(_flatten(v, f"{prefix}{k}."))
        else:
            out.append((prefix + k, v))
    return out
