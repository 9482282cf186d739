"""Downstream models on tabular inputs or frozen representations (T-JEPA's evaluation).

On classification tables the recipe runs the shared protocol (``eval.protocol``) and adds the
MLP (on every feature set) and GBDT (on the raw table) from here; regression tables use ridge,
MLP and GBDT from here. Scores are accuracy for classification and RMSE (in the target's
original units) for regression. Raw inputs get the usual deep-learning preprocessing: missing
numerical values become 0 plus a missing-indicator column, categorical codes are one-hot
encoded.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

Split = tuple[np.ndarray, np.ndarray]


def raw_design_matrix(
    x: np.ndarray, categorical: list[int], cardinalities: list[int], indicator_cols: list[int]
) -> np.ndarray:
    """Numerical columns (NaN -> 0), missing indicators for ``indicator_cols``, one-hot codes."""
    cat = set(categorical)
    num_idx = [j for j in range(x.shape[1]) if j not in cat]
    parts = [np.nan_to_num(x[:, num_idx])]
    if indicator_cols:
        parts.append(np.isnan(x[:, indicator_cols]).astype(np.float32))
    for j, card in zip(categorical, cardinalities):
        onehot = np.zeros((x.shape[0], card), dtype=np.float32)
        codes = x[:, j]
        ok = ~np.isnan(codes)
        onehot[np.flatnonzero(ok), codes[ok].astype(int)] = 1.0
        parts.append(onehot)
    return np.concatenate(parts, axis=1).astype(np.float32)


def score(task: str, y_true: np.ndarray, y_pred: np.ndarray, target_std: float) -> float:
    """Accuracy, or RMSE in original units (targets are standardised with ``target_std``)."""
    if task == "classification":
        return float((y_true == y_pred).mean())
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)) * target_std)


def _fit_predict(model: Any, train: Split, test: Split) -> np.ndarray:
    """Fit and predict with the BLAS / OpenMP pools capped at torch's thread count: runs that
    go side by side (``recipes.parallel_runs``) set it to their share of the cores, and
    oversubscribed BLAS threads slow sklearn's small-matmul MLP down several-fold."""
    with threadpool_limits(limits=torch.get_num_threads()), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(*train)
        return model.predict(test[0])


def linear_score(task: str, train: Split, test: Split, target_std: float) -> float:
    """Logistic regression / ridge on standardised inputs."""
    est = LogisticRegression(max_iter=300) if task == "classification" else Ridge(alpha=1.0)
    pred = _fit_predict(make_pipeline(StandardScaler(), est), train, test)
    return score(task, test[1], pred, target_std)


def mlp_score(task: str, train: Split, test: Split, target_std: float, seed: int) -> float:
    """Two-layer MLP (256 units) with early stopping on a held-out 10% of train."""
    kwargs = dict(
        hidden_layer_sizes=(256, 256), early_stopping=True, max_iter=200, random_state=seed
    )
    est = MLPClassifier(**kwargs) if task == "classification" else MLPRegressor(**kwargs)
    pred = _fit_predict(make_pipeline(StandardScaler(), est), train, test)
    return score(task, test[1], pred, target_std)


def gbdt_score(task: str, train: Split, test: Split, target_std: float, seed: int) -> float:
    """Histogram gradient-boosted trees on the raw table (NaN handled natively)."""
    cls = (
        HistGradientBoostingClassifier
        if task == "classification"
        else HistGradientBoostingRegressor
    )
    pred = _fit_predict(cls(random_state=seed), train, test)
    return score(task, test[1], pred, target_std)
