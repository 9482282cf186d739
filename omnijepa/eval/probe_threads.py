"""The probe suites of several feature sets at once, one thread per set.

An evaluation probes up to four feature sets (trained encoder, its other encoder, the random
twin, the raw input), and each suite's logistic-regression fits run on one thread by design
(``eval.logistic``), so on a plain ``omnijepa train`` the other cores sat idle for most of
the evaluation. Torch and BLAS release the GIL inside their kernels, so threads are enough: the
default I-JEPA run's evaluation (four sets) took 96 s instead of 149 s on two cores. Each
set's fits run on one thread in both modes, so the scores are those of the sequential loop
(identical to the last digit in that run and in the tests).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import torch
from threadpoolctl import threadpool_limits

from omnijepa.console import say
from omnijepa.eval.frozen_probes import ProbeConfig, Split, probe_suite


def probe_workers(n_sets: int, cfg: ProbeConfig) -> int:
    """Threads for ``n_sets`` suites: ``eval.workers``, or (0) one per torch thread."""
    wanted = cfg.workers or torch.get_num_threads()
    return max(1, min(wanted, n_sets))


def probe_suites(
    sets: dict[str, tuple[Split, Split]], cfg: ProbeConfig, seed: int
) -> dict[str, dict[str, float]]:
    """``probe_suite`` on every feature set, in ``sets``' order, several at once when
    ``probe_workers`` allows; a suite's exception is raised here. A line says when each set
    is done: on wide features (a table's 1,024) one set's C search takes minutes."""
    workers = probe_workers(len(sets), cfg)
    t0 = time.perf_counter()
    say(f"[eval] probing {len(sets)} feature set(s): {', '.join(sets)} (linear probe with C "
        "chosen on held-out rows, kNN, few-label probes)")  # fmt: skip

    def done(name: str, scores: dict[str, float]) -> dict[str, float]:
        say(f"[eval] {name}: linear {scores['linear']:.3f} at C={scores['linear_c']:g} "
            f"({time.perf_counter() - t0:.0f} s)")  # fmt: skip
        return scores

    if workers == 1:
        return {n: done(n, probe_suite(tr, te, cfg, seed)) for n, (tr, te) in sets.items()}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # process-wide: each suite's kernels stay on its own core
    try:
        with threadpool_limits(1), ThreadPoolExecutor(workers) as pool:
            futures = {
                pool.submit(probe_suite, tr, te, cfg, seed): name for name, (tr, te) in sets.items()
            }
            scores = {futures[f]: done(futures[f], f.result()) for f in as_completed(futures)}
            return {name: scores[name] for name in sets}
    finally:
        torch.set_num_threads(threads)


__all__ = ["probe_suites", "probe_workers"]
