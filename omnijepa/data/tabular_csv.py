"""Read a user CSV (header row; comma-, semicolon- or tab-separated, whichever the header
holds most of; with semicolons, decimal commas are read as points; otherwise numbers with
thousands separators, "12,345.67", are numbers) into a ``RawTable`` with typed columns.

Every cell is read as text, stripped, and the missing markers (empty, NA, N/A, NaN, null,
None, ?, case-insensitive) become NaN. Then each column gets a dtype from its text, so that
the typing rules in ``tabular_data`` see the same thing for every file:

- all values integer literals (``-3``, ``12``)  -> nullable ``Int64`` (NaN allowed);
- all values numbers, some with a point/exponent -> ``float64`` (always numerical);
- numbers but for a few stray cells (at most 2 %, of 20 or more values) -> numeric, the
  stray cells missing, with a warning naming them (a typo is not a category);
- anything else (words, ``True``/``False``, mixtures) -> strings (categorical).

Reading the text ourselves (rather than trusting pandas' guess) keeps an integer column
integer when it has missing values, and turns numbers padded with spaces into numbers.
"""

from __future__ import annotations

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from omnijepa.data.raw_table import RawTable
from omnijepa.errors import DataError

MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "#n/a"})
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
# a column whose non-numeric cells are at most this share of its values (and at least
# MIN_FOR_STRAY values) is numeric with typos, not text: one stray word used to turn a
# feature into strings, which the identifier screen then dropped
STRAY_SHARE = 0.02
MIN_FOR_STRAY = 20


NOT_CSV = (".parquet", ".xlsx", ".xls", ".feather", ".npz", ".npy", ".pkl", ".h5", ".json")
DELIMITERS = (",", ";", "\t")  # ties go to the first


def _delimiter(path: Path) -> str:
    """The one of ``DELIMITERS`` the header line holds most of (Excel writes ';' in many
    locales; .tsv files use tabs)."""
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        header = f.readline()
    return max(DELIMITERS, key=header.count)


_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")  # 12,345.67
_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")
_UNIT = re.compile(r"^([+-]?)[$€£¥]\s*|\s*%$")  # $1,234.56, -€5, 12.3 %: the number stays


