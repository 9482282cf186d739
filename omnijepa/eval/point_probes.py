"""Frozen-feature evaluation for point-cloud encoders (Point-JEPA's SVM protocol).

Features are ``[max ‖ mean]`` over the encoder's patch tokens; a linear SVM (Point-JEPA:
``SVC(kernel="linear", C=0.012)``, on standardised features here so one C fits every width)
measures linear separability, few-shot episodes (n-way k-shot, SVM on the k labelled
examples, queries from the test split) measure label efficiency, and an optional fine-tune
trains encoder + MLP head end to end (``eval.finetune``).
"""

from __future__ import annotations

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC


def svm_accuracy(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, c: float
) -> float:
    """Test accuracy of a linear SVM on standardised features."""
    clf = make_pipeline(StandardScaler(), SVC(kernel="linear", C=c))
    clf.fit(np.nan_to_num(x_train), y_train)
    return float(clf.score(np.nan_to_num(x_test), y_test))


def few_shot_accuracy(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    way: int,
    shot: int,
    queries: int,
    episodes: int,
    c: float,
    seed: int = 0,
) -> tuple[float, float]:
    """Mean and std over episodes of n-way k-shot accuracy (SVM on the support set)."""
    rng = np.random.default_rng(seed)
    classes = np.unique(y_train[y_train >= 0])
    if len(classes) < way:
        raise ValueError(f"few-shot needs >= {way} classes, the data has {len(classes)}")
    accs = []
    for _ in range(episodes):
        picked = rng.choice(classes, size=way, replace=False)
        sx, sy, qx, qy = [], [], [], []
        for c_ in picked:
            tr = np.flatnonzero(y_train == c_)
            te = np.flatnonzero(y_test == c_)
            sx.append(x_train[rng.choice(tr, size=min(shot, len(tr)), replace=False)])
            qx.append(x_test[rng.choice(te, size=min(queries, len(te)), replace=False)])
            sy += [c_] * len(sx[-1])
            qy += [c_] * len(qx[-1])
        accs.append(svm_accuracy(np.concatenate(sx), np.array(sy), np.concatenate(qx),
                                 np.array(qy), c))  # fmt: skip
    return float(np.mean(accs)), float(np.std(accs))
