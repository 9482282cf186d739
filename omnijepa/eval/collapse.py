"""Collapse diagnostics on a feature matrix (N, D)."""

from __future__ import annotations

import numpy as np


def rankme(features: np.ndarray, eps: float = 1e-7) -> float:
    """RankMe effective rank: exp of the entropy of the normalised singular values."""
    x = np.asarray(features, dtype=np.float64)
    if x.shape[0] < 2:
        return 0.0
    s = np.linalg.svd(x, compute_uv=False)
    p = s / (s.sum() + eps) + eps
    return float(np.exp(-(p * np.log(p)).sum()))


def collapse_report(features: np.ndarray) -> dict[str, float]:
    """Per-dimension std (mean and min), effective rank and its ratio to the width."""
    x = np.asarray(features, dtype=np.float64)
    std = x.std(axis=0)
    rank = rankme(x)
    return {
        "feature_std": float(std.mean()),
        "feature_std_min": float(std.min()),
        "rankme": rank,
        "rankme_ratio": rank / x.shape[1],
    }