def _unit_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of money or percentages (every present cell a number once a leading currency
    sign or a trailing % is taken off, at least one carrying it) lose the signs: as text they
    were screened out as identifiers. Percentages stay in percent."""
    for name in frame.columns:
        text = frame[name].str.strip()
        present = text[~text.str.lower().isin(MISSING_MARKERS)]
        bare = text.str.replace(_UNIT, lambda m: m.group(1) or "", regex=True)
        numbers = bare[present.index].str.replace(",", "", regex=False)
        if (
            len(present)
            and (bare[present.index] != present).any()
            and pd.to_numeric(numbers, errors="coerce").notna().all()
        ):
            frame[name] = bare
    return frame


def _comma_numbers(frame: pd.DataFrame, sep: str) -> pd.DataFrame:
    """Columns whose every present cell is a number once its commas are read — as decimal
    points in a ';' file (Excel in many locales), as thousands separators ("12,345.67",
    quoted) otherwise — are so rewritten: as text they were categories, or screened out as
    identifiers."""
    for name in frame.columns:
        text = frame[name].str.strip()
        present = text[~text.str.lower().isin(MISSING_MARKERS)]
        if sep == ";":
            read = text.str.replace(",", ".", regex=False)
            numbers = pd.to_numeric(read[present.index], errors="coerce").notna().all()
        else:
            read = text.str.replace(",", "", regex=False)
            grouped = present.str.fullmatch(_GROUPED)
            numbers = grouped.any() and (grouped | present.str.fullmatch(_PLAIN)).all()
        if len(present) and numbers:
            frame[name] = read
    return frame


def _checked_path(path: Path) -> None:
    if path.is_dir():
        raise DataError(f"{path} is a folder: data.path for a table is one CSV file")
    if path.suffix.lower() in NOT_CSV:
        raise DataError(f"{path}: tables are read from CSV files only; export it as CSV")
    if not path.is_file():
        raise DataError(f"CSV file not found: {path}")


def read_csv_table(path: str | Path) -> RawTable:
    """Read ``path`` into a RawTable (no default target); DataError naming the file if bad."""
    path = Path(path)
    _checked_path(path)
    sep = _delimiter(path)
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise DataError(f"CSV file {path} is empty") from None
    except UnicodeDecodeError:
        raise DataError(
            f"cannot read {path}: not UTF-8 text (a binary file, or a CSV saved in another "
            "encoding: re-save it as UTF-8 CSV)"
        ) from None
    except (pd.errors.ParserError, csv.Error, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DataError(f"cannot parse {path} as CSV: {first}") from None
    if frame.shape[0] == 0:
        raise DataError(f"CSV file {path} has a header but no data rows")
    if str(frame.columns[0]).lstrip().startswith("#"):
        warnings.warn(
            f"{path}: its first line ({str(frame.columns[0])[:40]!r} …) looks like a comment; "
            "the header is read from the first line: remove comment lines above it",
            stacklevel=2,
        )
    elif not isinstance(frame.index, pd.RangeIndex):  # the header is one name short
        warnings.warn(
            f"{path}: the header names one column fewer than the rows hold; the first column "
            "is taken as row names (pandas' reading) and left out",
            stacklevel=2,
        )
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    _warn_repeated_names(path, sep)
    frame = _comma_numbers(_unit_numbers(frame), sep)
    first = frame.columns[0]
    rows = frame[first].str.strip()
    if (
        first in ("", "Unnamed: 0")
        and frame.shape[1] > 1
        and rows.tolist() == [str(k) for k in range(len(rows))]
    ):  # pandas' index (df.to_csv(path)): a row number, not a feature
        warnings.warn(f"{path}: the first column is a row index (0, 1, 2, …); left out",
                      stacklevel=2)  # fmt: skip
        frame = frame.drop(columns=first)
    typed = pd.DataFrame({name: type_column(frame[name]) for name in frame.columns})
    return RawTable(typed, None, str(path))


def _warn_repeated_names(path: Path, sep: str) -> None:
    """pandas renames a repeated header name ``a`` to ``a.1`` without a word: say so."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        header = next(csv.reader(f, delimiter=sep), [])
    names = [h.strip() for h in header]
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        warnings.warn(
            f"{path}: column name(s) {', '.join(map(repr, repeated))} appear more than once; "
            "the repeats are read as NAME.1, NAME.2, …",
            stacklevel=3,
        )


def type_column(text: pd.Series) -> pd.Series:
    """Text cells -> Int64 / float64 / string Series with NaN for missing (see module doc)."""
    stripped = text.astype(str).str.strip()
    missing = stripped.str.lower().isin(MISSING_MARKERS)
    values = stripped.mask(missing)
    present = values[~missing]
    if len(present) and present.str.fullmatch(_INTEGER).all():
        return pd.to_numeric(values).astype("Int64")
    numbers = pd.to_numeric(values, errors="coerce")
    stray = numbers.isna() & ~missing
    if len(present) and not stray.any():
        return numbers.astype(np.float64)
    if stray.sum() <= max(1, STRAY_SHARE * len(present)) and len(present) >= MIN_FOR_STRAY:
        # a numeric column with a typo or two: those cells become missing, said once
        shown = np.flatnonzero(stray)[:4]
        rows = [f"{stripped.iloc[k]!r} (data row {k + 1})" for k in shown]
        warnings.warn(
            f"column {text.name!r} is numeric but for {int(stray.sum())} cell(s): "
            f"{', '.join(rows)}{' …' if stray.sum() > 4 else ''}; read as missing",
            stacklevel=3,
        )
        numbers = numbers.mask(stray)
        if present[~stray[~missing]].str.fullmatch(_INTEGER).all():
            return numbers.astype("Int64")
        return numbers.astype(np.float64)
    return values.astype(object).where(~missing, None)
