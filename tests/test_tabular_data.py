"""Tabular data: built-in tables, CSV typing/missing values/encoding, splits, clear errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from omnijepa.data.tabular_data import TabularData, TabularDataConfig, load_tabular_data
from omnijepa.data.tabular_sources import TABULAR_SOURCES, letter_path
from omnijepa.errors import ConfigError, DataError

needs_letter = pytest.mark.skipif(
    not letter_path().is_file(),
    reason=f"UCI Letter absent from {letter_path()} (apt-get install opencv-doc)",
)


def _all(data: TabularData) -> tuple[torch.Tensor, torch.Tensor]:
    splits = (data.train, data.val, data.test)
    return torch.cat([s.x for s in splits]), torch.cat([s.y for s in splits])


# ---- built-in sources -----------------------------------------------------------------------

BUILTIN = {  # name: (rows, features, task, classes)
    "breast_cancer": (569, 30, "classification", 2),
    "wine": (178, 13, "classification", 3),
    "digits_table": (1797, 61, "classification", 10),  # 3 pixels are 0 in every image: left out
    "diabetes": (442, 10, "regression", 0),
    "letter": (20000, 16, "classification", 26),
}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=needs_letter) if n == "letter" else n for n in BUILTIN],
)
def test_builtin_sources_load_with_sane_shapes(name: str) -> None:
    rows, feats, task, n_classes = BUILTIN[name]
    data = load_tabular_data(TabularDataConfig(name=name), seed=0)
    x, y = _all(data)
    assert x.shape == (rows, feats) and x.dtype == torch.float32 and not x.isnan().any()
    assert len(data.feature_names) == feats and data.categorical == [] and data.task == task
    assert len(data.classes) == n_classes
    assert abs(len(data.test) - 0.2 * rows) <= n_classes + 1
    assert abs(len(data.val) - 0.1 * rows) <= n_classes + 1
    assert torch.allclose(data.train.x.mean(0), torch.zeros(feats), atol=1e-4)
    if task == "classification":
        assert y.dtype == torch.int64 and set(y.tolist()) == set(range(n_classes))
    else:
        assert y.dtype == torch.float32 and data.target_scale[1] > 1.0
    assert name.split("_")[0] in data.source.lower() or "letter" in data.source.lower()


def test_registry_lists_builtins_and_rejects_unknown() -> None:
    assert TABULAR_SOURCES.names() == sorted(BUILTIN)
    with pytest.raises(ConfigError, match="letter"):
        load_tabular_data(TabularDataConfig(name="adult"), seed=0)


def test_letter_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIJEPA_LETTER_PATH", "/nonexistent/letter.data")
    with pytest.raises(DataError, match="apt-get install opencv-doc"):
        load_tabular_data(TabularDataConfig(name="letter"), seed=0)


def test_regression_target_standardised_with_train_stats() -> None:
    from sklearn.datasets import load_diabetes

    raw = load_diabetes().target
    data = load_tabular_data(TabularDataConfig(name="diabetes"), seed=3)
    mean, std = data.target_scale
    assert data.classes == [] and data.train.y.dtype == torch.float32
    assert abs(float(data.train.y.mean())) < 1e-5 and abs(float(data.train.y.std()) - 1) < 0.01
    back = np.sort(np.concatenate([(s.y.numpy() * std + mean) for s in (data.train, data.test)]))
    assert np.isin(np.round(back), raw).all()
    assert abs(mean - raw.mean()) < 0.1 * raw.std()


# ---- a mixed CSV ----------------------------------------------------------------------------

N = 60
COLORS = ["red", "green", "blue"]


def _mixed_rows() -> list[list[str]]:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(N):
        age = "" if i % 7 == 0 else ("NA" if i % 11 == 0 else f"{rng.normal(40, 10):.2f}")
        color = "?" if i % 13 == 0 else COLORS[i % 3]
        level = "" if i == 5 else str(1 + i % 3)
        rows.append(
            [
                str(1000 + i),  # id
                age,
                color,
                ["True", "False"][i % 2],  # flag
                level,
                str((i * 37) % 100),  # count: integers, many distinct -> numerical
                f" {i + 0.5} ",  # padded: numbers with spaces, unique per row
                "yes" if i % 4 else "no",  # label
            ]
        )
    return rows


HEADER = ["id", "age", "color", "flag", "level", "count", "padded", "label"]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    return path


@pytest.fixture
def mixed_csv(tmp_path: Path) -> Path:
    return _write(tmp_path / "mixed.csv", HEADER, _mixed_rows())


def _cfg(path: Path, **kw: object) -> TabularDataConfig:
    return TabularDataConfig(path=str(path), target="label", drop=("id",), **kw)  # type: ignore[arg-type]


def _row_order(data: TabularData) -> np.ndarray:
    """File row index of each row of the concatenated splits (via the unique 'padded' column)."""
    x, _ = _all(data)
    col = x[:, data.feature_names.index("padded")].double().numpy()
    return np.argsort(np.argsort(col))


def test_csv_types_codes_missing_and_standardisation(mixed_csv: Path) -> None:
    data = load_tabular_data(_cfg(mixed_csv), seed=0)
    names = data.feature_names
    assert names == ["age", "color", "flag", "level", "count", "padded"]
    cats = [names[i] for i in data.categorical]
    assert cats == ["color", "flag", "level"] and data.cardinalities == [3, 2, 3]
    assert data.task == "classification" and data.classes == ["no", "yes"]

    x, y = _all(data)
    order = _row_order(data)
    file_x = torch.empty_like(x)
    file_x[order] = x
    file_y = torch.empty_like(y)
    file_y[order] = y
    rows = _mixed_rows()
    col = {n: file_x[:, names.index(n)] for n in names}
    exp_color = [np.nan if r[2] == "?" else sorted(COLORS).index(r[2]) for r in rows]
    np.testing.assert_array_equal(col["color"].numpy(), np.array(exp_color, dtype=np.float32))
    np.testing.assert_array_equal(
        col["flag"].numpy(), [1.0 if r[3] == "True" else 0.0 for r in rows]
    )
    exp_level = [np.nan if r[4] == "" else float(int(r[4]) - 1) for r in rows]
    np.testing.assert_array_equal(col["level"].numpy(), np.array(exp_level, dtype=np.float32))
    assert col["age"].isnan().tolist() == [r[1] in ("", "NA") for r in rows]
    assert file_y.tolist() == [int(r[7] == "yes") for r in rows]

    train = data.train.x
    for name in ("age", "count", "padded"):
        v = train[:, names.index(name)]
        v = v[~v.isnan()]
        assert abs(float(v.mean())) < 1e-5 and abs(float(v.std(unbiased=False)) - 1) < 1e-4
    # one affine map for all splits: file order of 'padded' is linear in the row index
    p = col["padded"].double().numpy()
    np.testing.assert_allclose(np.diff(p), np.full(N - 1, p[1] - p[0]), rtol=1e-4)
    assert "60 rows x 6 features (3 categorical)" in data.source


def test_overrides_and_max_categories(mixed_csv: Path) -> None:
    data = load_tabular_data(_cfg(mixed_csv, categorical=("count",), numerical=("level",)), seed=0)
    cats = [data.feature_names[i] for i in data.categorical]
    assert cats == ["color", "flag", "count"] and data.cardinalities[-1] <= 60
    level = data.train.x[:, data.feature_names.index("level")]
    assert abs(float(level[~level.isnan()].mean())) < 1e-5  # standardised, not codes
    data = load_tabular_data(_cfg(mixed_csv, max_categories=2), seed=0)
    assert [data.feature_names[i] for i in data.categorical] == ["color", "flag"]
    reg = load_tabular_data(
        TabularDataConfig(path=str(mixed_csv), target="count", drop=("id",)), seed=0
    )
    assert reg.task == "regression" and "label" in reg.feature_names
    with pytest.raises(DataError, match="every value of 'count' occurs once.*ID column"):
        load_tabular_data(
            TabularDataConfig(path=str(mixed_csv), target="count", task="classification"), seed=0
        )
    level = load_tabular_data(TabularDataConfig(path=str(mixed_csv), target="level"), seed=0)
    assert level.task == "classification" and level.classes == ["1", "2", "3"]
    assert "dropped 1 rows with a missing target" in level.source


def test_builtin_accepts_overrides() -> None:
    data = load_tabular_data(
        TabularDataConfig(name="wine", task="regression", drop=("alcohol",)), seed=0
    )
    assert data.task == "regression" and "alcohol" not in data.feature_names


def test_splits_deterministic_disjoint_and_stratified(mixed_csv: Path) -> None:
    a = load_tabular_data(_cfg(mixed_csv), seed=1)
    b = load_tabular_data(_cfg(mixed_csv), seed=1)
    c = load_tabular_data(_cfg(mixed_csv), seed=2)
    for s in ("train", "val", "test"):
        assert torch.equal(getattr(a, s).x.nan_to_num(-9), getattr(b, s).x.nan_to_num(-9))
    assert not torch.equal(a.test.y, c.test.y) or not torch.equal(a.test.x, c.test.x)
    order = _row_order(a)
    assert sorted(order.tolist()) == list(range(N))  # every row exactly once
    assert (len(a.train), len(a.val), len(a.test)) == (42, 6, 12)
    for split in (a.train, a.val, a.test):  # 15 'no' of 60: a quarter in each split
        assert abs(float((split.y == 0).float().mean()) - 0.25) < 0.1
    small = load_tabular_data(_cfg(mixed_csv, max_rows=30), seed=1)
    assert len(small.train) + len(small.val) + len(small.test) == 30


def test_unseen_categories_become_nan(tmp_path: Path) -> None:
    rows = [[str(100 + 2 * i), ["a", "b"][i % 2], str(i % 2)] for i in range(40)]
    rows[17][1] = "rare"  # one row: in train it is a category, elsewhere NaN
    path = _write(tmp_path / "rare.csv", ["num", "cat", "y"], rows)
    landed = set()
    for seed in range(20):
        data = load_tabular_data(TabularDataConfig(path=str(path), target="y"), seed=seed)
        in_train = data.cardinalities[0] == 3
        nan_in = {n for n in ("val", "test") if getattr(data, n).x[:, 1].isnan().any()}
        assert data.cardinalities[0] == (3 if in_train else 2)
        assert len(nan_in) == (0 if in_train else 1)  # the rare row, and only it, is NaN
        assert not data.train.x.isnan().any()
        landed |= {"train"} if in_train else nan_in
    assert "train" in landed and {"val", "test"} & landed


# ---- errors ---------------------------------------------------------------------------------


def _load(path: Path, **kw: object) -> TabularData:
    return load_tabular_data(TabularDataConfig(path=str(path), **kw), seed=0)  # type: ignore[arg-type]


def test_bad_columns_and_targets(tmp_path: Path, mixed_csv: Path) -> None:
    with pytest.raises(ConfigError, match="data.target is required.*label"):
        _load(mixed_csv)
    with pytest.raises(ConfigError, match="'nope'.*columns.*padded"):
        _load(mixed_csv, target="nope")
    for key in ("categorical", "numerical", "drop"):
        with pytest.raises(ConfigError, match=f"data.{key}.*'ghost'.*columns"):
            _load(mixed_csv, target="label", **{key: ("ghost",)})
    with pytest.raises(ConfigError, match="both"):
        _load(mixed_csv, target="label", categorical=("age",), numerical=("age",))
    with pytest.raises(DataError, match="'color'.*non-numeric"):
        _load(mixed_csv, target="label", numerical=("color",))
    with pytest.raises(DataError, match="regression.*'label'"):
        _load(mixed_csv, target="label", task="regression")

    rows = [[str(i % 5), "NA", "1" if i % 2 else "0", ""] for i in range(20)]
    blank = _write(tmp_path / "nan.csv", ["a", "blank", "y", ""], rows)  # Excel's trailing ';'
    with pytest.warns(UserWarning, match="empty column.*left out: blank, Unnamed: 3"):
        assert _load(blank, target="y").feature_names == ["a"]
    with pytest.raises(DataError, match="'blank'.*all values missing"):
        _load(blank, target="y", numerical=("blank",))  # asked for by name
    rows = [[str(i), "7"] for i in range(20)]
    with pytest.raises(DataError, match="const.csv.*'y'.*constant"):
        _load(_write(tmp_path / "const.csv", ["a", "y"], rows), target="y")
    rows = [[str(i), str(i % 2)] for i in range(6)]
    with pytest.raises(DataError, match="tiny.csv.*only 6 rows"):
        _load(_write(tmp_path / "tiny.csv", ["a", "y"], rows), target="y")
    rows = [[str(2 * i + 5), str(i % 2) if i < 19 else "9"] for i in range(20)]
    with pytest.warns(UserWarning, match=r"\['9'\].*single row"):
        data = _load(_write(tmp_path / "rare.csv", ["a", "y"], rows), target="y")
    assert data.classes == ["0", "1", "9"] and 2 in data.train.y.tolist()
    rows = [[str(2 * i + 5), f"id{i}"] for i in range(40)]  # every class once: nothing to test
    with pytest.raises(DataError, match="ids.csv.*every value of 'y' occurs once"):
        _load(_write(tmp_path / "ids.csv", ["a", "y"], rows), target="y")
    rows = [[str(2 * i + 5), "inf" if i == 3 else f"{i / 7:.3f}"] for i in range(20)]
    with pytest.raises(DataError, match="target.*'y'.*1 infinite"):
        _load(_write(tmp_path / "inf_target.csv", ["a", "y"], rows), target="y")
    rows = [["inf" if i == 3 else str(i), str(i % 2)] for i in range(20)]
    with pytest.raises(DataError, match="inf.csv.*'a'.*1 infinite"):
        _load(_write(tmp_path / "inf.csv", ["a", "y"], rows), target="y")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _load(mixed_csv, target="label")


def test_bad_config_values_name_the_key() -> None:
    for kw, key in [
        ({"task": "ranking"}, "data.task"),
        ({"test_fraction": 1.0}, "data.test_fraction"),
        ({"val_fraction": 0.85}, "data.val_fraction"),
        ({"max_rows": -1}, "data.max_rows"),
        ({"max_categories": 0}, "data.max_categories"),
    ]:
        with pytest.raises(ConfigError, match=key):
            load_tabular_data(TabularDataConfig(**kw), seed=0)  # type: ignore[arg-type]


def test_constant_identifier_and_date_columns_are_screened_with_warnings(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = [
        [
            f"cust{i:04d}",  # a string key: one category per row
            str(i + 1),  # a row counter
            "EU",  # constant
            f"{1 + i % 28:02d}/03/2021",  # day-first dates
            f"{rng.normal():.3f}",
            "yes" if i % 3 else "no",
        ]
        for i in range(60)
    ]
    path = _write(tmp_path / "t.csv", ["key", "row", "region", "day", "x", "label"], rows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_tabular_data(TabularDataConfig(path=str(path), target="label"), seed=0)
    said = " ".join(str(w.message) for w in caught)
    assert "constant column(s) left out: region" in said
    assert "identifier-like column(s) left out" in said and "key, row" in said
    assert "date column(s) read as days since 1970: day" in said
    assert data.feature_names == ["day", "x"] and data.categorical == []
    x, _ = _all(data)
    day = x[:, 0].double().numpy()
    assert np.isfinite(day).all() and day.std() > 0.5  # standardised days, spread over March
    kept = TabularDataConfig(path=str(path), target="label", categorical=("region", "key"))
    assert load_tabular_data(kept, seed=0).feature_names[:2] == ["key", "region"]
