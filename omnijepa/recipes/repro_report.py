"""The repro results file and the side-by-side table printed for it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omnijepa.eval.plots import plot_probe_bars
from omnijepa.eval.significance import Check, verdict
from omnijepa.recipes.base import Recipe
from omnijepa.recipes.run import RESULTS_FILE, write_json
from omnijepa.recipes.summary import fmt


@dataclass
class ReproSpec:
    """Name, claim and reference numbers of a reproduction that is not a training recipe."""

    name: str
    claim: str
    reference: dict[str, Any] = field(default_factory=dict)


def as_checks(checks: list[Check] | dict[str, bool]) -> list[Check]:
    """Checks as ``Check`` objects (analyses may pass plain ``{name: passed}``)."""
    if isinstance(checks, dict):
        return [Check(name, bool(ok), "") for name, ok in checks.items()]
    return list(checks)


def write_repro(
    source: Recipe | ReproSpec,
    out: Path,
    metrics: dict[str, Any],
    checks: list[Check] | dict[str, bool],
    started: float,
    notes: str = "",
    headline: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble results.json: 'reproduced' only if every check passes, 'partial' if none
    fails but some could not be tested (e.g. one seed), else 'not reproduced'."""

    checks = as_checks(checks)
    results = {
        "name": source.name,
        "claim": source.claim,
        "reference": source.reference,
        "metrics": metrics,
        "checks": {c.name: c.as_dict() for c in checks},
        "verdict": verdict(checks),
        "headline": headline or {},
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
    for name, check in results["checks"].items():
        mark = {True: "x", False: " ", None: "?"}[check["passed"]]
        lines.append(f"  [{mark}] {name}" + (f": {check['detail']}" if check["detail"] else ""))
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
