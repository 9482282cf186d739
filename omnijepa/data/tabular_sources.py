"""Built-in tables, registered by name in ``TABULAR_SOURCES`` (offline, no downloads).

- ``breast_cancer`` (569x30, 2 classes), ``wine`` (178x13, 3), ``digits_table`` (1797x64 pixel
  intensities, 10), ``diabetes`` (442x10, regression): scikit-learn's bundled copies.
- ``letter``: UCI Letter Recognition (20000x16, 26 classes) from the Debian package
  ``opencv-doc``. Its 16 integer features (0..15) are measurements, so they are read as floats
  and stay numerical.

Each loader returns a ``RawTable``; typing, splitting and encoding happen in ``tabular_data``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from omnijepa.data.raw_table import RawTable
from omnijepa.errors import DataError
from omnijepa.registry import Registry

SourceLoader = Callable[[], RawTable]
TABULAR_SOURCES: Registry[SourceLoader] = Registry("tabular source")

LETTER_PATH_ENV = "OMNIJEPA_LETTER_PATH"
DEFAULT_LETTER_PATH = "/usr/share/doc/opencv-doc/examples/data/letter-recognition.data"
LETTER_FEATURES = [
    "x-box", "y-box", "width", "high", "onpix", "x-bar", "y-bar", "x2bar",
    "y2bar", "xybar", "x2ybr", "xy2br", "x-ege", "xegvy", "y-ege", "yegvx",
]  # fmt: skip


def _sklearn_table(name: str, loader: str, class_names: bool) -> RawTable:
    import sklearn.datasets

    d = getattr(sklearn.datasets, loader)()
    frame = pd.DataFrame(np.asarray(d.data, dtype=np.float64), columns=list(d.feature_names))
    frame["target"] = d.target
    names = [str(c) for c in d.target_names] if class_names else None
    return RawTable(frame, "target", f"scikit-learn {name}", names)


def _register_sklearn(name: str, loader: str, class_names: bool = True) -> None:
    TABULAR_SOURCES.add(name, lambda: _sklearn_table(name, loader, class_names))


_register_sklearn("breast_cancer", "load_breast_cancer")
_register_sklearn("wine", "load_wine")
_register_sklearn("digits_table", "load_digits")
_register_sklearn("diabetes", "load_diabetes", class_names=False)


def letter_path() -> Path:
    """Where the Letter data is: $OMNIJEPA_LETTER_PATH, else the opencv-doc package's file."""
    return Path(os.environ.get(LETTER_PATH_ENV) or DEFAULT_LETTER_PATH)


@TABULAR_SOURCES.register("letter")
def load_letter() -> RawTable:
    """UCI Letter Recognition: first column the letter (target), then 16 numerical features."""
    path = letter_path()
    if not path.is_file():
        raise DataError(
            f"UCI Letter Recognition not found at {path}. Install it with "
            f"`apt-get install opencv-doc`, or point {LETTER_PATH_ENV} at letter-recognition.data."
        )
    try:
        frame = pd.read_csv(path, header=None, names=["letter", *LETTER_FEATURES])
        frame[LETTER_FEATURES] = frame[LETTER_FEATURES].astype(np.float64)
    except (ValueError, pd.errors.ParserError) as e:
        raise DataError(f"cannot parse {path}: {e}".splitlines()[0]) from None
    return RawTable(frame, "letter", "UCI Letter Recognition (opencv-doc)")
