"""Frozen features of a trained run, for a user's own downstream work (``omnijepa embed``).

Every recipe's evaluation goes through ``protocol.evaluate_against_twin``, which knows the
verdict encoder, the datasets of the run's data and the protocol's layers and pooling. Inside
``capturing_features`` that harness computes the verdict encoder's pooled features of both
whole splits, hands them over and stops the evaluation (``FeaturesCaptured``), so a recipe
needs nothing of its own to export features, and a new recipe gets ``embed`` for free.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from typing import Any

from torch.utils.data import Dataset

_SINK: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "feature_sink", default=None
)


class FeaturesCaptured(Exception):  # noqa: N818 - a signal, not an error
    """The evaluation stops here: the features it was asked for are in the sink."""


@contextlib.contextmanager
def capturing_features() -> Iterator[dict[str, Any]]:
    """Within this block the evaluation harness fills the yielded dict (``train``/``test``:
    (features, labels); ``encoder``; ``pool``; ``layers``) and raises ``FeaturesCaptured``."""
    sink: dict[str, Any] = {}
    token = _SINK.set(sink)
    try:
        yield sink
    finally:
        _SINK.reset(token)


def name_rows(
    dataset: Dataset, files: Sequence[str] | None = None, classes: Sequence[str] | None = None
) -> Dataset:
    """Attach the source of every row (``files``) and the class names by label (``classes``) to
    ``dataset``, where the data knows them, so ``embed`` writes them beside the features (the
    harness reads ``dataset.files`` / ``dataset.classes``). Returns ``dataset``."""
    if files:
        if len(files) != len(dataset):  # type: ignore[arg-type]
            raise ValueError(f"{len(files)} file names for {len(dataset)} rows")  # type: ignore[arg-type]
        dataset.files = [str(f) for f in files]  # type: ignore[attr-defined]
    if classes:
        dataset.classes = [str(c) for c in classes]  # type: ignore[attr-defined]
    return dataset


def feature_sink() -> dict[str, Any] | None:
    """The dict to fill when features are being exported, else None."""
    return _SINK.get()
