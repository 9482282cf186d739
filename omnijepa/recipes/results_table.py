"""The README's results table, regenerated from repro outputs (``omnijepa report DIR...``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from omnijepa.errors import RunDirError

HEADER = (
    "| repro | data | probe | trained | random-init twin | paired gap (n seeds) | p | checks "
    "| verdict | seconds |\n|---|---|---|---|---|---|---|---|---|---|"
)


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise RunDirError(f"{path} does not exist")
    file = path / "results.json" if path.is_dir() else path
    if not file.is_file():
        raise RunDirError(f"no results.json in {path}")
    try:
        results = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{file} is not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise RunDirError(f"{file} is not UTF-8 text (a damaged results.json?)") from None
    if not isinstance(results, dict) or not {"name", "verdict"} <= results.keys():
        raise RunDirError(
            f"{path} holds no repro results (a train run? `omnijepa report` reads the output "
            "of `omnijepa repro NAME`)"
        )
    if not isinstance(results.get("checks", {}), dict) or not isinstance(
        results.get("metrics", {}), dict
    ):
        raise RunDirError(f"{file}: its checks or metrics are not a mapping (edited by hand?)")
    return results


def short_data(text: str, limit: int = 60) -> str:
    """A data description fit for a table cell: parenthesised asides longer than ``limit``
    characters (e.g. a list of 36 class names) become "(…)"; the rest is kept."""
    return re.sub(r"\(([^()]*)\)", lambda m: m[0] if len(m[1]) <= limit else "(…)", text)


def _pm(s: dict[str, Any]) -> str:
    return f"{s['mean']:.3f} ± {s['std']:.3f}"


def table_row(results: dict[str, Any]) -> str:
    """One Markdown row: headline probe, trained vs twin, paired gap and p, checks, verdict."""
    checks = results.get("checks", {})
    passed = sum(1 for c in checks.values() if (c["passed"] if isinstance(c, dict) else c))
    h = results.get("headline") or {}
    if h:
        gap = h["gap"]
        p = "–" if gap.get("p") is None else f"{gap['p']:.2g}"
        pts = f"{gap['mean'] * 100:+.1f} ± {gap['std'] * 100:.1f} pts ({gap['n']})"
        data = short_data(h.get("data", ""))
        cells = [data, h["metric"], _pm(h["trained"]), _pm(h["random_init"]), pts, p]
    else:  # an analysis (no encoder, no twin): its numbers are in its own notes
        cells = ["–"] * 6
    return "| " + " | ".join([
        results["name"], *cells, f"{passed}/{len(checks)}", f"**{results['verdict']}**",
        f"{results.get('seconds', float('nan')):.0f}",
    ]) + " |"  # fmt: skip


def results_table(paths: list[Path]) -> str:
    """The Markdown table for the repro directories (or results.json files) in ``paths``."""
    return "\n".join([HEADER, *(table_row(_read(p)) for p in paths)])
