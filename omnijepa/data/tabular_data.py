"""Tabular data: the config, the loaded splits, and the typing/splitting/encoding pipeline.

``load_tabular_data(cfg, seed)`` reads a raw table (a built-in source from
``tabular_sources`` or a CSV via ``tabular_csv``), decides which columns are categorical, infers
the task, splits train/val/test (stratified, seeded) and encodes everything into float32 tensors
with statistics fitted on the train split only, so val/test never leak into preprocessing.

Column typing rules (the CSV reader maps text to these pandas dtypes first):

- bool / string (object) columns are categorical;
- integer columns (in a CSV: every value written as an integer literal, NaN allowed) with at
  most ``max_categories`` distinct values are categorical, other integer columns numerical;
- float columns (any value written with a decimal point or exponent) stay numerical;
- ``categorical`` / ``numerical`` in the config override all of this.

The target is classification if it is non-numeric or an integer column with at most
``max_categories`` distinct values, regression otherwise; ``task`` overrides.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from omnijepa.data.column_screen import screen_features
from omnijepa.data.image_data import derived_rng, split_indices, subsample
from omnijepa.data.raw_table import RawTable
from omnijepa.data.tabular_csv import read_csv_table
from omnijepa.data.tabular_sources import TABULAR_SOURCES
from omnijepa.errors import ConfigError, DataError

TASKS = ("auto", "classification", "regression")
MIN_ROWS = 10


@dataclass
class TabularDataConfig:
    """Which table to load and how to type/split it; ``path`` (a CSV file) overrides ``name``."""

    name: str = "breast_cancer"  # built-in: breast_cancer | wine | digits_table | diabetes | letter
    path: str | None = None  # a CSV file (header row required); overrides name
    target: str | None = None  # target column (required with path; default: the source's own)
    task: str = "auto"  # auto | classification | regression (auto: inferred from the target)
    categorical: tuple[str, ...] = ()  # force these columns categorical
    numerical: tuple[str, ...] = ()  # force these columns numerical
    drop: tuple[str, ...] = ()  # columns to ignore (ids, ...)
    max_categories: int = 32  # integer/string columns with <= this many values are categorical
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    max_rows: int = 0  # subsample rows deterministically by seed (0 = all)


@dataclass
class TabularSplit:
    """Features ``x`` float32 (N, F), NaN = missing; targets ``y`` int64 or float32 (N,).

    Numerical features are standardised with train statistics; categorical features hold
    integer codes 0..card-1 stored as floats. Regression targets are standardised too.
    """

    x: torch.Tensor
    y: torch.Tensor
    # each row's place in the source (``origin#i``: its 0-based data row), for embed
    rows: list[str] | None = None

    def __len__(self) -> int:
        return int(self.y.shape[0])


@dataclass
class TabularData:
    """Three splits plus what a model needs to tokenise the columns and read the target."""

    train: TabularSplit
    val: TabularSplit
    test: TabularSplit
    feature_names: list[str]
    categorical: list[int]  # column indices (into x) that are categorical
    cardinalities: list[int]  # per categorical column, same order (train categories)
    task: str  # "classification" | "regression"
    classes: list[str]  # class names ([] for regression)
    target_name: str
    target_scale: tuple[float, float]  # (mean, std) of a regression target; (0, 1) otherwise
    source: str  # one readable line

    @property
    def num_features(self) -> int:
        return len(self.feature_names)


def check_config(cfg: TabularDataConfig) -> None:
    """Reject impossible settings up front, naming the key (ConfigError)."""
    if cfg.task not in TASKS:
        raise ConfigError(f"data.task must be one of {', '.join(TASKS)}, got {cfg.task!r}")
    if not 0.0 < cfg.test_fraction < 1.0:
        raise ConfigError(f"data.test_fraction must be in (0, 1), got {cfg.test_fraction}")
    if not 0.0 <= cfg.val_fraction < 1.0 - cfg.test_fraction:
        raise ConfigError(
            f"data.val_fraction must be in [0, 1 - test_fraction), got {cfg.val_fraction}"
        )
    if cfg.max_rows < 0:
        raise ConfigError(f"data.max_rows must be >= 0 (0 = all), got {cfg.max_rows}")
    if cfg.max_categories < 1:
        raise ConfigError(f"data.max_categories must be >= 1, got {cfg.max_categories}")
    both = sorted(set(cfg.categorical) & set(cfg.numerical))
    if both:
        raise ConfigError(f"columns in both data.categorical and data.numerical: {both}")


def load_tabular_data(cfg: TabularDataConfig, seed: int) -> TabularData:
    """Load, type, split and encode the table ``cfg`` describes (CSV if ``path`` else ``name``)."""
    check_config(cfg)
    if cfg.path:
        raw = read_csv_table(cfg.path)
    else:
        raw = TABULAR_SOURCES.get(cfg.name)()
    return build_tabular_data(raw, cfg, seed)


# ---- typing -------------------------------------------------------------------------------


def _is_integer_column(col: pd.Series) -> bool:
    return pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col)


def is_categorical_column(col: pd.Series, max_categories: int) -> bool:
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        return True
    return _is_integer_column(col) and col.nunique(dropna=True) <= max_categories


def _resolve_columns(raw: RawTable, cfg: TabularDataConfig) -> tuple[str, list[str]]:
    """The target and the feature columns, after checking every name the config mentions."""
    columns = [str(c) for c in raw.frame.columns]
    target = cfg.target or raw.target
    if target is None:
        raise ConfigError(
            f"data.target is required with data.path ({raw.origin}); columns: {columns}"
        )
    if target not in columns:
        raise ConfigError(f"target column {target!r} not in {raw.origin}; columns: {columns}")
    for key in ("categorical", "numerical", "drop"):
        unknown = [c for c in getattr(cfg, key) if c not in columns]
        if unknown:
            raise ConfigError(f"data.{key} names unknown columns {unknown}; columns: {columns}")
        if target in getattr(cfg, key):
            raise ConfigError(f"data.{key} contains the target column {target!r}")
    features = [c for c in columns if c != target and c not in cfg.drop]
    if not features:
        raise DataError(f"{raw.origin}: no feature columns left besides target {target!r}")
    return target, features


def _infer_task(col: pd.Series, cfg: TabularDataConfig, origin: str) -> str:
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    task = cfg.task
    if task == "auto":  # whole numbers written 0.0 / 1.0 (pandas, once a value was missing)
        whole = _is_integer_column(col) or (numeric and bool((col.dropna() % 1 == 0).all()))
        few = whole and col.nunique() <= cfg.max_categories
        task = "classification" if not numeric or few else "regression"
    if task == "regression" and not numeric:
        raise DataError(
            f"{origin}: regression needs a numeric target, but column {col.name!r} is not numeric"
        )
    values = col.to_numpy(dtype=np.float64, na_value=np.nan) if numeric else None
    if values is not None and len(values) > 2 and not np.isnan(values).any():
        steps = np.diff(values)
        if (steps == steps[0]).all() and abs(steps[0]) == 1:  # 0, 1, 2 … in row order
            warnings.warn(f"{origin}: target {col.name!r} counts the rows (one step a row): "
                          "a row number, not a label? (data.target)", stacklevel=3)  # fmt: skip
    return task


def numeric_values(col: pd.Series, origin: str) -> np.ndarray:
    try:
        return pd.to_numeric(col, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (ValueError, TypeError):
        raise DataError(
            f"{origin}: column {col.name!r} is forced numerical but holds non-numeric values"
        ) from None


def column_labels(col: pd.Series) -> tuple[np.ndarray, list[str]]:
    """String labels per row (None where missing) and their sorted distinct values."""
    values = col.to_numpy(dtype=object, na_value=None)
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        uniq = sorted({float(v) for v in values if v is not None})
        names = {v: (str(int(v)) if float(v).is_integer() else str(v)) for v in uniq}
        labels = np.array([None if v is None else names[float(v)] for v in values], dtype=object)
        return labels, [names[v] for v in uniq]
    labels = np.array([None if v is None else str(v) for v in values], dtype=object)
    return labels, sorted({v for v in labels if v is not None})


# ---- building -----------------------------------------------------------------------------


def build_tabular_data(raw: RawTable, cfg: TabularDataConfig, seed: int) -> TabularData:
    """Type, split and encode ``raw`` (already read) as ``cfg`` says."""
    check_config(cfg)
    target, features = _resolve_columns(raw, cfg)
    frame, origin = raw.frame, raw.origin
    named = set(cfg.categorical) | set(cfg.numerical)
    empty = [name for name in features if frame[name].isna().all()]
    for name in empty:
        if name in named or len(empty) == len(features):
            raise DataError(f"{origin}: feature column {name!r} is empty (all values missing)")
    if empty:  # Excel's trailing separators make nameless empty columns ("Unnamed: 4")
        warnings.warn(f"{origin}: empty column(s) left out: {', '.join(empty)}", stacklevel=2)
        features = [c for c in features if c not in empty]

    missing = frame[target].isna().to_numpy()
    n_missing = int(missing.sum())
    frame = frame.loc[~missing]
    keep = subsample(len(frame), cfg.max_rows, derived_rng(seed, "tabular-subsample"))
    frame = frame.iloc[keep].reset_index(drop=True)
    # each row's position among the data rows as read (not pandas' index: row names there)
    places = [f"{origin}#{i}" for i in np.flatnonzero(~missing)[keep]]
    if len(frame) < MIN_ROWS:
        raise DataError(
            f"{origin}: only {len(frame)} rows with a target (need at least {MIN_ROWS})"
        )
    if frame[target].nunique() < 2:
        raise DataError(f"{origin}: target column {target!r} is constant")
    frame, features = screen_features(frame, features, named, origin)
    if not features:
        raise DataError(f"{origin}: no informative feature column left besides {target!r}")

    task = _infer_task(frame[target], cfg, origin)
    if task == "classification":
        names = raw.class_names if target == raw.target else None
        y, classes = _class_indices(frame[target], names, origin)
        strata = y
    else:
        y, classes = frame[target].to_numpy(dtype=np.float64), []
        if not np.isfinite(y).all():
            raise DataError(
                f"{origin}: target column {target!r} holds {int((~np.isfinite(y)).sum())} "
                "infinite value(s)"
            )
        _check_float32_range(y, f"{origin}: target column {target!r}")
        strata = np.searchsorted(np.quantile(y, [0.2, 0.4, 0.6, 0.8]), y)  # stratify by quintile
    train, val, test = _split(strata, cfg, seed)
    if len(test) == 0:
        raise DataError(
            f"{origin}: the test split is empty; raise data.test_fraction ({cfg.test_fraction})"
        )

    cat_names = [
        c
        for c in features
        if c in cfg.categorical
        or (c not in cfg.numerical and is_categorical_column(frame[c], cfg.max_categories))
    ]
    x = np.empty((len(frame), len(features)), dtype=np.float64)
    cardinalities = []
    for j, name in enumerate(features):
        if name in cat_names:
            x[:, j], card = _encode_categorical(frame[name], train)
            cardinalities.append(card)
        else:
            values = numeric_values(frame[name], origin)
            if np.isinf(values).any():
                raise DataError(
                    f"{origin}: column {name!r} holds {int(np.isinf(values).sum())} infinite "
                    "value(s); replace them, or leave the cells empty to mark them missing"
                )
            _check_float32_range(values, f"{origin}: column {name!r}")
            x[:, j] = _standardise(values, train)

    scale = (0.0, 1.0)
    if task == "regression":
        mean, std = float(y[train].mean()), float(y[train].std())
        scale = (mean, std if std > 1e-12 else 1.0)
        y = ((y - scale[0]) / scale[1]).astype(np.float32)

    def split(idx: np.ndarray) -> TabularSplit:
        return TabularSplit(
            torch.from_numpy(x[idx].astype(np.float32)), torch.from_numpy(y[idx].copy()),
            [places[i] for i in idx],
        )  # fmt: skip

    source = (
        f"{origin}: {len(frame)} rows x {len(features)} features ({len(cat_names)} categorical), "
        f"{task} of {target!r}"
        + (f" ({len(classes)} classes)" if classes else "")
        + f"; train/val/test {len(train)}/{len(val)}/{len(test)}"
        + (f"; dropped {n_missing} rows with a missing target" if n_missing else "")
    )
    return TabularData(
        train=split(train),
        val=split(val),
        test=split(test),
        feature_names=list(features),
        categorical=[features.index(c) for c in cat_names],
        cardinalities=cardinalities,
        task=task,
        classes=classes,
        target_name=target,
        target_scale=scale,
        source=source,
    )


def _class_indices(
    col: pd.Series, class_names: list[str] | None, origin: str
) -> tuple[np.ndarray, list[str]]:
    if class_names is not None:  # built-in: integer codes with known names
        y = col.to_numpy(dtype=np.int64)
        classes = list(class_names)
    else:
        labels, classes = column_labels(col)
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[v] for v in labels], dtype=np.int64)
    counts = np.bincount(y, minlength=len(classes))
    if counts.max() < 2:
        raise DataError(
            f"{origin}: every value of {col.name!r} occurs once ({len(y)} rows), so no class can "
            "be both learned and tested (an ID column?): choose another data.target, or "
            "data.task=regression for a numeric one"
        )
    rare = [classes[i] for i in np.flatnonzero((counts > 0) & (counts < 2))]
    if rare:
        more = f" and {len(rare) - 10} more" if len(rare) > 10 else ""
        warnings.warn(
            f"{origin}: classes {rare[:10]}{more} of {col.name!r} have a single row "
            "(kept in train only)",
            stacklevel=3,
        )
    return y, classes


def _split(
    strata: np.ndarray, cfg: TabularDataConfig, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded stratified train/val/test indices (sorted) by the configured fractions."""
    rng = derived_rng(seed, "tabular-split")
    rest, test = split_indices(strata, cfg.test_fraction, rng)
    if cfg.val_fraction <= 0:
        return rest, np.empty(0, dtype=np.int64), test
    tr, va = split_indices(strata[rest], cfg.val_fraction / (1.0 - cfg.test_fraction), rng)
    return rest[tr], rest[va], test


