"""Runs of a repro side by side: how many at once, and that the results match a serial run."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnijepa.errors import ConfigError
from omnijepa.recipes import RECIPES
from omnijepa.recipes.parallel_runs import (
    job_threads,
    repro_jobs,
    run_jobs,
    seed_jobs,
    set_repro_jobs,
)


def test_jobs_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIJEPA_REPRO_JOBS", "1")  # restored afterwards (conftest sets it)
    set_repro_jobs(3)
    assert repro_jobs(10) == 3 and repro_jobs(2) == 2  # never more than runs
    set_repro_jobs(None)
    monkeypatch.setattr("os.cpu_count", lambda: 4)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert repro_jobs(10) == 4 and repro_jobs(1) == 1
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    assert repro_jobs(10) == 1  # one GPU: one run at a time
    for bad in ("abc", "0", "-2", "1.5"):  # a traceback from int() before
        monkeypatch.setenv("OMNIJEPA_REPRO_JOBS", bad)
        with pytest.raises(ConfigError, match="OMNIJEPA_REPRO_JOBS=.*whole number of runs >= 1"):
            repro_jobs(4)


def test_parallel_runs_match_serial_runs(
    tmp_path: Path, tiny_overrides, monkeypatch: pytest.MonkeyPatch
) -> None:
    recipe = RECIPES.get("ijepa")
    ov = tiny_overrides("ijepa", "train.steps=2")
    monkeypatch.setenv("OMNIJEPA_REPRO_JOBS", "1")
    serial = run_jobs(seed_jobs(recipe, ov, 2, tmp_path / "a", "s"))
    monkeypatch.setenv("OMNIJEPA_REPRO_JOBS", "2")
    parallel = run_jobs(seed_jobs(recipe, ov, 2, tmp_path / "b", "s"))
    assert [sorted(r) for r in serial] == [sorted(r) for r in parallel]
    for a, b in zip(serial, parallel):  # same seeds and data; only float rounding may differ
        assert a["linear_probe"]["jepa"] == pytest.approx(b["linear_probe"]["jepa"], abs=0.05)
        assert a["linear_probe"]["random_init"] == b["linear_probe"]["random_init"]
    assert (tmp_path / "b" / "s_1" / "results.json").is_file()


def test_the_last_runs_share_the_cores_left_idle() -> None:
    assert [job_threads(i, 3, 2, 2) for i in range(3)] == [1, 1, 2]  # 3 seeds on 2 cores
    assert [job_threads(i, 4, 2, 2) for i in range(4)] == [1, 1, 1, 1]
    assert [job_threads(i, 5, 2, 8) for i in range(5)] == [4, 4, 4, 4, 8]
    assert job_threads(0, 1, 1, 1) == 1


def test_a_seed_override_is_the_first_seed_of_the_repro(tmp_path: Path) -> None:
    from omnijepa.errors import ConfigError

    recipe = RECIPES.get("ijepa")
    jobs = seed_jobs(recipe, ["train.steps=2", "seed=5"], 3, tmp_path, "default")
    assert [ov for _, ov, _ in jobs] == [["train.steps=2", f"seed={s}"] for s in (5, 6, 7)]
    assert [d.name for _, _, d in jobs] == ["default_0", "default_1", "default_2"]
    with pytest.raises(ConfigError, match="seed=x"):
        seed_jobs(recipe, ["seed=x"], 3, tmp_path, "default")


def test_a_rerun_removes_the_earlier_summary_before_replacing_runs(
    tmp_path: Path, tiny_overrides, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted halfway, a rerun must not leave the old results.json beside new runs."""
    from omnijepa.errors import ConfigError

    (tmp_path / "results.json").write_text("{}")
    recipe = RECIPES.get("ijepa")
    with pytest.raises(ConfigError):  # a bad setting: nothing of the old repro is touched
        run_jobs(seed_jobs(recipe, ["nope=1"], 1, tmp_path, "s"))
    assert (tmp_path / "results.json").is_file()
    monkeypatch.setenv("OMNIJEPA_REPRO_JOBS", "1")
    run_jobs(seed_jobs(recipe, tiny_overrides("ijepa", "train.steps=2"), 1, tmp_path, "s"))
    assert not (tmp_path / "results.json").exists()


def test_runs_left_by_a_larger_earlier_repro_are_named(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    from omnijepa.recipes.parallel_runs import _note_stale_runs

    for name in ("s_0", "s_1", "s_2", "other_0", "s_x"):  # s_0 is this repro's own run
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.yaml").write_text("seed: 0\\n")
    (tmp_path / "s_3").mkdir()  # no config.yaml: not a run
    _note_stale_runs(seed_jobs(RECIPES.get("ijepa"), [], 1, tmp_path, "s"))
    out = capsys.readouterr().out
    assert "not part of this one: s_1, s_2" in out
    assert "other_0" not in out and "s_3" not in out and "s_0," not in out
    _note_stale_runs(seed_jobs(RECIPES.get("ijepa"), [], 3, tmp_path, "s"))
    assert capsys.readouterr().out == ""


def test_repro_without_jobs_keeps_the_environments_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``omnijepa repro`` without ``--jobs`` used to clear $OMNIJEPA_REPRO_JOBS."""
    from omnijepa.cli.main import main

    monkeypatch.setenv("OMNIJEPA_REPRO_JOBS", "1")
    assert main(["repro", "ijepa", "no_such_key=1", "--out", str(tmp_path / "r")]) == 2
    assert repro_jobs(10) == 1
    assert main(["repro", "ijepa", "no_such_key=1", "--jobs", "2", "--out",
                 str(tmp_path / "r")]) == 2  # fmt: skip
    assert repro_jobs(10) == 2
