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


def linear_class_scores(train: Split, test: Split, cfg: ProbeConfig, seed: int
                        ) -> dict[str, float]:  # fmt: skip
    """Accuracy, macro-F1 and weighted-F1 of the linear probe on ``test``."""
    train, test = zscore(train, test)
    c, warm = choose_c(train, cfg, seed)
    pred = LogisticProbe(c=c, max_iter=cfg.max_iter).fit(*train, warm=warm).predict(test[0])
    y = test[1]
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
) -> dict[str, dict[str, float]]:
    """``{score: {feature set: value}}`` for every named (train, test) feature pair."""
    out: dict[str, dict[str, float]] = {s: {} for s in SCORES}
    for name, (a, b) in features.items():
        scores = linear_class_scores((a, y_train), (b, y_test), cfg, seed)
        for s in SCORES:
            out[s][name] = scores[s]
    return out


__all__ = ["SCORES", "linear_class_scores", "score_feature_sets"]
