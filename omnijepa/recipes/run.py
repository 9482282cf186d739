"""Run-directory workflows: train (or resume) a recipe into a run directory and evaluate it.

Knows no registry: callers hand it the recipe (``recipes.saved_runs`` finds the recipe of an
existing run directory by name, for resume and re-evaluation).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from omnijepa.config import (
    absolute_paths,
    apply_dict,
    load_config,
    parse_overrides,
    to_dict,
    yaml_problem,
)
from omnijepa.console import progress_lines
from omnijepa.data.class_folders import visible
from omnijepa.distributed import finish
from omnijepa.errors import ConfigError, RunDirError
from omnijepa.eval.learning_curve import plot_probe_curve
from omnijepa.eval.plots import plot_training
from omnijepa.eval.reading import read_run
from omnijepa.recipes.base import Built, Recipe
from omnijepa.recipes.replaced_run import ASIDE, interrupted, restore, set_aside, settle
from omnijepa.recipes.summary import aggregate
from omnijepa.train.checkpoint import (
    STATE_FILE,
    atomic_write_text,
    load_model_weights,
    read_state,
)
from omnijepa.train.data_fingerprint import data_fingerprint
from omnijepa.train.data_order import check_batch_fits
from omnijepa.train.metrics_log import read_metrics
from omnijepa.train.sharding import is_sharded
from omnijepa.train.trainer import TrainingDiverged, resolve_device, train

RESULTS_FILE = "results.json"
RUN_RECORDS = (RESULTS_FILE, STATE_FILE, "eval.json")  # an old run's, never kept by a new one
CONFIG_FILE = "config.yaml"


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Pretty JSON, written atomically."""
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def _is_main() -> bool:
    """True outside torchrun and on its rank 0."""
    return int(os.environ.get("RANK", "0")) == 0