def _check_float32_range(values: np.ndarray, what: str) -> None:
    """A DataError for finite values the model's float32 cannot hold: one 1e300 used to make
    its column's std overflow, so the whole column was standardised to zero without a word."""
    huge = np.abs(np.nan_to_num(values, nan=0.0)) > np.finfo(np.float32).max
    if huge.any():
        raise DataError(
            f"{what} holds {int(huge.sum())} value(s) beyond float32's range (|x| > 3.4e38), "
            f"e.g. {values[huge][0]:g}; rescale the column"
        )


def _standardise(values: np.ndarray, train: np.ndarray) -> np.ndarray:
    """(v - mean) / std with NaN-ignoring train statistics; constant columns get std 1."""
    fit = values[train]
    fit = fit[~np.isnan(fit)]
    mean = float(fit.mean()) if fit.size else 0.0
    std = float(fit.std()) if fit.size else 1.0
    return (values - mean) / (std if std > 1e-12 else 1.0)


def _encode_categorical(col: pd.Series, train: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes 0..card-1 of the train categories (sorted); missing and unseen values -> NaN."""
    labels, order = column_labels(col)
    seen = {v for v in labels[train] if v is not None}
    categories = [c for c in order if c in seen]
    index = {c: float(i) for i, c in enumerate(categories)}
    codes = np.array([index.get(v, np.nan) if v is not None else np.nan for v in labels])
    return codes, max(1, len(categories))
