"""Existing run directories: find their recipe by name, resume them, re-evaluate them, export
their frozen features (``embed``), and reuse their trained encoder frozen (TI-JEPA's image
side: ``model.image_encoder=DIR``)."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from omnijepa.config import apply_dict, parse_overrides
from omnijepa.errors import ConfigError, ModelMismatchError, RunDirError
from omnijepa.eval.feature_export import FeaturesCaptured, capturing_features
from omnijepa.eval.reading import read_run
from omnijepa.recipes import RECIPES
from omnijepa.recipes.base import Built, Recipe
from omnijepa.recipes.run import saved_config, train_run, write_json
from omnijepa.recipes.saved_encoder import recipe_of_run, run_encoder
from omnijepa.recipes.summary import aggregate
from omnijepa.train.checkpoint import load_model_weights
from omnijepa.train.metrics_log import read_metrics
from omnijepa.train.trainer import resolve_device


def saved_recipe(run_dir: Path) -> Recipe:
    """The recipe an existing run directory was trained with."""
    return recipe_of_run(run_dir, RECIPES)


def resume_run(run_dir: Path) -> dict[str, Any]:
    """Continue an unfinished run directory to its configured number of steps."""
    return train_run(saved_recipe(run_dir), [], run_dir, resume=True)


EVAL_SECTIONS = ("eval", "heads", "decoder", "data", "device")  # what evaluation may change


def _saved_for_evaluation(run_dir: Path, overrides: list[str]) -> tuple[Recipe, Any]:
    """The run's recipe and saved config with ``overrides``, which may change only what
    evaluation reads (``EVAL_SECTIONS``)."""
    recipe = saved_recipe(run_dir)
    saved = saved_config(recipe, run_dir)
    cfg = apply_dict(saved, parse_overrides(overrides))  # an unknown key: that error first
    bad = [o for o in overrides if o.partition("=")[0].split(".")[0].strip() not in EVAL_SECTIONS]
    if bad:
        mine = [s for s in EVAL_SECTIONS[:-1] if hasattr(saved, s)]  # this recipe's sections
        raise ConfigError(
            f"eval and embed may change only {', '.join(s + '.*' for s in mine)} and "
            f"device; {', '.join(bad)} would change the trained network"
        )
    data = [o for o in overrides if o.strip().startswith("data.")]
    if data and (why := recipe.data_fixed(cfg)):
        raise ConfigError(f"{', '.join(data)}: {why}")
    return recipe, cfg


def _rebuilt(
    run_dir: Path, recipe: Recipe, cfg: Any, overrides: list[str]
) -> tuple[Built, nn.Module, dict[str, Any]]:
    """The run's recipe built for ``cfg`` with its trained weights loaded (and its checkpoint
    state), saying so when the run stopped before its last step, and naming the data
    overrides when they changed the network's shape."""
    device = resolve_device(cfg.device)
    built = recipe.build(cfg, device)
    objective = built.parts.objective.to(device)
    try:
        state = load_model_weights(run_dir, objective)
    except ModelMismatchError:
        data = [o for o in overrides if o.strip().startswith("data.")]
        if not data:
            raise
        raise ConfigError(
            f"{', '.join(data)}: this data does not fit the network the run trained (other "
            "channels, columns, sizes or classes); evaluate data of the same kind"
        ) from None
    steps = getattr(getattr(cfg, "train", None), "steps", None)
    if not state.get("finished", True):
        warnings.warn(
            f"{run_dir} stopped at step {state['step']}"
            f"{f' of {steps}' if steps else ''}: these are the weights it has "
            f"(omnijepa train --resume {run_dir} finishes it)",
            stacklevel=3,
        )
    return built, objective, state


EVAL_FIGURES = "eval"  # the folder of a re-evaluation's pictures (intents.json, examples.png)


