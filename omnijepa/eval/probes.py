"""Linear probe and kNN on frozen features (scikit-learn)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def _labeled(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = y >= 0
    return x[keep], y[keep]


def has_labels(y_train: np.ndarray, y_test: np.ndarray) -> bool:
    """True when both splits carry at least two classes (probing makes sense)."""
    return len(np.unique(y_train[y_train >= 0])) >= 2 and (y_test >= 0).any()


def linear_probe(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    max_iter: int = 300,
) -> float:
    """Test accuracy of a standardised multinomial logistic regression on frozen features."""
    x_train, y_train = _labeled(x_train, y_train)
    x_test, y_test = _labeled(x_test, y_test)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter, C=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(np.nan_to_num(x_train), y_train)
    return float(clf.score(np.nan_to_num(x_test), y_test))


def knn_probe(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, k: int = 20
) -> float:
    """Test accuracy of a cosine-distance k-nearest-neighbour vote on frozen features."""
    x_train, y_train = _labeled(x_train, y_train)
    x_test, y_test = _labeled(x_test, y_test)
    clf = KNeighborsClassifier(n_neighbors=min(k, len(y_train)), metric="cosine")
    clf.fit(np.nan_to_num(x_train), y_train)
    return float(clf.score(np.nan_to_num(x_test), y_test))
