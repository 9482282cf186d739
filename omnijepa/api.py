"""The Python API, mirroring the CLI (``omnijepa train | eval | embed | repro | list``).

Arguments are checked at the door, so a wrong type is one clear error here rather than a
traceback from deep inside: overrides are a list of ``"key=value"`` strings (a dict
``{"train.steps": 2}`` is taken too), paths are ``str`` or ``Path``, seeds an int >= 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omnijepa.errors import ConfigError


def _overrides(value: Any) -> list[str]:
    """``value`` as a list of ``key=value`` strings."""
    if value is None:
        return []
    if isinstance(value, str):
        raise TypeError(f"overrides must be a list of 'key=value' strings; got the string "
                        f"{value!r}: wrap it in a list")  # fmt: skip
    if isinstance(value, Mapping):
        return [f"{k}={v}" for k, v in value.items()]
    items = list(value)
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise TypeError(f"overrides must be 'key=value' strings; got {bad[0]!r}")
    return items


def _path(value: Any, what: str) -> Path:
    if not isinstance(value, (str, Path)) or str(value) == "":
        raise TypeError(f"{what} must be a path (str or Path), got {value!r}")
    return Path(value)


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

    return train_run(
        RECIPES.get(recipe), _overrides(overrides), _path(out, "out"), overwrite=overwrite
    )


def resume(run_dir: str | Path) -> dict[str, Any]:
    """Continue an unfinished run directory to its configured number of steps."""
    from omnijepa.recipes.saved_runs import resume_run

    return resume_run(_path(run_dir, "run_dir"))


def evaluate(run_dir: str | Path, overrides: list[str] = ()) -> dict[str, Any]:
    """Evaluate a trained run directory; also writes ``eval.json`` there."""
    from omnijepa.recipes.saved_runs import eval_run

    return eval_run(_path(run_dir, "run_dir"), _overrides(overrides))


def embed(run_dir: str | Path, out: str | Path, overrides: list[str] = ()) -> dict[str, Any]:
    """Write a trained run's frozen pooled features (``train_x``, ``train_y``, ``test_x``,
    ``test_y``; ``train_files``/``test_files`` and ``classes`` where the data knows them) to the
    .npz ``out``; ``data.path=...`` among the overrides embeds other data."""
    from omnijepa.recipes.saved_runs import embed_run

    return embed_run(_path(run_dir, "run_dir"), _overrides(overrides), _path(out, "out"))


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
    from omnijepa.recipes.run import check_repro_dir

    fn = REPRODUCTIONS.get(name)
    check_repro_dir(_path(out, "out"), name)
    if seeds is None:
        seeds = getattr(fn, "default_seeds", 3)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ConfigError(f"seeds must be an int >= 1 (or None for the default), got {seeds!r}")
    return fn(_path(out, "out"), seeds, quick, _overrides(overrides))
