"""Where the CLI writes: bad or refused ``--out`` places are one error line, nothing existing
is replaced, ``~`` means the home folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnijepa.cli.main import main
from tests.test_cli import assert_one_line_error, run_cli


def test_masks_bench_and_report_refuse_bad_outputs_in_one_line(
    capsys, tmp_path: Path, finished_run: Path
) -> None:
    code, _, err = run_cli(capsys, "masks", "ijepa", "--out", tmp_path / "m.txt")
    assert_one_line_error(err, "give a picture file")
    code, _, err = run_cli(capsys, "masks", "ijepa", "--out", tmp_path)  # a folder
    assert_one_line_error(err, "give a picture file")
    code, _, err = run_cli(capsys, "masks", "ijepa", "model.backbone=vit", "model.patch=5",
                           "--out", tmp_path / "m.png")  # fmt: skip
    assert_one_line_error(err, "not divisible by model.patch 5")
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(capsys, "bench", "ijepa", "--out", tmp_path / "file" / "b")
    assert_one_line_error(err, "cannot create the folder")
    code, _, err = run_cli(capsys, "report", finished_run)
    assert_one_line_error(err, "holds no repro results")
    for argv in (["masks", "ijepa", "--out", "m.png", "--n", "0"],
                 ["bench", "ijepa", "--out", "b", "--steps", "-1"]):  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            main([*argv])
        assert exit_.value.code == 2 and "must be >= 1" in capsys.readouterr().err


def test_masks_never_replaces_a_file_or_writes_into_the_data(capsys, tmp_path: Path) -> None:
    small = ["data.name=digits", "data.image_size=16", "model.patch=4"]
    png = tmp_path / "loss.png"  # e.g. a run's own picture
    png.write_bytes(b"keep")
    code, _, err = run_cli(capsys, "masks", "ijepa", *small, "--out", png)
    assert_one_line_error(err, "exists; pass --overwrite")
    assert png.read_bytes() == b"keep"
    code, _, err = run_cli(capsys, "masks", "ijepa", *small, "--out", png, "--overwrite")
    assert code == 0, err
    assert png.read_bytes()[:4] == b"\x89PNG"
    data = tmp_path / "images"
    (data / "a").mkdir(parents=True)
    code, _, err = run_cli(capsys, "masks", "ijepa", *small, f"data.path={data}",
                           "--out", data / "m.png")  # fmt: skip
    assert_one_line_error(err, "lies inside data.path")
    assert not (data / "m.png").exists()


def test_overrides_typed_after_out_still_count(capsys, tmp_path: Path) -> None:
    png = tmp_path / "m.png"
    code, out, err = run_cli(capsys, "masks", "ijepa", "--out", png, "data.name=digits",
                             "data.image_size=16", "model.patch=4")  # fmt: skip
    assert code == 0, err
    assert png.is_file()
    with pytest.raises(SystemExit):
        main(["masks", "ijepa", "--out", str(png), "--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_a_place_the_file_system_refuses_is_one_error(tmp_path: Path, capsys) -> None:
    """An --out under a file (or in a read-only place) was a traceback from deep inside."""
    (tmp_path / "afile.txt").write_text("not a folder")
    out = tmp_path / "afile.txt" / "masks.png"
    code, _, err = run_cli(capsys, "masks", "ijepa", "--out", out)
    assert code == 2
    assert_one_line_error(err, "afile.txt")
    assert (tmp_path / "afile.txt").read_text() == "not a folder"


def test_a_tilde_in_out_is_the_home_folder(tmp_path: Path, capsys, monkeypatch) -> None:
    """``--out=~/x`` reaches the program unexpanded: it made a folder named ``~`` here."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "masks", "ijepa", "--out=~/m.png")
    assert code == 0, err
    assert (tmp_path / "home" / "m.png").is_file() and not (tmp_path / "~").exists()
