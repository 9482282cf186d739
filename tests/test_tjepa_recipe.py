"""The tjepa recipe end to end: user CSVs, regularization tokens, the shared evaluation
protocol on tables (twin, raw, few-label probes), regression tables, the repro."""

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
from omnijepa.errors import ConfigError
from omnijepa.eval.frozen_probes import ProbeConfig
from omnijepa.recipes import RECIPES
from omnijepa.recipes.run import train_run
from omnijepa.recipes.saved_runs import eval_run
from omnijepa.recipes.tjepa import TabularEvalConfig, build_objective
from omnijepa.recipes.tjepa_repro import MIN_FEATURE_STD, smoke_checks
from omnijepa.train.metrics_log import read_metrics

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
    "eval.c_grid=[1.0]",
    "eval.knn_k=5",
]
CPU = torch.device("cpu")


def tjepa_config(*overrides: str):
    return load_config(RECIPES.get("tjepa").default_config(), None, [*TINY, *overrides])


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


def test_eval_config_is_the_shared_protocol_with_few_label_fractions() -> None:
    e = TabularEvalConfig()
    assert isinstance(e, ProbeConfig)
    assert e.few_fractions == (0.01, 0.1) and e.few_shot == () and e.baselines
    assert e.representation == "flatten" and e.mlp
    with pytest.raises(ConfigError, match="representation"):
        tjepa_config("eval.representation=max")
    with pytest.raises(ConfigError, match="few_fractions"):
        tjepa_config("eval.few_fractions=[1.5]")


