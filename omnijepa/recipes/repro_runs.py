"""Seeded runs of a recipe's default and its variants, paired by seed, plus the training
monitors every repro reports (teacher weight on init, drifts, collapse monitors)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omnijepa.eval.significance import Check, threshold
from omnijepa.recipes.base import Recipe
from omnijepa.recipes.paired_checks import (
    Judge,
    Runs,
    beats_reference,
    beats_variant,
    headline,
    twin_gaps,
)
from omnijepa.recipes.parallel_runs import run_jobs, seed_jobs
from omnijepa.recipes.repro_report import write_repro
from omnijepa.recipes.summary import aggregate
from omnijepa.train.metrics_log import read_metrics

Variant = tuple[str, list[str]]  # (name, overrides)

# variants only need the trained encoder probed: the twin and raw input are the default's
VARIANT_EVAL = ["eval.baselines=false"]
# the target-positions-only predictor rides along in repro runs (it trains only itself)
POSITION_PROBE = ("position_probe=true",)


def variant_eval(recipe: Recipe) -> list[str]:
    """``VARIANT_EVAL``, plus ``eval.online=false`` where the recipe's protocol has that key
    (an ablation is judged by one encoder, so its other one is not probed) and
    ``train.probe_every=0`` where it has a learning curve: an ablation's curve is never read,
    and it cost I-JEPA's runs a quarter of their training time (the curve's probes touch no
    random state, so the weights are the same with or without it)."""
    cfg = recipe.default_config()
    online = hasattr(getattr(cfg, "eval", None), "online")
    curve = hasattr(getattr(cfg, "train", None), "probe_every")
    return [
        *VARIANT_EVAL,
        *(["eval.online=false"] if online else []),
        *(["train.probe_every=0"] if curve else []),
    ]


def variant_runs(
    recipe: Recipe,
    overrides: list[str],
    variants: list[Variant],
    seeds: int,
    out: Path,
    default_extra: tuple[str, ...] = (),
    full_eval: tuple[str, ...] = (),
) -> dict[str, list[dict[str, Any]]]:
    """Per-seed metrics of ``default`` and every variant under ``out/<name>_<seed>``.

    Seed k of every variant has the same data and starting weights, so they pair by seed.
    ``default_extra`` overrides apply to the default runs only (e.g. ``POSITION_PROBE``);
    variants named in ``full_eval`` keep the twin and raw baselines (e.g. runs on other data).
    """
    plan = [("default", [*default_extra, *overrides])]
    light = variant_eval(recipe)
    plan += [
        (name, [*overrides, *extra, *([] if name in full_eval else light)])
        for name, extra in variants
    ]
    jobs = [job for name, ov in plan for job in seed_jobs(recipe, ov, seeds, out, name)]
    results = run_jobs(jobs)  # all runs in one pool, so they share the cores
    return {name: results[i * seeds : (i + 1) * seeds] for i, (name, _) in enumerate(plan)}


def judged_variant_repro(
    recipe: Recipe,
    out: Path,
    seeds: int,
    overrides: list[str],
    variants: list[Variant],
    judge: Callable[[dict[str, Runs], dict[str, Any]], list[Check]],
    metric: str,
    notes: str,
) -> dict[str, Any]:
    """The default and its variants over seeds, the twin gaps, ``judge``'s checks (it may add
    figures to the metrics) and ``results.json`` headed by ``metric``."""
    t0 = time.perf_counter()
    runs = variant_runs(recipe, overrides, variants, seeds, out)
    metrics = aggregate(runs["default"])
    metrics["gaps_vs_random_init"] = twin_gaps(runs["default"])
    checks = judge(runs, metrics)
    top = headline(metrics, metric, run_description(out))
    return write_repro(recipe, out, metrics, checks, t0, notes, top)


def run_monitors(run_dir: Path) -> dict[str, float]:
    """From metrics.jsonl: final teacher weight on init and drifts; min and final target and
    prediction std (collapse monitors); the anti-collapse term's gradient on the encoder over
    the prediction's, mean over the logged steps (> 1: the encoder learns mostly from it)."""
    records = read_metrics(run_dir / "metrics.jsonl")
    out: dict[str, float] = {}
    for key in ("teacher_init_weight", "target_drift", "online_drift", "tokenizer_drift"):
        vals = [r[key] for r in records if key in r]
        if vals:
            out[f"{key}_final"] = vals[-1]
    for key in ("target_std", "pred_std"):
        vals = [r[key] for r in records if key in r]
        if vals:
            out[f"{key}_min"], out[f"{key}_final"] = min(vals), vals[-1]
    grads = [r for r in records if r.get("encoder_grad_prediction", 0) > 0]
    for term in ("anti_collapse", "invariance"):
        ratios = [r[f"encoder_grad_{term}"] / r["encoder_grad_prediction"]
                  for r in grads if f"encoder_grad_{term}" in r]  # fmt: skip
        if ratios:
            out[f"encoder_grad_ratio_{term}_to_prediction"] = sum(ratios) / len(ratios)
    return out


