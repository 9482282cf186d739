"""Annotation tables next to a user's files (``annotations.csv``, ``captions.csv``): a header
row, required and optional columns matched case-insensitively, every required cell non-empty,
and one error naming the file, the line and what is wrong. Columns that hold file paths take
Windows separators too (``clips\\a.mp4`` reads as ``clips/a.mp4``)."""

from __future__ import annotations

import csv
import posixpath
from pathlib import Path

from omnijepa.errors import DataError


def read_annotation_rows(
    path: Path,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    hint: str = "",
    path_columns: tuple[str, ...] = (),
) -> list[dict[str, str]]:
    """Rows as ``{column: stripped text}`` for the required and optional columns (optional
    ones "" when absent). ``hint`` ends the not-found error (how to make such a file);
    backslashes in ``path_columns`` become ``/`` (a file written on Windows) and each path is
    normalised (``./v/a.avi`` and ``v//a.avi`` are ``v/a.avi``), so one file has one name."""
    layout = ",".join(required) + "".join(f"[,{c}]" for c in optional)
    if not path.is_file():
        raise DataError(f"{path} not found: need a CSV file with columns {layout}{hint}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:  # Excel's "CSV UTF-8" has a BOM
            header = f.readline()
            f.seek(0)
            # Excel writes ';' in many locales, and .tsv files use tabs
            other = [d for d in (";", "\t") if d in header and "," not in header]
            reader = csv.DictReader(f, delimiter=other[0] if other else ",")
            fields = {(k or "").strip().lower(): k for k in reader.fieldnames or []}
            missing = [c for c in required if c not in fields]
            if missing:
                raise DataError(f"{path}: missing column(s) {', '.join(missing)}; found "
                                f"{sorted(fields) or 'no header'} (need {layout})")  # fmt: skip
            rows = []
            for n, row in enumerate(reader, start=2):
                rec = {c: (row.get(fields[c]) or "").strip() if c in fields else ""
                       for c in (*required, *optional)}  # fmt: skip
                empty = [c for c in required if not rec[c]]
                if empty:
                    raise DataError(f"{path} line {n}: empty {' and '.join(empty)}")
                for c in path_columns:  # one spelling per file: ./v/a.avi is v/a.avi
                    rec[c] = posixpath.normpath(rec[c].replace("\\", "/"))
                rows.append(rec)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path} is not a readable UTF-8 CSV file: {exc}") from exc
    if not rows:
        raise DataError(f"{path} has no rows under its header")
    return rows


__all__ = ["read_annotation_rows"]
