"""Feature columns a table model should not be fed as they come, found before encoding:

- a constant column carries nothing;
- an identifier (a string column with a distinct value for most rows, or integers counting
  the rows from 0 or 1) is a per-row key: as a category it gives every row its own embedding,
  which a model can only memorise;
- dates written as text (``2021-03-04``, ``04/03/2021 10:15``) are an order, not categories:
  they become numbers (days since 1970).

Each is said in one warning. Columns the user names in ``data.categorical`` or
``data.numerical`` are left as they are.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

_DATE_TEXT = re.compile(
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})([ T]\d{1,2}:\d{2}\b.*)?$"
)
MIN_ROWS_FOR_ID = 20
_DAY_FORMATS = ("%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d", "%Y.%m.%d")
DATE_FORMATS = ("ISO8601",) + tuple(
    d + t for d in _DAY_FORMATS for t in ("", " %H:%M", " %H:%M:%S")
)  # one format for the whole column, day-first before month-first where both read every value


def _as_dates(col: pd.Series) -> pd.Series | None:
    """Days since 1970 when every present value is a date written as text in one format (the
    first of ``DATE_FORMATS`` that reads them all), else None."""
    present = col.dropna().astype(str).str.strip()
    if not len(present) or not present.str.match(_DATE_TEXT).all():
        return None
    for fmt in DATE_FORMATS:
        try:
            parsed = pd.to_datetime(present, errors="coerce", format=fmt, utc=True)
        except (TypeError, ValueError, OverflowError):
            continue
        if not parsed.isna().any():
            days = (parsed - pd.Timestamp("1970-01-01", tz="UTC")) / pd.Timedelta(days=1)
            return days.astype(np.float64).reindex(col.index)
    return None


def _is_identifier(col: pd.Series) -> bool:
    present = col.dropna()
    if len(present) < MIN_ROWS_FOR_ID:
        return False
    if pd.api.types.is_integer_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = np.sort(present.to_numpy(dtype=np.int64))
        return values[0] in (0, 1) and bool((np.diff(values) == 1).all())  # a row counter
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return False
    return present.nunique() > 0.5 * len(present)


def screen_features(
    frame: pd.DataFrame, features: list[str], keep: set[str], origin: str
) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with date columns turned into numbers, and the features left after dropping
    constant and identifier columns (never those in ``keep``)."""
    dates: dict[str, pd.Series] = {}
    constant, ids = [], []
    for name in features:
        if name in keep:
            continue
        col = frame[name]
        if col.nunique(dropna=True) <= 1:
            constant.append(name)
            continue
        days = None if pd.api.types.is_numeric_dtype(col) else _as_dates(col)
        if days is not None:
            dates[name] = days
        elif _is_identifier(col):
            ids.append(name)
    for what, names in (
        ("constant column(s) left out", constant),
        ("identifier-like column(s) left out (a distinct value for most rows; name them in "
         "data.categorical or data.numerical to keep them)", ids),
        ("date column(s) read as days since 1970", list(dates)),
    ):  # fmt: skip
        if names:
            warnings.warn(f"{origin}: {what}: {', '.join(names)}", stacklevel=3)
    dropped = set(constant) | set(ids)
    frame = frame.assign(**dates) if dates else frame  # a copy only when a column changes
    return frame, [c for c in features if c not in dropped]