def test_messy_csv_trains_and_evaluates(tmp_path: Path) -> None:
    data = tmp_path / "t.csv"
    write_messy_csv(data)
    out = tmp_path / "run"
    ov = [*TINY, f"data.path={data}", "data.target=label", "data.drop=id"]
    res = train_run(RECIPES.get("tjepa"), ov, out)
    m = res["metrics"]
    arms = {"raw", "jepa", "random_init"}
    for metric in ("linear_probe", "knn", "pct_1", "pct_10", "mlp"):
        assert arms <= set(m[metric]), metric
        assert all(0.0 <= v["mean"] <= 1.0 for v in m[metric].values()), metric
    assert set(m["gbdt"]) == {"raw"} and 0.0 <= m["gbdt"]["raw"]["mean"] <= 1.0
    assert m["linear_probe"]["chance"]["mean"] > 0.4  # two classes
    assert m["collapse"]["feature_std"]["mean"] > 0
    assert (out / "representation.png").read_bytes()[:4] == b"\x89PNG"
    trained_png = (out / "representation.png").read_bytes()
    again = eval_run(out, [])
    assert again["metrics"]["linear_probe"]["jepa"] == m["linear_probe"]["jepa"]
    # the re-evaluation draws under eval/, leaving the training run's picture as it was
    assert (out / "eval" / "representation.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "representation.png").read_bytes() == trained_png
    assert again["metrics"]["pct_1"] == m["pct_1"]


def test_untrained_objective_scores_exactly_like_its_twin() -> None:
    """The random-init twin is the trained encoder's exact starting point: before training,
    every probe must give the same number for both (and the MLP/GBDT extras are there)."""
    cfg = tjepa_config("data.name=wine", "eval.mlp=false")
    built = RECIPES.get("tjepa").build(cfg, CPU)
    res = built.evaluate(built.parts.objective)
    for metric in ("linear_probe", "knn", "pct_1", "pct_10"):
        assert res[metric]["jepa"] == res[metric]["random_init"], metric
        assert "jepa_online" not in res[metric]  # the online encoder equals the twin
    assert res["verdict_encoder"] == "target" and "gbdt" in res and "mlp" not in res


def test_without_baselines_only_the_trained_encoders_are_probed() -> None:
    cfg = tjepa_config("data.name=wine", "eval.mlp=false", "eval.baselines=false")
    built = RECIPES.get("tjepa").build(cfg, CPU)
    res = built.evaluate(built.parts.objective)
    assert set(res["linear_probe"]) == {"jepa", "chance"} and "gbdt" not in res


def test_regression_table_keeps_rmse_models(tmp_path: Path) -> None:
    res = train_run(
        RECIPES.get("tjepa"), [*TINY, "data.name=diabetes", "train.probe_every=2"], tmp_path
    )
    m = res["metrics"]
    for metric in ("linear_probe", "mlp"):
        assert set(m[metric]) == {"raw", "jepa", "random_init"}
        assert all(v["mean"] > 1.0 for v in m[metric].values())  # RMSE in target units
    assert m["gbdt"]["raw"]["mean"] > 1.0 and "pct_1" not in m
    # no learning curve on a regression target
    assert not any("probe_knn" in r for r in read_metrics(tmp_path / "metrics.jsonl"))


def test_learning_curve_on_a_classification_table(tmp_path: Path) -> None:
    ov = [*TINY, "data.name=wine", "train.steps=4", "train.probe_every=2", "eval.mlp=false"]
    train_run(RECIPES.get("tjepa"), ov, tmp_path)
    curve = [r for r in read_metrics(tmp_path / "metrics.jsonl") if "probe_knn" in r]
    assert [r["step"] for r in curve] == [0, 2, 4]
    assert all(0.0 <= r["probe_knn"] <= 1.0 for r in curve)


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


def test_a_one_feature_table_names_its_column(tmp_path: Path, capsys) -> None:
    """It used to fail in the mask sampler's terms ("feature subsets need >= 2 tokens")."""
    rows = "".join(f"{k * 0.5},{k % 2}\n" for k in range(40))
    (tmp_path / "t.csv").write_text("height,label\n" + rows)
    code = main(["train", "tjepa", *TINY, f"data.path={tmp_path / 't.csv'}",
                 "data.target=label", "--out", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "at least 2; this table has 1 (height)" in err and "t.csv" in err


def test_a_value_float32_cannot_hold_is_an_error(tmp_path: Path) -> None:
    """One 1e300 made its column's std overflow: the whole column became zeros."""
    from omnijepa.data.tabular_data import TabularDataConfig
    from omnijepa.errors import DataError

    rows = "".join(f"{1e300 if k == 3 else k},{k * 2},{k % 2}\n" for k in range(40))
    (tmp_path / "t.csv").write_text("a,b,label\n" + rows)
    cfg = TabularDataConfig(path=str(tmp_path / "t.csv"), target="label")
    with pytest.raises(DataError, match="column 'a' holds 1 value.*beyond float32.*1e\\+300"):
        load_tabular_data(cfg, seed=0)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_regularization_tokens_are_present_and_removable(n: int) -> None:
    cfg = tjepa_config(f"model.reg_tokens={n}")
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


def test_smoke_checks_fail_on_a_collapsed_representation() -> None:
    fine = smoke_checks("wine", {"feature_std": 0.5, "rankme": 20.0})
    assert all(c.passed for c in fine)
    flat = smoke_checks("wine", {"feature_std": MIN_FEATURE_STD / 10, "rankme": 1.0})
    assert not any(c.passed for c in flat)


def test_quick_repro_writes_the_table(tmp_path: Path) -> None:
    res = RECIPES.get("tjepa").repro(tmp_path, seeds=1, quick=True, overrides=["device=cpu"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["verdict"] == res["verdict"] in ("partial", "not reproduced")
    m = saved["metrics"]
    for metric in ("linear_probe", "pct_1", "pct_10", "knn"):  # (--quick skips the MLP)
        assert {"jepa", "random_init", "raw"} <= set(m[metric]), metric
        assert m[metric]["jepa"]["n"] == 1
    assert "raw" in m["gbdt"] and "pct_1" in m["gaps_vs_random_init"]
    assert {"pct_1", "knn"} <= set(m["no_reg_tokens"]) and "default" in m["monitors"]
    assert set(m["smoke_tables"]) == {"breast_cancer", "wine", "digits_table", "diabetes"}
    checks = saved["checks"]
    paired = [c for name, c in checks.items() if "pct_1" in name]
    assert len(paired) == 3 and all(c["passed"] is None for c in paired)  # one seed: no test
    assert sum("no collapse" in name for name in checks) == 8
