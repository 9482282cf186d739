"""The tjepa recipe end to end: user CSVs, regularization tokens, downstream table, repro."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from omnijepa.cli.main import main
from omnijepa.config import load_config
from omnijepa.data.tabular_data import load_tabular_data
from omnijepa.recipes import RECIPES
from omnijepa.recipes.run import eval_run, train_run
from omnijepa.recipes.tjepa import build_objective

TINY = [
    "device=cpu",
    "model.dim=8",
    "model.depth=1",
    "model.heads=2",
    "predictor.dim=8",
    "predictor.depth=1",
    "train.batch_size=16",
    "train.steps=3",
    "train.progress=false",
]


def write_messy_csv(path: Path, rows: int = 150) -> None:
    """Strings, NaNs, a bool, an id column, and a string target."""
    rng = np.random.default_rng(0)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "age", "city", "income", "member", "score", "label"])
        for i in range(rows):
            city = ["paris", "lyon", "nice", ""][i % 4]
            income = rng.normal(50, 10)
            score = "" if i % 7 == 0 else f"{rng.normal():.3f}"
            label = "hi" if income + (5 if city == "paris" else 0) > 52 else "lo"
            w.writerow(
                [i, 20 + i % 50, city, f"{income:.2f}", ["True", "False"][i % 2], score, label]
            )


def test_messy_csv_trains_and_evaluates(tmp_path: Path) -> None:
    data = tmp_path / "t.csv"
    write_messy_csv(data)
    out = tmp_path / "run"
    ov = [*TINY, f"data.path={data}", "data.target=label", "data.drop=id"]
    res = train_run(RECIPES.get("tjepa"), ov, out)
    m = res["metrics"]
    assert {"raw", "jepa", "random_init"} <= set(m["mlp"]) and "raw" in m["gbdt"]
    assert all(0.0 <= v["mean"] <= 1.0 for v in m["mlp"].values())
    assert (out / "representation.png").read_bytes()[:4] == b"\x89PNG"
    again = eval_run(out, [])
    assert again["metrics"]["linear_probe"]["jepa"] == m["linear_probe"]["jepa"]


def test_bad_csv_fails_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "t.csv"
    write_messy_csv(data)
    code = main(
        [
            "train",
            "tjepa",
            *TINY,
            f"data.path={data}",
            "data.target=nope",
            "--out",
            str(tmp_path / "r"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "Traceback" not in err and len(err.splitlines()) == 1
    assert "nope" in err and "label" in err


@pytest.mark.parametrize("n", [0, 1, 3])
def test_regularization_tokens_are_present_and_removable(n: int) -> None:
    cfg = load_config(RECIPES.get("tjepa").default_config(), None, [*TINY, f"model.reg_tokens={n}"])
    data = load_tabular_data(cfg.data, cfg.seed)
    objective = build_objective(cfg, data)
    assert objective.encoder.prefix.tokens.shape == (n, cfg.model.dim)
    x = data.train.x[:4]
    assert objective.encoder(x).shape == (4, data.num_features, cfg.model.dim)
    # the tokens take part in attention: changing them changes the features (when present)
    before = objective.encoder(x)
    with torch.no_grad():
        # (a random change: a constant shift would be removed by the blocks' LayerNorm)
        objective.encoder.prefix.tokens.add_(torch.randn_like(objective.encoder.prefix.tokens))
    changed = not torch.allclose(before, objective.encoder(x))
    assert changed == (n > 0)


def test_quick_repro_writes_the_table(tmp_path: Path) -> None:
    res = RECIPES.get("tjepa").repro(tmp_path, seeds=1, quick=True, overrides=["device=cpu"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["verdict"] == res["verdict"] in ("reproduced", "not reproduced")
    for key in ("breast_cancer_accuracy", "diabetes_rmse", "letter_accuracy"):
        row = saved["metrics"][key]
        assert {"raw_mlp", "tjepa_mlp", "gbdt", "tjepa_noreg_mlp"} <= set(row)
