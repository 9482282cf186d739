"""Independent training runs of a reproduction, several at once on a multi-core CPU.

A repro is many small runs (seeds x variants). On a CPU one run rarely keeps every core busy
(small matmuls, Python overhead), so ``jobs`` runs proceed side by side in spawned processes,
each with ``cores // jobs`` torch threads (the last runs, when fewer than ``jobs`` remain,
share the cores among themselves); on a GPU, runs go one after another. Every run is
seeded by its own config, so results do not depend on how runs are scheduled (up to float
rounding from the thread count).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch
from threadpoolctl import threadpool_limits

from omnijepa.config import load_config
from omnijepa.console import SAID_DIR_ENV, one_line_warnings
from omnijepa.errors import ConfigError
from omnijepa.recipes.base import Recipe
from omnijepa.recipes.run import train_run

Job = tuple[Recipe, list[str], Path]  # (recipe, overrides, run directory)

_JOBS_ENV = "OMNIJEPA_REPRO_JOBS"


def repro_jobs(n_runs: int) -> int:
    """How many runs go at once: $OMNIJEPA_REPRO_JOBS (``omnijepa repro --jobs``) if set, else
    1 on a GPU and up to the number of CPU cores otherwise."""
    env = os.environ.get(_JOBS_ENV, "")
    if env:
        if not env.strip().isdigit() or int(env) < 1:
            raise ConfigError(f"${_JOBS_ENV}={env!r}: give a whole number of runs >= 1 "
                              "(or unset it: one run per CPU core)")  # fmt: skip
        return min(int(env), n_runs)
    if torch.cuda.is_available():
        return 1
    return max(1, min(os.cpu_count() or 1, n_runs))


def set_repro_jobs(jobs: int | None) -> None:
    """Fix the number of concurrent runs for this process and its children (None = auto)."""
    if jobs is None:
        os.environ.pop(_JOBS_ENV, None)
    else:
        os.environ[_JOBS_ENV] = str(jobs)


def _means(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v["mean"] if "mean" in v else _means(v) for k, v in summary.items()}


def seed_jobs(recipe: Recipe, overrides: list[str], seeds: int, out: Path, tag: str) -> list[Job]:
    """One job per seed under ``out/<tag>_<k>``, k = 0..n-1: seeds 0..n-1, or from a
    ``seed=B`` override on, B..B+n-1 (a user's seed used to be dropped without a word)."""
    given = [o for o in overrides if o.partition("=")[0].strip() == "seed"]
    rest = [o for o in overrides if o not in given]
    base = 0
    if given:
        value = given[-1].partition("=")[2].strip()
        try:
            base = int(value)
        except ValueError:
            raise ConfigError(f"seed={value}: a repro's seed is the first of its --seeds "
                              "seeds and must be an integer") from None  # fmt: skip
    return [(recipe, [*rest, f"seed={base + k}"], out / f"{tag}_{k}") for k in range(seeds)]


def _run_one(job: Job, threads: int, quiet: bool) -> dict[str, Any]:
    if threads:
        torch.set_num_threads(threads)
        # BLAS/OpenMP pools too (scikit-learn probes): two busy cores each running a 2-thread
        # pool made an MLP probe 5x slower
        threadpool_limits(threads)
    recipe, overrides, run_dir = job
    extra = ["train.progress=false"] if quiet else []
    # overwrite: an earlier run here is replaced only once this one has started (its data
    # and settings checked), so a repro that cannot start leaves the old one whole
    summary = run_dir.parent / "results.json"  # an earlier repro's, beside its runs

    def drop_summary() -> None:  # once this run has started, before it replaces the old one:
        summary.unlink(missing_ok=True)  # an interrupted rerun never reports the old result

    with one_line_warnings():  # a spawned worker prints as the command does
        res = train_run(recipe, [*overrides, *extra], run_dir, overwrite=True,
                        on_start=drop_summary)  # fmt: skip
    return _means(res["metrics"])


def job_threads(index: int, n_jobs: int, workers: int, cores: int) -> int:
    """Torch threads for job ``index``: the cores shared among the workers, except that the
    last ``n_jobs % workers`` jobs (which run with fewer neighbours) share them among
    themselves — 3 runs on 2 cores: the third gets both cores instead of leaving one idle."""
    tail = n_jobs % workers
    share = tail if tail and index >= n_jobs - tail else workers
    return max(1, cores // share)


def run_jobs(jobs: list[Job]) -> list[dict[str, Any]]:
    """Train+evaluate every job; per-run metric means, in the order of ``jobs``. Every job's
    settings are checked first, so a typo fails before any run starts or any old one goes."""
    for recipe, overrides, _ in jobs:
        load_config(recipe.default_config(), None, overrides)
    _note_stale_runs(jobs)
    workers = repro_jobs(len(jobs))
    if workers == 1:
        return [_run_one(job, 0, False) for job in jobs]
    cores = os.cpu_count() or 1
    ctx = multiprocessing.get_context("spawn")  # fork after torch threads start can deadlock
    t0 = time.perf_counter()
    with _said_once_among_workers(), ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = [pool.submit(_run_one, job, job_threads(i, len(jobs), workers, cores), True)
                   for i, job in enumerate(jobs)]  # fmt: skip
        results = []
        for job, fut in zip(jobs, futures):
            results.append(fut.result())
            print(f"[repro] {job[2].name} done ({time.perf_counter() - t0:.0f} s)", flush=True)
    return results


@contextlib.contextmanager
def _said_once_among_workers() -> Iterator[None]:
    """Workers spawned inside this block share a folder that says which warnings one of them
    has printed (``console.first_to_say``), so each is printed once, not once per run."""
    before = os.environ.get(SAID_DIR_ENV)
    with tempfile.TemporaryDirectory(prefix="omnijepa-said-") as folder:
        os.environ[SAID_DIR_ENV] = folder
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(SAID_DIR_ENV, None)
            else:
                os.environ[SAID_DIR_ENV] = before


def _note_stale_runs(jobs: list[Job]) -> None:
    """Say which run folders beside these jobs an earlier, larger repro left (``seed_3`` after
    a rerun with ``--seeds 2``): they stay on disk, but this repro's summary leaves them out."""
    ours = {job[2] for job in jobs}
    tags = {job[2].name.rpartition("_")[0] for job in jobs}
    stale = []
    for parent in sorted({job[2].parent for job in jobs}):
        for d in sorted(parent.glob("*_*")) if parent.is_dir() else []:
            tag, _, k = d.name.rpartition("_")
            if d not in ours and tag in tags and k.isdigit() and (d / "config.yaml").is_file():
                stale.append(d.name)
    if stale:
        print(f"[repro] left from an earlier repro here, not part of this one: "
              f"{', '.join(stale)}", flush=True)  # fmt: skip
