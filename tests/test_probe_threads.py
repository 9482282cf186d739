"""Feature sets probed in threads: the same scores as one after another, warnings and errors
still reach the caller, the process's thread count is restored, and each finished set is
announced unless progress lines are off."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omnijepa.console import progress_lines
from omnijepa.eval.frozen_probes import ProbeConfig
from omnijepa.eval.logistic import ProbeNotConverged
from omnijepa.eval.probe_threads import probe_suites, probe_workers


def _sets(n_sets: int = 3) -> dict:
    rng = np.random.default_rng(0)
    out = {}
    for i in range(n_sets):
        d = 5 + 3 * i
        centres = rng.normal(0, 1.5, (4, d))
        y_tr, y_te = rng.integers(0, 4, 240), rng.integers(0, 4, 120)
        x_tr = centres[y_tr] + rng.normal(0, 1, (240, d))
        x_te = centres[y_te] + rng.normal(0, 1, (120, d))
        out[f"set{i}"] = ((x_tr, y_tr), (x_te, y_te))
    return out


def test_threads_give_the_scores_of_the_sequential_loop() -> None:
    sets = _sets()
    one = probe_suites(sets, ProbeConfig(few_shot=(5,), workers=1), seed=0)
    many = probe_suites(sets, ProbeConfig(few_shot=(5,), workers=3), seed=0)
    assert list(many) == list(sets)  # the caller's order
    assert one == many
    assert all(0.0 <= s["linear"] <= 1.0 for s in many.values())


def test_workers_follow_the_config_then_the_torch_threads() -> None:
    assert probe_workers(4, ProbeConfig(workers=2)) == 2
    assert probe_workers(1, ProbeConfig(workers=8)) == 1  # never more than the sets
    assert probe_workers(10, ProbeConfig()) == min(10, torch.get_num_threads())
    with pytest.raises(ValueError, match="eval.workers"):
        ProbeConfig(workers=-1)


def test_a_warning_in_a_thread_reaches_the_caller_and_threads_are_restored() -> None:
    before = torch.get_num_threads()
    cfg = ProbeConfig(few_shot=(), c_grid=(1.0,), max_iter=1, workers=2)  # cannot converge
    with pytest.warns(ProbeNotConverged, match="max_iter=1"):
        probe_suites(_sets(2), cfg, seed=0)
    assert torch.get_num_threads() == before


def test_an_error_in_a_thread_is_raised_and_threads_are_restored() -> None:
    before = torch.get_num_threads()
    sets = _sets(2)
    (x, y), te = sets["set1"]
    sets["set1"] = ((x, y), (te[0][:, :2], te[1]))  # test features of the wrong width
    with pytest.raises(ValueError):
        probe_suites(sets, ProbeConfig(few_shot=(), workers=2), seed=0)
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("workers", [1, 2])
def test_each_finished_set_gets_a_line_unless_progress_is_off(workers, capsys) -> None:
    cfg = ProbeConfig(few_shot=(), c_grid=(1.0,), workers=workers)
    scores = probe_suites(_sets(2), cfg, seed=0)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[eval] probing 2 feature set(s): set0, set1")
    for name in ("set0", "set1"):  # in the order the sets finish, each with its own score
        line = next(ln for ln in lines[1:] if ln.startswith(f"[eval] {name}: "))
        assert f"linear {scores[name]['linear']:.3f} at C=1 (" in line
    assert len(lines) == 3
    with progress_lines(False):  # a repro worker (train.progress=false)
        assert probe_suites(_sets(2), cfg, seed=0) == scores
    assert capsys.readouterr().out == ""
