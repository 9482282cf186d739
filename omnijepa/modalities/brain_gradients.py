"""Connectivity gradients: positions for brain regions from how they co-fluctuate.

Regions of interest (ROIs) have no grid; Brain-JEPA places each at its "gradient" vector, a
diffusion-map embedding of functional connectivity (Margulies et al. 2016), so regions that
talk alike sit close. The steps (BrainSpace's defaults, written here in numpy):

1. functional connectivity: Pearson correlation of the ROI time series averaged over
   subjects (Fisher z, mean, back-transformed);
2. keep each row's strongest ``1 - sparsity`` share of connections (the rest 0);
3. affinity: cosine similarity between the sparse rows, negatives set to 0;
4. diffusion map with anisotropy ``alpha = 0.5``; drop the trivial eigenvector; scale each
   unit-norm component by its eigenvalue (diffusion time 1: BrainSpace's ``lambda / (1 -
   lambda)`` blows up when the sparse graph falls apart into pieces, eigenvalues near 1);
5. keep ``m`` components, each with a fixed sign (its largest-magnitude entry positive), so
   two runs on the same data give the same axes.
"""

from __future__ import annotations

import numpy as np

from omnijepa.errors import DataError


def functional_connectivity(series: np.ndarray) -> np.ndarray:
    """``(subjects, R, T)`` or ``(R, T)`` series -> ``(R, R)`` mean correlation (Fisher-z mean)."""
    x = np.asarray(series, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[2] < 3:
        raise DataError(f"connectivity needs (subjects, regions, time >= 3), got {x.shape}")
    x = x - x.mean(2, keepdims=True)
    x /= np.maximum(np.linalg.norm(x, axis=2, keepdims=True), 1e-12)
    corr = np.einsum("srt,sqt->srq", x, x).clip(-0.999999, 0.999999)
    return np.tanh(np.arctanh(corr).mean(0))


def diffusion_gradients(
    connectivity: np.ndarray, m: int, sparsity: float = 0.9, alpha: float = 0.5
) -> np.ndarray:
    """``(R, m)`` gradients of an ``(R, R)`` connectivity matrix (steps 2-5 above)."""
    fc = np.asarray(connectivity, dtype=np.float64)
    r = fc.shape[0]
    if fc.ndim != 2 or fc.shape[1] != r or not np.isfinite(fc).all():
        raise DataError(f"connectivity must be a finite square matrix, got {fc.shape}")
    if not 1 <= m < r:
        raise DataError(
            f"{m} gradients need at least {m + 1} regions, have {r}: lower model.gradients "
            "when training (a trained run takes only data with as many regions)"
        )
    keep = max(1, int(round((1.0 - sparsity) * r)))
    threshold = np.sort(fc, axis=1)[:, -keep][:, None]
    sparse = np.where(fc >= threshold, fc, 0.0)
    unit = sparse / np.maximum(np.linalg.norm(sparse, axis=1, keepdims=True), 1e-12)
    affinity = np.clip(unit @ unit.T, 0.0, None)
    degree = np.maximum(affinity.sum(1), 1e-12)  # a region with a flat series links nowhere
    kernel = affinity / np.outer(degree**alpha, degree**alpha)
    d = np.maximum(kernel.sum(1), 1e-12)
    sym = kernel / np.sqrt(np.outer(d, d))
    vals, vecs = np.linalg.eigh(sym)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    psi = vecs[:, 1 : m + 1] / np.sqrt(d)[:, None]
    psi /= np.maximum(np.linalg.norm(psi, axis=0, keepdims=True), 1e-12)
    grads = psi * np.clip(vals[1 : m + 1], 0.0, None)
    signs = np.sign(grads[np.abs(grads).argmax(0), np.arange(m)])
    return grads * np.where(signs == 0, 1.0, signs)


def scaled_positions(gradients: np.ndarray) -> np.ndarray:
    """Gradients min-max scaled into [-1, 1] as one block (Brain-JEPA rescales the mapped
    positions by one global min/max; scaling the inputs keeps the components' ratios)."""
    g = np.asarray(gradients, dtype=np.float64)
    lo, hi = g.min(), g.max()
    return (2.0 * (g - lo) / max(hi - lo, 1e-12) - 1.0).astype(np.float32)


__all__ = ["diffusion_gradients", "functional_connectivity", "scaled_positions"]
