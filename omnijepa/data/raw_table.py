"""A table as read, before typing: what the built-in sources and the CSV reader hand over."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass
class RawTable:
    """A table as read, before typing: what sources and the CSV reader hand over."""

    frame: pd.DataFrame  # features and target; NaN/None = missing
    target: str | None  # the source's default target column (None: the user must name one)
    origin: str  # readable name of where it came from (file path, package)
    class_names: list[str] | None = None  # names of integer target codes 0..K-1 (built-ins)
