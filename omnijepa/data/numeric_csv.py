"""Numeric tables from text files as users and pandas write them.

``read_numeric_table`` takes a comma-, semicolon- (decimal commas allowed), tab- or
space-separated file (a UTF-8 BOM is dropped), skips a header row — column names, or pandas'
default names ``0,1,2,…`` — and drops pandas' index column (a header whose first cell is empty,
``Unnamed: 0`` or ``index``), so ``df.to_csv(path)`` reads back as the data alone; a header of
atlas label numbers ``1,2,…,n`` is a header too, and a first column named like time
(``time``, ``TR`` …) whose values only increase is left out with a warning. Anything
else non-numeric is one DataError naming the file, the row and the cell.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from omnijepa.errors import DataError

DELIMITERS = (",", ";", "\t")
INDEX_NAMES = ("", "unnamed: 0", "index")
# a first column by one of these names that only increases is the time axis, not a channel
TIME_NAMES = ("time", "t", "tr", "timepoint", "time_point", "volume", "frame", "timestamp",
              "seconds", "sec", "s")  # fmt: skip


def _split(line: str, delimiter: str | None) -> list[str]:
    cells = [c.strip().strip('"') for c in (line.split(delimiter) if delimiter else line.split())]
    if delimiter == ";":  # Excel and ``to_csv(sep=";", decimal=",")`` write decimal commas
        cells = [c.replace(",", ".") if is_number(c.replace(",", ".")) else c for c in cells]
    return cells


def _sniff(lines: list[str]) -> str | None:
    """The first of ``DELIMITERS`` that the first data-like line holds; else whitespace."""
    sample = lines[1] if len(lines) > 1 else lines[0]
    if ";" in sample:  # before ",": with ";" between cells, a comma is a decimal comma
        return ";"
    return next((d for d in DELIMITERS if d in sample), None)


def read_text(path: Path, what: str) -> str:
    """The file's text (a UTF-8 BOM dropped); one DataError naming ``what`` was expected when
    it is not text or cannot be read."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"cannot read {path}: not a text file ({what})") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def is_number(cell: str) -> bool:
    """``cell`` parses as a float (``nan`` and ``inf`` included: callers check finiteness)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_numeric_table(path: Path, what: str) -> np.ndarray:
    """``(rows, columns)`` float64 from a text table (see the module doc); ``what`` names
    what the table should hold, for the errors."""
    text = read_text(path, what)
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        raise DataError(f"{path}: empty file, expected {what}")
    delimiter = _sniff(lines)
    rows = [_split(line, delimiter) for line in lines]
    first = rows[0]
    named = [c for c in first if c]  # pandas' index column has an empty name
    pandas_names = len(first) > 1 and named == [str(k) for k in range(len(named))]
    # atlas label numbers 1..n over the columns (ROI 1, ROI 2 …), above rows of data
    label_numbers = len(rows) > 2 and named == [str(k) for k in range(1, len(named) + 1)]
    drop_index = drop_time = False
    if pandas_names or label_numbers or not all(is_number(c) for c in first):
        drop_index = first[0].lower() in INDEX_NAMES and len(first) > 1
        drop_time = first[0].lower() in TIME_NAMES and len(first) > 1
        rows = rows[1:]
    if drop_time:
        column = [r[0] for r in rows]
        values = np.array([float(c) if is_number(c) else np.nan for c in column])
        drop_time = bool(len(values) > 1 and (np.diff(values) > 0).all())
        if drop_time:
            warnings.warn(f"{path.name}: its first column {first[0]!r} counts time, not "
                          f"{what}: left out", stacklevel=3)  # fmt: skip
    if drop_index or drop_time:
        rows = [r[1:] for r in rows]
    if not rows:
        raise DataError(f"{path}: a header and no data, expected {what}")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise DataError(f"{path}: rows of different lengths {sorted(widths)}, expected {what}")
    for k, row in enumerate(rows):
        bad = next((c for c in row if not is_number(c)), None)
        if bad is not None:
            sep = {None: "spaces", "\t": "tabs"}.get(delimiter, repr(delimiter))
            raise DataError(
                f"{path}: non-numeric cell {bad[:40]!r} in data row {k + 1} (columns split "
                f"at {sep}), expected {what}"
            )
    return np.array(rows, dtype=np.float64)


__all__ = ["is_number", "read_numeric_table", "read_text"]
