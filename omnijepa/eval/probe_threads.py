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

from concurrent.futures import ThreadPoolExecutor

import torch
from threadpoolctl import threadpool_limits

from omnijepa.eval.frozen_probes import ProbeConfig, Split, probe_suite


def probe_workers(n_sets: int, cfg: ProbeConfig) -> int:
    """Threads for ``n_sets`` suites: ``eval.workers``, or (0) one per torch thread."""
    wanted = cfg.workers or torch.get_num_threads()
    return max(1, min(wanted, n_sets))


def probe_suites(
    sets: dict[str, tuple[Split, Split]], cfg: ProbeConfig, seed: int
) -> dict[str, dict[str, float]]:
    """``probe_suite`` on every feature set, in ``sets``' order, several at once when
    ``probe_workers`` allows; a suite's exception is raised here."""
    workers = probe_workers(len(sets), cfg)
    if workers == 1:
        return {name: probe_suite(tr, te, cfg, seed) for name, (tr, te) in sets.items()}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # process-wide: each suite's kernels stay on its own core
    try:
        with threadpool_limits(1), ThreadPoolExecutor(workers) as pool:
            futures = {
                name: pool.submit(probe_suite, tr, te, cfg, seed) for name, (tr, te) in sets.items()
            }
            return {name: fut.result() for name, fut in futures.items()}
    finally:
        torch.set_num_threads(threads)


__all__ = ["probe_suites", "probe_workers"]
