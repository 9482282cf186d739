"""A fit/transform column encoder for in-memory tables (used by the scikit-learn estimator).

Columns are addressed by position, so a table fitted as a DataFrame can be transformed as a
NumPy array of the same shape. Typing follows the tabular loader
(:mod:`omnijepa.data.tabular_data`): bool and non-numeric (string, pandas ``category``) columns
are categorical, integer columns with at most ``max_categories`` distinct values are
categorical, everything else is numerical; ``categorical`` (positions) forces columns
categorical. Numerical columns are standardised with NaN-ignoring statistics of the fitted
table (constant columns get std 1); categorical columns become codes ``0..card-1`` of the
fitted categories (sorted). Missing values, and categories never seen in ``fit``, become NaN.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omnijepa.data.tabular_data import column_labels, is_categorical_column, numeric_values

__all__ = ["TableEncoder"]


@dataclass
class _Column:
    kind: str  # "numerical" | "categorical"
    mean: float = 0.0
    std: float = 1.0
    categories: dict[str, float] = field(default_factory=dict)


class TableEncoder:
    """Fit typing + standardisation/category maps on one table; encode any same-width table."""

    def __init__(self, max_categories: int = 32, categorical: Iterable[int] = ()) -> None:
        if max_categories < 1:
            raise ValueError(f"max_categories must be >= 1, got {max_categories}")
        self.max_categories = int(max_categories)
        self.forced = sorted({int(c) for c in categorical})
        self.columns: list[_Column] = []

    @property
    def num_features(self) -> int:
        return len(self.columns)

    @property
    def categorical(self) -> list[int]:
        """Positions of the categorical columns."""
        return [j for j, c in enumerate(self.columns) if c.kind == "categorical"]

    @property
    def cardinalities(self) -> list[int]:
        """Number of fitted categories per categorical column (at least 1), same order."""
        return [max(1, len(c.categories)) for c in self.columns if c.kind == "categorical"]

    def fit(self, frame: pd.DataFrame) -> TableEncoder:
        width = frame.shape[1]
        bad = [c for c in self.forced if not 0 <= c < width]
        if bad:
            raise ValueError(f"categorical column positions {bad} out of range for {width} columns")
        self.columns = []
        for j in range(width):
            col = frame.iloc[:, j]
            if j in self.forced or is_categorical_column(col, self.max_categories):
                labels, order = column_labels(col)
                self.columns.append(
                    _Column("categorical", categories={v: float(i) for i, v in enumerate(order)})
                )
            else:
                values = numeric_values(col, "X")
                fit = values[~np.isnan(values)]
                mean = float(fit.mean()) if fit.size else 0.0
                std = float(fit.std()) if fit.size else 1.0
                self.columns.append(_Column("numerical", mean, std if std > 1e-12 else 1.0))
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encoded float32 ``(N, F)``; NaN marks missing values and unseen categories."""
        if frame.shape[1] != self.num_features:
            raise ValueError(
                f"X has {frame.shape[1]} columns, but the encoder was fitted on {self.num_features}"
            )
        out = np.empty(frame.shape, dtype=np.float64)
        for j, spec in enumerate(self.columns):
            col = frame.iloc[:, j]
            if spec.kind == "categorical":
                labels, _ = column_labels(col)
                out[:, j] = [
                    np.nan if v is None else spec.categories.get(v, np.nan) for v in labels
                ]
            else:
                out[:, j] = (numeric_values(col, "X") - spec.mean) / spec.std
        return out.astype(np.float32)
