"""The Python API in four calls, mirroring the CLI (``omnijepa train | eval | repro | list``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def list_recipes() -> dict[str, str]:
    """Recipe name -> one-line summary."""
    from omnijepa.recipes import RECIPES

    return {name: RECIPES.get(name).summary for name in RECIPES}


def train(
    recipe: str, out: str | Path, overrides: list[str] = (), overwrite: bool = False
) -> dict[str, Any]:
    """Pre-train ``recipe`` with ``key=value`` overrides into run directory ``out``."""
    from omnijepa.recipes import RECIPES
    from omnijepa.recipes.run import train_run

    return train_run(RECIPES.get(recipe), list(overrides), Path(out), overwrite=overwrite)


def resume(run_dir: str | Path) -> dict[str, Any]:
    """Continue an unfinished run directory to its configured number of steps."""
    from omnijepa.recipes.saved_runs import resume_run

    return resume_run(Path(run_dir))


def evaluate(run_dir: str | Path, overrides: list[str] = ()) -> dict[str, Any]:
    """Evaluate a trained run directory; also writes ``eval.json`` there."""
    from omnijepa.recipes.saved_runs import eval_run

    return eval_run(Path(run_dir), list(overrides))


def repro(
    name: str,
    out: str | Path,
    seeds: int | None = None,
    quick: bool = False,
    overrides: list[str] = (),
) -> dict[str, Any]:
    """Run a small-scale reproduction; returns what results.json holds.

    ``seeds=None`` uses the reproduction's default (3 for pre-training recipes, 1 for the
    sequence labs, whose budget is one training run per model).
    """
    from omnijepa.recipes import REPRODUCTIONS

    fn = REPRODUCTIONS.get(name)
    return fn(Path(out), seeds or getattr(fn, "default_seeds", 3), quick, list(overrides))