def monitors_of(out: Path, name: str, seeds: int) -> dict[str, Any]:
    """``run_monitors`` of a variant's seeds, summarised over seeds."""
    per_seed = [run_monitors(out / f"{name}_{s}") for s in range(seeds)]
    return aggregate(per_seed) if per_seed and per_seed[0] else {}


def run_description(out: Path, name: str = "default") -> str:
    """The one-line data description of a variant's first seed (from its results.json)."""
    path = out / f"{name}_0" / "results.json"
    return json.loads(path.read_text()).get("data", "") if path.is_file() else ""


def position_leak(run_dir: Path, last: int = 5) -> dict[str, float]:
    """Mean of the last ``last`` logged losses of the real and the position-only predictor."""
    recs = [r for r in read_metrics(run_dir / "metrics.jsonl") if "position_only_loss" in r]
    if not recs:
        return {}
    tail = recs[-last:]
    full = sum(r["prediction_loss"] for r in tail) / len(tail)
    blind = sum(r["position_only_loss"] for r in tail) / len(tail)
    return {"prediction_loss": full, "position_only_loss": blind, "ratio": full / blind}


def position_leak_of(out: Path, name: str, seeds: int) -> dict[str, Any]:
    """``position_leak`` of a variant's seeds, summarised over seeds ({} without the probe)."""
    leaks = [position_leak(out / f"{name}_{s}") for s in range(seeds)]
    return aggregate(leaks) if leaks and leaks[0] else {}


def context_check(leak: dict[str, Any]) -> list[Check]:
    """The pretext task needs the context: the real predictor's final loss is under 0.9x that
    of a predictor that sees only the target positions (none when the probe did not run)."""
    if not leak:
        return []
    return [threshold("context matters: predictor loss < 0.9 x position-only loss",
                      leak["ratio"]["mean"], "<", 0.9, "loss ratio")]  # fmt: skip


def judge_variants(
    runs: dict[str, Runs], variants: list[Variant], probe: str, metrics: dict[str, Any]
) -> list[Check]:
    """One check per variant (the default beats it on ``probe``, paired by seed); records each
    variant's ``probe`` and its gap in ``metrics``."""
    checks = []
    for name, _ in variants:
        check, gap = beats_variant(runs["default"], runs[name], probe, name)
        checks.append(check)
        metrics[f"{name}_{probe}"] = aggregate(runs[name])[probe]["jepa"]
        metrics[f"gap_vs_{name}"] = gap
    return checks


def record_monitors(runs: dict[str, Runs], out: Path, seeds: int, metrics: dict[str, Any]) -> None:
    """Every run's training monitors and, where the probe ran, the default's position leak."""
    metrics["monitors"] = {n: monitors_of(out, n, seeds) for n in runs}
    leak = position_leak_of(out, "default", seeds)
    if leak:
        metrics["position_leak"] = leak


def run_latent_repro(
    recipe: Recipe,
    out: Path,
    seeds: int,
    overrides: list[str],
    margin: float,
    notes: str,
    vs_raw: bool = False,
    judge: Judge | None = None,
) -> dict[str, Any]:
    """The repro of a latent-prediction recipe: ``seeds`` runs of the default (with the
    position-only probe) and of each of ``recipe.variants``, paired by seed. Checks: the linear
    probe beats the random-init twin by ``margin`` and kNN beats it (and beats the raw input
    when ``vs_raw``), the variants' checks (``judge``; default: the default beats every
    variant), and the context matters."""
    t0 = time.perf_counter()
    variants = getattr(recipe, "variants", [])
    full_eval = tuple(getattr(recipe, "full_eval_variants", ()))
    runs = variant_runs(recipe, overrides, variants, seeds, out, POSITION_PROBE, full_eval)
    default = runs["default"]
    metrics = aggregate(default)
    metrics["gaps_vs_random_init"] = twin_gaps(default)
    checks = [
        beats_reference(default, "linear_probe", "random_init", margin, "linear probe")[0],
        beats_reference(default, "knn", "random_init", 0.0, "kNN")[0],
    ]
    if vs_raw:
        checks.append(beats_reference(default, "linear_probe", "raw", 0.0, "linear probe")[0])
    checks += (judge or judge_variants)(runs, variants, "linear_probe", metrics)
    record_monitors(runs, out, seeds, metrics)
    checks += context_check(metrics.get("position_leak", {}))
    top = headline(metrics, "linear_probe", run_description(out))
    return write_repro(recipe, out, metrics, checks, t0, notes, top)
