"""Sibling processes (a repro's workers, a torchrun job's ranks) say a warning or an error
once, not once each."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from omnijepa.cli.main import main
from omnijepa.console import SAID_DIR_ENV, first_to_say, one_line_warnings


def test_a_lone_process_always_speaks(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in (SAID_DIR_ENV, "TORCHELASTIC_RUN_ID", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    assert first_to_say("x") and first_to_say("x")


def test_siblings_sharing_a_folder_say_each_text_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(SAID_DIR_ENV, str(tmp_path / "said"))
    assert first_to_say("a") and not first_to_say("a") and first_to_say("b")
    for _ in range(2):  # two "workers": each with its own per-process memory
        with one_line_warnings():
            warnings.warn("the same thin split", UserWarning, stacklevel=1)
    assert capsys.readouterr().err.count("the same thin split") == 1


def test_torchrun_ranks_print_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(SAID_DIR_ENV, raising=False)
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", f"test-{tmp_path.name}")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    codes = []
    for rank in range(3):
        monkeypatch.setenv("LOCAL_RANK", str(rank))
        codes.append(main(["train", "ijepa", "no_such_key=1", "--out", str(tmp_path / "r")]))
    assert codes == [2, 2, 2]  # every rank fails ...
    assert capsys.readouterr().err.count("omnijepa: error:") == 1  # ... and one says why


def test_missing_glyphs_are_one_warning_not_one_per_character(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A caption in a script the font lacks printed one matplotlib line per character."""
    monkeypatch.delenv(SAID_DIR_ENV, raising=False)
    with one_line_warnings():
        for code, char in ((20320, "你"), (22909, "好"), (19990, "世")):
            warnings.warn(f"Glyph {code} ({char}) missing from font(s) DejaVu Sans.", UserWarning,
                          stacklevel=1)  # fmt: skip
        warnings.warn("another warning", UserWarning, stacklevel=1)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "Glyph 20320" in err[0] and "drawn as boxes" in err[0]
