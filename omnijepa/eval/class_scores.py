"""Linear-probe scores beyond accuracy, for tasks whose papers report F1 (multimodal
sentiment: MVSA reports accuracy, macro-F1 and weighted-F1), over several feature sets at
once so every arm is scored by the same probe: z-scored features, logistic regression with C
picked on a held-out part of the training split (``eval.frozen_probes.choose_c``), refit on
all of it."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from omnijepa.eval.frozen_probes import ProbeConfig, Split, choose_c, zscore
from omnijepa.eval.logistic import LogisticProbe

SCORES = ("accuracy", "macro_f1", "weighted_f1")


def linear_class_predictions(train: Split, test: Split, cfg: ProbeConfig, seed: int
                             ) -> np.ndarray:  # fmt: skip
    """The linear probe's predicted classes of ``test``."""
    train, test = zscore(train, test)
    c, warm = choose_c(train, cfg, seed)
    return LogisticProbe(c=c, max_iter=cfg.max_iter).fit(*train, warm=warm).predict(test[0])


def linear_class_scores(train: Split, test: Split, cfg: ProbeConfig, seed: int
                        ) -> dict[str, float]:  # fmt: skip
    """Accuracy, macro-F1 and weighted-F1 of the linear probe on ``test``."""
    return class_scores(linear_class_predictions(train, test, cfg, seed), test[1])


def class_scores(pred: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy, macro-F1 and weighted-F1 of predictions ``pred`` of labels ``y``."""
    return {
        "accuracy": float(np.mean(pred == y)),
        "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(y, pred, average="weighted", zero_division=0)),
    }


def score_feature_sets(
    features: dict[str, tuple[np.ndarray, np.ndarray]],
    y_train: np.ndarray,
    y_test: np.ndarray,
    cfg: ProbeConfig,
    seed: int,
    predictions: dict[str, np.ndarray] | None = None,
) -> dict[str, dict[str, float]]:
    """``{score: {feature set: value}}`` for every named (train, test) feature pair; each set's
    test predictions go into ``predictions`` when given."""
    out: dict[str, dict[str, float]] = {s: {} for s in SCORES}
    for name, (a, b) in features.items():
        pred = linear_class_predictions((a, y_train), (b, y_test), cfg, seed)
        if predictions is not None:
            predictions[name] = pred
        scores = class_scores(pred, y_test)
        for s in SCORES:
            out[s][name] = scores[s]
    return out


__all__ = [
    "SCORES",
    "class_scores",
    "linear_class_predictions",
    "linear_class_scores",
    "score_feature_sets",
]
