"""The worked example of a new modality: time series of different lengths, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from omnijepa.data.series_data import (
    WAVEFORMS,
    PaddedSeriesDataset,
    SeriesDataConfig,
    load_series_data,
)
from omnijepa.errors import ConfigError, DataError
from tests.test_cli import assert_one_line_error, run_cli


def write_folder(root: Path, lengths: dict[str, list[int]]) -> Path:
    rng = np.random.default_rng(0)
    for label, ns in lengths.items():
        (root / label).mkdir(parents=True)
        for i, n in enumerate(ns):
            x = np.sin(np.arange(n) / (3 + len(label))) + 0.1 * rng.normal(size=n)
            if i % 2:
                np.save(root / label / f"s{i}.npy", x.astype(np.float32))
            else:
                np.savetxt(root / label / f"s{i}.csv", x[:, None], delimiter=",")
    return root


def test_generator_mixes_lengths_and_balances_classes() -> None:
    data = load_series_data(SeriesDataConfig(train_size=80, test_size=16, length=(20, 60)), 0)
    lengths = {s.shape[1] for s in data.train.series}
    assert len(lengths) > 10 and min(lengths) >= 20 and max(lengths) <= 60
    assert torch.bincount(data.train.labels).tolist() == [10] * len(WAVEFORMS)
    again = load_series_data(SeriesDataConfig(train_size=80, test_size=16, length=(20, 60)), 0)
    assert all(torch.equal(a, b) for a, b in zip(data.train.series, again.train.series))


def test_padded_dataset_marks_the_tail_with_nan() -> None:
    data = load_series_data(SeriesDataConfig(train_size=8, test_size=8, length=(10, 30)), 0)
    x, _ = PaddedSeriesDataset(data.train, 32)[0]
    n = data.train.series[0].shape[1]
    assert x.shape == (1, 32) and torch.isfinite(x[:, :n]).all() and torch.isnan(x[:, n:]).all()


def test_cli_trains_the_series_recipe_on_generated_data(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_overrides
) -> None:  # noqa: ANN001
    code, out, err = run_cli(
        capsys, "train", "series_jepa", *tiny_overrides("series_jepa"), "--out", tmp_path / "r"
    )
    assert code == 0, err
    res = json.loads((tmp_path / "r" / "results.json").read_text())
    probe = res["metrics"]["linear_probe"]
    assert {"jepa", "random_init", "raw"} <= set(probe)
    assert 0.0 <= probe["jepa"]["mean"] <= 1.0


def test_cli_trains_on_a_user_folder_of_npy_and_csv(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_overrides
) -> None:  # noqa: ANN001
    folder = write_folder(tmp_path / "series", {"a": [20, 33, 40, 50] * 3, "bb": [25, 64] * 6})
    code, _, err = run_cli(
        capsys, "train", "series_jepa", *tiny_overrides("series_jepa", f"data.path={folder}",
        "train.batch_size=8"), "--out", tmp_path / "r",
    )  # fmt: skip
    assert code == 0, err
    assert "series folder" in json.loads((tmp_path / "r" / "results.json").read_text())["data"]


def test_folder_errors_name_the_file(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "s", {"a": [20, 30], "b": [20, 30]})
    bad = folder / "a" / "bad.npy"
    np.save(bad, np.array([1.0, np.nan, 2.0]))
    with pytest.raises(DataError, match="bad.npy.*NaN"):
        load_series_data(SeriesDataConfig(path=str(folder)), 0)
    bad.unlink()
    long = folder / "b" / "long.npy"
    np.save(long, np.zeros(300))
    with pytest.raises(DataError, match="long.npy.*max_length"):
        load_series_data(SeriesDataConfig(path=str(folder), max_length=256), 0)
    cropped = load_series_data(SeriesDataConfig(path=str(folder), max_length=256, crop=True), 0)
    assert max(s.shape[1] for s in cropped.train.series + cropped.test.series) == 256
    (folder / "a" / "junk.csv").write_text("x,y\nnot,numbers\n")
    with pytest.raises(DataError, match="junk.csv"):
        load_series_data(SeriesDataConfig(path=str(folder), crop=True), 0)
    (folder / "a" / "junk.csv").unlink()
    with pytest.raises(DataError, match="channel"):
        load_series_data(SeriesDataConfig(path=str(folder), channels=2, crop=True), 0)


def test_series_saved_time_first_are_read(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (tmp_path / "one" / c).mkdir(parents=True)
        (tmp_path / "two" / c).mkdir(parents=True)
        for i in range(3):
            np.save(tmp_path / "one" / c / f"{i}.npy", rng.normal(size=(40, 1)))  # a column
            np.save(tmp_path / "two" / c / f"{i}.npy", rng.normal(size=(40, 2)))  # (T, C)
    one = load_series_data(SeriesDataConfig(path=str(tmp_path / "one")), 0)
    two = load_series_data(SeriesDataConfig(path=str(tmp_path / "two"), channels=2), 0)
    assert {s.shape for s in one.train.series} == {(1, 40)}
    assert {s.shape for s in two.train.series} == {(2, 40)}


def test_bad_inputs_are_one_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_cli(
        capsys, "train", "series_jepa", f"data.path={tmp_path / 'missing'}", "--out", tmp_path / "r"
    )
    assert code != 0
    assert_one_line_error(err, "missing")
    with pytest.raises(ConfigError, match="max_length"):
        load_series_data(SeriesDataConfig(length=(10, 300), max_length=256), 0)


def test_semicolon_tables_with_decimal_commas_are_read(tmp_path: Path) -> None:
    """Excel in many locales (and ``to_csv(sep=";", decimal=",")``) writes 0,5 for 0.5."""
    import pandas as pd

    from omnijepa.data.numeric_csv import read_numeric_table

    frame = pd.DataFrame({"a": [0.5, -2.25, 3.0], "b": [1.0, 1e-3, -7.5]})
    frame.to_csv(tmp_path / "eu.csv", sep=";", decimal=",")
    np.testing.assert_allclose(read_numeric_table(tmp_path / "eu.csv", "x"), frame.to_numpy())
    (tmp_path / "us.csv").write_text("a,b\n1.5,2\n3,4\n")  # plain commas are unchanged
    np.testing.assert_allclose(read_numeric_table(tmp_path / "us.csv", "x"), [[1.5, 2], [3, 4]])


def test_constant_series_are_said(tmp_path: Path) -> None:
    from omnijepa.data.series_data import SeriesDataConfig, load_series_folder

    rng = np.random.default_rng(0)
    for k in range(6):
        (tmp_path / "ab"[k % 2]).mkdir(exist_ok=True)
        x = np.zeros(64) if k == 0 else rng.standard_normal(64)
        np.save(tmp_path / "ab"[k % 2] / f"s{k}.npy", x)
    with pytest.warns(UserWarning, match=r"1 of 6 series are constant \(e.g. s0.npy\)"):
        load_series_folder(SeriesDataConfig(path=str(tmp_path)), 0)