def check_repro_dir(out: Path, name: str) -> None:
    """A repro may write into a new folder or over an earlier repro of the same name; a
    train run or another reproduction's folder is refused (it used to be overwritten)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise RunDirError(f"--out {out} exists and is not a directory")
    if (out / CONFIG_FILE).exists() or (out / STATE_FILE).exists():
        raise RunDirError(f"{out} holds a train run; give repro a folder of its own")
    results = out / RESULTS_FILE
    if results.is_file():
        try:
            earlier = json.loads(results.read_text()).get("name")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            earlier = None
        if earlier != name:
            raise RunDirError(
                f"{out} holds {f'the {earlier!r} reproduction' if earlier else 'other results'}"
                f"; repro {name} writes only into a new folder or over its own earlier repro"
            )


def data_path_of(cfg: Any) -> str | None:
    """``cfg.data.path`` when the config has one and it is set, else None."""
    path = getattr(getattr(cfg, "data", None), "path", None)
    return path if isinstance(path, str) and path else None


def refuse_inside_data(out: Path, cfg: Any, what: str) -> None:
    """A RunDirError when ``out`` lies inside a local ``data.path`` folder: the next run
    would read ``what`` (the run's files, a picture) as data."""
    data_path = data_path_of(cfg)
    if data_path is None or "://" in data_path:
        return
    data = Path(data_path).expanduser().resolve()
    if data.is_dir() and out.resolve().is_relative_to(data):
        raise RunDirError(
            f"--out {out} lies inside data.path {data_path}: {what} would be read as data; "
            "choose a place outside it"
        )


def _refuse_interrupted(out: Path) -> None:
    """An --overwrite killed before its new run's first checkpoint left the old run aside:
    the user chooses what happens to it."""
    if interrupted(out):
        raise RunDirError(
            f"{out}: an --overwrite was stopped before its new run's first checkpoint; the run "
            f"it was replacing waits in {out / ASIDE}: move its files back into {out} to keep "
            "it, or start again with --overwrite"
        )


def _check_run_dir(out: Path, overwrite: bool, cfg: Any) -> None:
    """Refuse an --out that would lose or pollute something: a file, a folder inside the
    training data (its pictures would be read as data next time), another run, or a folder of
    other files (only --overwrite replaces a run; nothing replaces a user's files)."""
    if out.exists() and not out.is_dir():
        raise RunDirError(f"--out {out} exists and is not a directory")
    refuse_inside_data(out, cfg, "the run's files")
    if not out.exists():
        return
    if not (out / CONFIG_FILE).exists() and any(visible(p) for p in out.iterdir()):
        raise RunDirError(
            f"--out {out} is a folder of other files, not a run; choose a new or empty folder"
        )
    if overwrite:
        return
    _refuse_interrupted(out)
    if (out / RESULTS_FILE).exists():
        raise RunDirError(f"{out} already holds a finished run; pass --overwrite to replace it")
    if (out / STATE_FILE).exists():
        raise RunDirError(
            f"{out} holds an unfinished run; continue it with --resume {out} or pass --overwrite"
        )


def read_saved(run_dir: Path) -> tuple[str, dict[str, Any]]:
    """Recipe name and config entries saved in an existing run directory."""
    path = run_dir / CONFIG_FILE
    if run_dir.is_file():
        raise RunDirError(f"{run_dir} is a file, not a run directory")
    if not run_dir.is_dir():
        raise RunDirError(f"run directory not found: {run_dir}")
    if not path.is_file():
        runs = sorted(d.name for d in run_dir.iterdir() if (d / CONFIG_FILE).is_file())
        inside = f"; the runs inside it are {', '.join(runs[:4])}{' …' if len(runs) > 4 else ''}"
        raise RunDirError(f"{run_dir} is not a run directory: {CONFIG_FILE} is missing"
                          + (inside if runs else ""))  # fmt: skip
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML{yaml_problem(exc)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text (a damaged config.yaml?)") from None
    if not isinstance(data, dict) or "recipe" not in data:
        raise ConfigError(f"{path} does not name its recipe")
    return str(data.pop("recipe")), data


def saved_config(recipe: Recipe, run_dir: Path) -> Any:
    """The config saved in ``run_dir``, which must be a run of ``recipe``."""
    name, data = read_saved(run_dir)
    if name != recipe.name:
        raise RunDirError(f"{run_dir} is a {name!r} run, not {recipe.name!r}")
    return apply_dict(recipe.default_config(), data)


# what a resumed run may change: how it runs, not what it computes
RESUME_KEYS = (
    "device",
    "data.path",  # the same data moved elsewhere (checked by its description and fingerprint)
    "train.stop_at",
    "train.strategy",
    "train.activation_checkpointing",
    "train.compile",
    "train.num_workers",
    "train.progress",
    "train.checkpoint_every",
    "train.log_every",
    "train.tensorboard",
)


def _how_it_runs(overrides: list[str]) -> list[str]:
    """``overrides`` if each names a key of :data:`RESUME_KEYS`, else a ConfigError."""
    bad = [o for o in overrides if o.partition("=")[0].strip() not in RESUME_KEYS]
    if bad:
        raise ConfigError(
            f"--resume continues a run with its saved config; it may change only "
            f"{', '.join(RESUME_KEYS)} (got {', '.join(bad)})"
        )
    return overrides


def make_dir(path: Path, what: str = "folder") -> bool:
    """Create the folder ``path`` (and its parents) before slow work, so an unwritable place
    fails first with one error naming it; True when it did not exist before."""
    existed = path.is_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"cannot create the {what} {path}: {exc.strerror or exc}") from None
    return not existed


def _remove_unstarted(out: Path) -> None:
    """Leave nothing behind for a new run that failed before its first checkpoint: the files
    it wrote so far, then the folder it made (kept if anything else is in it)."""
    for name in (CONFIG_FILE, "metrics.jsonl"):
        (out / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        out.rmdir()


def train_run(
    recipe: Recipe,
    overrides: list[str],
    out: Path,
    config_file: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    on_start: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Train (or resume) a run of ``recipe`` in ``out``, evaluate it, write results.json and
    plots. ``resume`` continues ``out`` with its saved config. ``on_start`` is called once the
    new run has started (data and settings checked), just before it replaces an old one."""
    moved: tuple[str, str] | None = None  # (saved, given) data.path of a resumed run
    if resume:
        saved = saved_config(recipe, out)
        cfg = dataclasses.replace(saved, train=dataclasses.replace(saved.train, stop_at=0))
        cfg = absolute_paths(apply_dict(cfg, parse_overrides(_how_it_runs(overrides))))
        before, after = data_path_of(saved), data_path_of(cfg)
        moved = (before, after) if before and after and before != after else None
        _refuse_interrupted(out)
        state = read_state(out)
        if state["step"] > cfg.train.steps:
            raise RunDirError(f"{out}: its state.json says step {state['step']}, beyond the "
                              f"run's train.steps={cfg.train.steps}")  # fmt: skip
        stop = cfg.train.stop_at
        if stop and stop <= state["step"] and not state.get("finished"):
            raise RunDirError(f"{out} is saved at step {state['step']}: train.stop_at={stop} "
                              "is not after it; give a later step, or none to finish")  # fmt: skip
        if state.get("finished") and (out / RESULTS_FILE).exists():
            raise RunDirError(
                f"{out} is already finished (step {state['step']}); nothing to resume"
            )
        if state.get("finished"):  # stopped during its final evaluation: run that alone
            print(f"{out} finished training but holds no {RESULTS_FILE}: evaluating it",
                  flush=True)  # fmt: skip
    else:
        cfg = load_config(recipe.default_config(), config_file, overrides, recipe.name)
        _check_run_dir(out, overwrite, cfg)
    device = resolve_device(cfg.device)
    t0 = time.perf_counter()
    made = not resume and _is_main() and make_dir(out, "run directory")
    try:
        built = recipe.build(cfg, device)
        check_batch_fits(len(built.parts.dataset), cfg.train.batch_size)
    except BaseException:
        if made:
            _remove_unstarted(out)
        raise
    fingerprint = data_fingerprint(built.parts.dataset)
    was, now = state.get("data", built.description) if resume else "", built.description
    if moved:  # the same data in another place: the descriptions differ only by the path
        was, now = was.replace(moved[0], "<data.path>"), now.replace(moved[1], "<data.path>")
    if resume and was != now:
        raise RunDirError(
            f"the data changed since {out} started (was: {state['data']}; now: "
            f"{built.description}); a resumed run must see the same data"
        )
    if resume and state.get("data_fingerprint", fingerprint) != fingerprint:
        raise RunDirError(
            f"the data changed since {out} started: the same counts ({built.description}), "
            "but other samples at the same places (files moved, renamed or edited?); a "
            "resumed run must see the same data"
        )
    if moved and _is_main():  # eval and later resumes read the data where it is now
        saved_text = yaml.safe_load((out / CONFIG_FILE).read_text())
        saved_text["data"]["path"] = moved[1]
        atomic_write_text(out / CONFIG_FILE, yaml.safe_dump(saved_text, sort_keys=False))
    if on_start is not None and _is_main():
        on_start()
    aside = None  # --overwrite: the old run's files, until the new run has a checkpoint
    if not resume and _is_main():  # under torchrun only rank 0 writes the run directory
        if overwrite and not made:  # only now that the new run has started
            aside = set_aside(out)
        text = yaml.safe_dump({"recipe": recipe.name, **to_dict(cfg)}, sort_keys=False)
        atomic_write_text(out / CONFIG_FILE, text)
    print(f"[{recipe.name}] {built.description}; device {device}", flush=True)
    try:
        last = train(
            built.parts,
            cfg.train,
            cfg.seed,
            device,
            out,
            resume=resume,
            extra_state={
                "recipe": recipe.name,
                "data": built.description,
                "data_fingerprint": fingerprint,
            },
        )
    except BaseException as exc:
        unstarted = not (out / STATE_FILE).exists()  # failed before its first checkpoint
        if aside is not None and (unstarted or isinstance(exc, TrainingDiverged)):
            restore(out, aside)  # a diverged run's checkpoint cannot be resumed usefully
            how = "before its first checkpoint" if unstarted else "(diverged)"
            print(f"{out}: the new run failed {how}; the run it was to replace is back as it "
                  "was", flush=True)  # fmt: skip
        elif unstarted and made:
            _remove_unstarted(out)
        elif aside is not None:  # the new run can be resumed: it replaces the old one
            settle(out, aside, RUN_RECORDS)
            print(f"{out}: the new run stopped after a checkpoint and replaces the old one; "
                  f"--resume {out} continues it", flush=True)  # fmt: skip
        raise
    if aside is None and (out / ASIDE).is_dir() and _is_main():
        aside = out / ASIDE  # a resumed run that had replaced an old one: it stands now
    if aside is not None:
        settle(out, aside, RUN_RECORDS)
    train_seconds = time.perf_counter() - t0
    if not _is_main():
        del built  # the sharded model holds the process group: free it while Python is whole
        finish()  # waits for rank 0's evaluation
        return last  # under torchrun only rank 0 evaluates and writes results
    try:
        return _evaluate_and_write(recipe, cfg, built, device, out, (last, t0, train_seconds))
    finally:
        finish()


def _evaluate_and_write(
    recipe: Recipe, cfg: Any, built: Built, device: Any, out: Path, timing: tuple
) -> dict[str, Any]:
    """Rank 0 after training: figures, the evaluation and ``results.json`` (``timing``: the
    trainer's last record, the start time and the training seconds)."""
    last, t0, train_seconds = timing
    records = read_metrics(out / "metrics.jsonl")
    if not last:  # a finished run evaluated again on resume: its last logged training record
        last = next((r for r in reversed(records) if "loss" in r), {})
    plot_training(records, out, recipe.name)
    plot_probe_curve(records, out / "probe_curve.png", recipe.name)
    if cfg.train.stop_at and cfg.train.stop_at < cfg.train.steps:
        print(f"[{recipe.name}] stopped at step {cfg.train.stop_at}; continue with --resume {out}")
        return {"stopped_at": cfg.train.stop_at}
    if is_sharded(built.parts.objective):  # FSDP: evaluate whole weights, from the checkpoint
        built = recipe.build(cfg, device)
        built.parts.objective.to(device)  # build leaves it on the CPU; the evaluation is not
        load_model_weights(out, built.parts.objective)
    with progress_lines(cfg.train.progress):
        metrics = built.timed_evaluate(recipe.name, built.parts.objective)
    if built.figures is not None:
        built.figures(built.parts.objective, out)
    summary = aggregate([metrics])
    results = {
        "recipe": recipe.name,
        "data": built.description,
        "metrics": summary,
        "reading": read_run(summary, recipe.main_probe, last, recipe.raw_name),
        "train": last,
        "train_seconds": train_seconds,
        "seconds": time.perf_counter() - t0,
    }
    write_json(out / RESULTS_FILE, results)
    return results
