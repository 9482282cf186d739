"""Run directories: a finished run is replaced only with --overwrite, a user's own folder or one
inside the data never, and --resume refuses a finished run or changed settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import assert_one_line_error, run_cli, write_png


def test_finished_run_is_not_overwritten_without_flag(
    capsys, finished_run: Path, tiny_overrides
) -> None:
    results = finished_run / "results.json"
    before = results.read_bytes()
    code, _, err = run_cli(
        capsys, "train", "ijepa", *tiny_overrides("ijepa"), "--out", finished_run
    )
    assert code == 2
    assert_one_line_error(err, str(finished_run), "--overwrite")
    assert results.read_bytes() == before
    (finished_run / "notes.txt").write_text("mine")  # not the run's: --overwrite leaves it

    code, out, err = run_cli(
        capsys,
        "train",
        "ijepa",
        *tiny_overrides("ijepa", "seed=1", "train.progress=true"),
        "--out",
        finished_run,
        "--overwrite",
    )
    assert code == 0, err
    assert "results.json" in out
    # with progress lines on, the evaluation after the last step is announced, set by set
    assert "[ijepa] evaluating the frozen encoder against its baselines" in out
    assert "[eval] random_init: linear " in out and "[ijepa] evaluation took " in out
    after = json.loads(results.read_text())
    assert results.read_bytes() != before
    assert after["recipe"] == "ijepa" and "linear_probe" in after["metrics"]
    assert "seed: 1" in (finished_run / "config.yaml").read_text()
    assert (finished_run / "notes.txt").read_text() == "mine"
    assert not (finished_run / ".replaced-run").exists()
    (finished_run / "notes.txt").unlink()


def test_out_that_would_lose_or_pollute_files_is_refused(
    capsys, tmp_path: Path, tiny_overrides
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "loss.png").write_bytes(b"the user's own picture")
    for extra in ([], ["--overwrite"]):
        code, _, err = run_cli(capsys, "train", "ijepa", *tiny_overrides("ijepa"),
                               "--out", mine, *extra)  # fmt: skip
        assert code == 2
        assert_one_line_error(err, str(mine), "not a run")
    assert (mine / "loss.png").read_bytes() == b"the user's own picture"
    folder = tmp_path / "imgs"
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
        for k in range(3):
            write_png(folder / cls / f"{k}.png", k)
    code, _, err = run_cli(capsys, "train", "ijepa", *tiny_overrides("ijepa"),
                           f"data.path={folder}", "--out", folder / "a")  # fmt: skip
    assert code == 2
    assert_one_line_error(err, "inside data.path")
    assert sorted(p.name for p in (folder / "a").iterdir()) == ["0.png", "1.png", "2.png"]


def test_overwrite_whose_new_run_cannot_start_keeps_the_old_one(
    capsys, finished_run: Path, tmp_path: Path, tiny_overrides
) -> None:
    kept = {p.name: p.read_bytes() for p in finished_run.iterdir() if p.is_file()}
    code, _, err = run_cli(capsys, "train", "ijepa", *tiny_overrides("ijepa"),
                           f"data.path={tmp_path / 'nope'}", "--out", finished_run,
                           "--overwrite")  # fmt: skip
    assert code == 2 and "nope" in err
    assert {p.name: p.read_bytes() for p in finished_run.iterdir() if p.is_file()} == kept
    # the batch is checked against the data before the old run is touched (it was deleted)
    code, _, err = run_cli(capsys, "train", "ijepa", *tiny_overrides("ijepa"),
                           "train.batch_size=500", "--out", finished_run,
                           "--overwrite")  # fmt: skip
    assert code == 2 and "train.batch_size=500" in err
    assert {p.name: p.read_bytes() for p in finished_run.iterdir() if p.is_file()} == kept
    fresh = tmp_path / "fresh"
    code, _, err = run_cli(capsys, "train", "ijepa", *tiny_overrides("ijepa"),
                           f"data.path={tmp_path / 'nope'}", "--out", fresh)  # fmt: skip
    assert code == 2 and not fresh.exists()  # a run that could not start leaves nothing
    code, _, err = run_cli(capsys, "train", "ijepa", "--out", "/proc/omnijepa_run")
    assert_one_line_error(err, "cannot create the run directory /proc/omnijepa_run")
    code, _, err = run_cli(capsys, "train", "vjepa", "--resume", finished_run)
    assert_one_line_error(err, "is a 'ijepa' run, not 'vjepa'")


def test_overwrite_whose_new_run_fails_in_the_trainer_brings_the_old_one_back(
    capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_overrides
) -> None:
    """The trainer can still refuse the new run (a setting only it checks, Ctrl-C, a loss
    that diverges) after the old run's files were set aside: before the new run's first
    checkpoint, or when it diverged, they come back as they were; after a checkpoint the new
    run stands, and files that are not the old run's records (the user's notes) stay."""
    import shutil

    import omnijepa.recipes.run as run_module
    from omnijepa.errors import OmniJepaError
    from omnijepa.recipes.replaced_run import set_aside
    from omnijepa.train.checkpoint import STATE_FILE
    from omnijepa.train.trainer import TrainingDiverged

    old = tmp_path / "old"
    code, _, err = run_cli(capsys, "train", "ijepa", *tiny_overrides("ijepa"), "--out", old)
    assert code == 0, err
    (old / "notes.txt").write_text("the user's own notes")
    kept = {p.name: p.read_bytes() for p in old.rglob("*") if p.is_file()}
    run = tmp_path / "run"
    files = lambda: {p.name: p.read_bytes() for p in run.rglob("*") if p.is_file()}  # noqa: E731

    def fails(checkpointed: bool, error: Exception):
        def train(parts, cfg, seed, device, out, **kwargs):
            (out / "metrics.jsonl").write_text('{"step": 1, "loss": 0.5}\n')
            if checkpointed:
                (out / STATE_FILE).write_text('{"step": 1}')
            raise error

        return train

    def overwrite() -> tuple[int, str, str]:
        return run_cli(capsys, "train", "ijepa", *tiny_overrides("ijepa", "seed=3"),
                       "--out", run, "--overwrite")  # fmt: skip

    shutil.copytree(old, run)
    failures = [(False, OmniJepaError("stopped at step 2")),
                (True, TrainingDiverged("the loss diverged at step 2"))]  # fmt: skip
    for checkpointed, error in failures:
        monkeypatch.setattr(run_module, "train", fails(checkpointed, error))
        code, out, err = overwrite()
        assert code == 2
        assert_one_line_error(err, str(error))
        assert "the run it was to replace is back as it was" in out
        assert files() == kept and not (run / ".replaced-run").exists()

    # killed outright before the new run's first checkpoint: the old run waits aside, and
    # the folder is refused until the user chooses; another --overwrite that fails keeps it
    set_aside(run)
    (run / "config.yaml").write_text("recipe: ijepa\n")
    for command in (["train", "ijepa", *tiny_overrides("ijepa"), "--out", run],
                    ["train", "--resume", run]):  # fmt: skip
        code, _, err = run_cli(capsys, *command)
        assert code == 2
        assert_one_line_error(err, "an --overwrite was stopped", ".replaced-run")
    monkeypatch.setattr(run_module, "train", fails(False, OmniJepaError("stopped again")))
    code, out, err = overwrite()
    assert code == 2 and files() == kept

    monkeypatch.setattr(run_module, "train", fails(True, OmniJepaError("stopped at step 2")))
    code, out, err = overwrite()
    assert code == 2 and "replaces the old one; --resume" in out
    names = {p.name for p in run.iterdir()}
    assert {"config.yaml", "metrics.jsonl", STATE_FILE, "notes.txt"} <= names
    assert "seed: 3" in (run / "config.yaml").read_text()  # the new run, to --resume
    assert (run / "notes.txt").read_text() == "the user's own notes"
    assert not (run / "results.json").exists() and not (run / ".replaced-run").exists()


def test_resume_of_a_finished_run_exit_2(capsys, finished_run: Path) -> None:
    state = (finished_run / "state.json").read_bytes()
    code, _, err = run_cli(capsys, "train", "--resume", finished_run)
    assert code == 2
    assert_one_line_error(err, str(finished_run), "finished")
    assert (finished_run / "state.json").read_bytes() == state


def test_a_run_stopped_during_its_evaluation_resumes_to_it(capsys, finished_run: Path) -> None:
    """Training finished (state.json says so) but results.json was never written: --resume
    runs the evaluation alone instead of sending the user in a circle."""
    weights = (finished_run / "model.safetensors").read_bytes()
    before = json.loads((finished_run / "results.json").read_text())
    (finished_run / "results.json").unlink()
    code, out, err = run_cli(capsys, "train", "--resume", finished_run)
    assert code == 0, err
    assert "holds no results.json: evaluating it" in out
    after = json.loads((finished_run / "results.json").read_text())
    assert after["metrics"] and after["train"].keys() == before["train"].keys()  # was {}
    assert after["train"] == pytest.approx(before["train"], abs=1e-6)  # metrics.jsonl rounds
    assert (finished_run / "model.safetensors").read_bytes() == weights  # no step was taken


def test_a_hand_edited_step_is_one_error(capsys, finished_run: Path) -> None:
    state_file = finished_run / "state.json"
    state = json.loads(state_file.read_text())
    for bad, match in (("two", "is not a step count"), (-1, "is not a step count"),
                       (99, "beyond the run's train.steps")):  # fmt: skip
        state_file.write_text(json.dumps({**state, "step": bad, "finished": False}))
        code, _, err = run_cli(capsys, "train", "--resume", finished_run)
        assert code == 2
        assert_one_line_error(err, match)


def test_resume_with_overrides_exit_2(capsys, finished_run: Path) -> None:
    code, _, err = run_cli(capsys, "train", "--resume", finished_run, "train.steps=9")
    assert code == 2
    assert_one_line_error(err, "--resume")


def test_files_of_bytes_that_are_not_text_are_one_error(capsys, finished_run: Path) -> None:
    junk = bytes(range(128, 256)) * 3
    (finished_run / "metrics.jsonl").write_bytes(
        (finished_run / "metrics.jsonl").read_bytes() + junk
    )  # a torn tail of garbage: still read, the bad line skipped
    from omnijepa.train.metrics_log import read_metrics

    assert read_metrics(finished_run / "metrics.jsonl")
    (finished_run / "config.yaml").write_bytes(junk)
    code, _, err = run_cli(capsys, "eval", finished_run)
    assert_one_line_error(err, "config.yaml is not UTF-8 text")
    repro = finished_run.parent / "repro"
    repro.mkdir()
    (repro / "results.json").write_bytes(junk)
    code, _, err = run_cli(capsys, "report", repro)
    assert_one_line_error(err, "results.json is not UTF-8 text")


def test_eval_of_a_repro_folder_names_the_runs_inside(capsys, finished_run: Path) -> None:
    repro = finished_run.parent / "repro"
    (repro / "default_0").mkdir(parents=True)
    (repro / "default_0" / "config.yaml").write_text("recipe: ijepa\n")
    code, _, err = run_cli(capsys, "eval", repro)
    assert_one_line_error(err, "is not a run directory", "the runs inside it are default_0")
