"""The learning curve (step-0 twin record, probe_curve.png) and the README results table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omnijepa.cli.main import main
from omnijepa.eval.learning_curve import CURVE_KEY, plot_probe_curve
from omnijepa.recipes import RECIPES
from omnijepa.recipes.results_table import results_table, short_data, table_row
from omnijepa.recipes.run import train_run
from omnijepa.train.metrics_log import read_metrics


def test_curve_starts_at_the_twin_and_is_plotted(tmp_path: Path, tiny_overrides) -> None:
    out = tmp_path / "run"
    train_run(RECIPES.get("ijepa"), tiny_overrides("ijepa", "train.probe_every=2"), out)
    records = read_metrics(out / "metrics.jsonl")
    curve = [(r["step"], r[CURVE_KEY]) for r in records if CURVE_KEY in r]
    assert [s for s, _ in curve] == [0, 2, 4]
    assert all(0.0 <= v <= 1.0 for _, v in curve)
    assert (out / "probe_curve.png").read_bytes()[:4] == b"\x89PNG"
    # the step-0 value is the untrained encoder: the twin's kNN on the same subsets
    assert "loss" not in records[0]


def test_the_curve_leaves_training_alone_so_ablations_skip_it(
    tmp_path: Path, tiny_overrides
) -> None:
    from safetensors.torch import load_file

    from omnijepa.recipes.repro_runs import variant_eval

    for every in (0, 2):
        train_run(RECIPES.get("ijepa"), tiny_overrides("ijepa", f"train.probe_every={every}"),
                  tmp_path / f"every_{every}")  # fmt: skip
    a, b = (load_file(tmp_path / f"every_{e}" / "model.safetensors") for e in (0, 2))
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
    assert "train.probe_every=0" in variant_eval(RECIPES.get("ijepa"))


def test_no_curve_without_points(tmp_path: Path) -> None:
    assert plot_probe_curve([{"step": 1, "loss": 0.3}], tmp_path / "c.png", "x") is None
    assert not (tmp_path / "c.png").exists()


def _results(name: str, verdict: str, p: float | None) -> dict:
    gap = {"mean": 0.1, "std": 0.02, "n": 3, "p": p, "gaps": [0.1, 0.12, 0.08]}
    return {
        "name": name, "verdict": verdict, "seconds": 300.0,
        "checks": {"a": {"passed": True, "detail": ""}, "b": {"passed": False, "detail": ""}},
        "headline": {"metric": "linear_probe", "data": "canvas",
                     "trained": {"mean": 0.6, "std": 0.01, "n": 3},
                     "random_init": {"mean": 0.5, "std": 0.01, "n": 3}, "gap": gap},
    }  # fmt: skip


def test_table_row_shows_gap_p_and_checks() -> None:
    row = table_row(_results("ijepa", "not reproduced", 0.004))
    assert "+10.0 ± 2.0 pts (3)" in row and "0.004" in row and "1/2" in row
    assert "**not reproduced**" in row
    assert "| – |" in table_row(_results("x", "partial", None))
    analysis = {k: v for k, v in _results("copying", "reproduced", None).items() if k != "headline"}
    assert table_row(analysis).startswith("| copying | – | – | – | – | – | – | 1/2 |")


def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        text = json.dumps(_results(name, "reproduced", 0.01))
        (tmp_path / name / "results.json").write_text(text)
    assert main(["report", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert out.count("\n| ") == 2 and "| a |" in out and "| b |" in out  # header, 2 rows
    assert results_table([tmp_path / "a"]).startswith("| repro |")
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "missing does not exist" in capsys.readouterr().err  # the folder itself


def test_short_data_cuts_only_long_asides() -> None:
    long = "shapes, 36 classes (" + ", ".join(f"class_{i}" for i in range(36)) + "), 256 points"
    assert short_data(long) == "shapes, 36 classes (…), 256 points"
    assert short_data("canvas (item scale 0.5-1)") == "canvas (item scale 0.5-1)"