def eval_run(run_dir: Path, overrides: list[str]) -> dict[str, Any]:
    """Re-evaluate a trained run directory; writes eval.json (with the overrides used) and
    the recipe's pictures under ``eval/``, leaving the training run's own as they were.
    Overrides may change only what evaluation reads (``EVAL_SECTIONS``): a key of the model,
    its training or its seed would evaluate another network with these weights."""
    recipe, cfg = _saved_for_evaluation(run_dir, overrides)
    if not os.access(run_dir, os.W_OK):
        raise RunDirError(f"cannot write eval.json in {run_dir}: the folder is read-only")
    built, objective, state = _rebuilt(run_dir, recipe, cfg, overrides)
    t0 = time.perf_counter()
    metrics = built.timed_evaluate(recipe.name, objective)
    if built.figures is not None:  # beside eval.json, never over the training run's own
        (run_dir / EVAL_FIGURES).mkdir(exist_ok=True)
        built.figures(objective, run_dir / EVAL_FIGURES)
    summary = aggregate([metrics])
    log = run_dir / "metrics.jsonl"
    steps = [r for r in read_metrics(log) if "loss" in r] if log.is_file() else []
    results = {
        "recipe": recipe.name,
        "data": built.description,
        "checkpoint_step": state["step"],
        "overrides": list(overrides),
        "metrics": summary,
        "reading": read_run(
            summary, recipe.main_probe, steps[-1] if steps else None, recipe.raw_name
        ),
        "seconds": time.perf_counter() - t0,
    }
    write_json(run_dir / "eval.json", results)
    return results


_NO_FEATURES = "a {!r} run is not evaluated on pooled frozen features, so it has none to export"


def embed_run(run_dir: Path, overrides: list[str], out: Path) -> dict[str, Any]:
    """Write the pooled features of the run's verdict encoder (its frozen weights, the
    protocol's ``eval.layers`` / ``eval.pool``) for the train and test splits of its data, or
    of ``data.path=...`` given as an override, to ``out`` (.npz: ``train_x``, ``train_y``,
    ``test_x``, ``test_y``; labels -1 where the data has none; ``train_files``/``test_files``,
    the file of each row, and ``classes``, the name of each label, where the data knows them:
    folders of images, point clouds, series and audio, and the built-in classes' names).
    Never overwrites a file."""
    out = Path(out)
    if out.suffix != ".npz":
        raise ConfigError(f"embed writes a .npz file; got --out {out}")
    if out.exists():
        raise RunDirError(f"{out} exists; embed never overwrites: choose another --out")
    if not out.parent.is_dir():
        raise RunDirError(f"cannot write {out}: folder {out.parent} does not exist")
    recipe, cfg = _saved_for_evaluation(run_dir, overrides)
    if not recipe.embeds:
        raise RunDirError(_NO_FEATURES.format(recipe.name))
    if recipe.embed_ignores_path and any(o.startswith("data.path=") for o in overrides):
        raise ConfigError(f"{recipe.name}: {recipe.embed_ignores_path}")
    if getattr(getattr(cfg, "eval", None), "pool", None) == "attentive":
        warnings.warn(
            "eval.pool=attentive is a probe that learns its pooling per task, not a pooling: "
            "embed writes mean-pooled features (eval.pool=max or max_mean for others)",
            stacklevel=2,
        )
    built, objective, state = _rebuilt(run_dir, recipe, cfg, overrides)
    # the evaluation stops once its features are captured: what it would say about its
    # probes (skipped episodes, a thin split) concerns runs embed never makes
    with capturing_features() as sink, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            built.evaluate(objective)
        except FeaturesCaptured:
            pass
    if "train" not in sink:
        raise RunDirError(_NO_FEATURES.format(recipe.name))
    (train_x, train_y), (test_x, test_y) = sink["train"], sink["test"]
    names = {key: np.array(sink[key], dtype=str)  # row i of train_x came from train_files[i]
             for key in ("train_files", "test_files", "classes") if sink.get(key)}  # fmt: skip
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.npz")
    np.savez(tmp, train_x=train_x.astype(np.float32), train_y=train_y,
             test_x=test_x.astype(np.float32), test_y=test_y, **names)  # fmt: skip
    try:
        os.link(tmp, out)  # fails if another embed wrote ``out`` meanwhile: never replace it
    except FileExistsError:
        raise RunDirError(f"{out} appeared while embedding; embed never overwrites") from None
    finally:
        tmp.unlink(missing_ok=True)
    return {
        "recipe": recipe.name,
        "data": built.description,
        "checkpoint_step": state["step"],
        "encoder": sink["encoder"],
        "pool": sink["pool"],
        "layers": sink["layers"],
        "train": list(train_x.shape),
        "test": list(test_x.shape),
        "names": list(names),
        "out": str(out),
    }


def encoder_from_run(run_dir: Path, device: torch.device) -> nn.Module:
    """The frozen encoder of a finished run of any registered recipe (``run_encoder``)."""
    return run_encoder(run_dir, device, RECIPES)
