"""Multinomial logistic regression in torch, full-batch L-BFGS: the probe's classifier.

It minimises scikit-learn's objective ``C · Σ_i CE_i + ½‖W‖²`` (no penalty on the bias),
divided by ``C · n``, so ``C`` means what it means in ``sklearn.linear_model.
LogisticRegression``. Warm starts make a C grid cheap. A run that stops (at ``max_iter``, or where
its line search can go no further) above its gradient tolerance warns (``ProbeNotConverged``),
saying which — never silently.

**Preconditioning.** Frozen features are strongly correlated (a random encoder's z-scored
features have covariance eigenvalues from 1e-7 to 100), so plain L-BFGS on ``W`` is badly
conditioned at a large C: its gradient falls under the tolerance long before the objective
reaches its minimum. On the random-init twin of the I-JEPA canvas run, C = 10⁵ stopped at an
objective of 0.895 whose optimum is 0.799, and the twin's test accuracy read 0.579 instead of
0.599 — the probe was regularised by where its optimiser gave up, not by C (scikit-learn's
lbfgs solver, with the same criterion, stops in the same place). The fit therefore runs in the
coordinates ``U = W V diag(s)`` of the centred features' eigenbasis ``V``, with
``s = sqrt(eigenvalue + λ·K)``, λ = 1/(C·n) and K classes: there the Hessian of the objective
is close to a multiple of the identity, the tolerance means closeness to the optimum, and the
solution is the same ``W`` (the penalty ‖W‖² is written exactly in the new coordinates, and the
centring moves into the bias). It is also 10–40× faster at a large C.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

# widest features that get the eigenbasis (eigh of 2,048 x 2,048: about 4 s on one core)
MAX_BASIS_DIM = 2048


class ProbeNotConverged(UserWarning):
    """The probe's optimiser stopped (its iteration cap, or a stalled line search) above its
    gradient tolerance."""


@dataclass(frozen=True)
class FeatureBasis:
    """Mean and eigenbasis of a feature matrix's centred second moments: the probe's
    preconditioner. Compute it once for several fits on the same rows (a C grid)."""

    mean: torch.Tensor  # (d,)
    vectors: torch.Tensor | None  # (d, d), orthonormal columns; None: the features' own axes
    values: torch.Tensor  # (d,), eigenvalues (or variances) >= 0
    rows: int

    @classmethod
    def of(cls, x: np.ndarray | torch.Tensor) -> FeatureBasis:
        """The eigenbasis up to ``MAX_BASIS_DIM`` features; wider inputs (raw pixels of a
        video clip: 8,192) keep their own axes, scaled by each feature's variance — an
        eigendecomposition there would cost minutes, and that is the plain solver again."""
        xt = torch.as_tensor(np.asarray(x), dtype=torch.float64)
        mean = xt.mean(dim=0)
        xc = xt - mean
        if xt.shape[1] > MAX_BASIS_DIM:
            return cls(mean, None, xc.square().mean(dim=0), len(xt))
        values, vectors = torch.linalg.eigh(xc.T @ xc / max(len(xt), 1))
        return cls(mean, vectors, values.clamp_min(0.0), len(xt))

    def fits(self, x: torch.Tensor) -> bool:
        """Whether the basis was computed from these rows (shape and column means agree)."""
        if x.shape != (self.rows, len(self.mean)):
            return False
        return bool(torch.allclose(x.mean(dim=0), self.mean, rtol=1e-9, atol=1e-9))

    def rotate(self, m: torch.Tensor) -> torch.Tensor:
        """Rows of ``m`` (features or weights) in the basis' coordinates."""
        return m if self.vectors is None else m @ self.vectors

    def unrotate(self, m: torch.Tensor) -> torch.Tensor:
        return m if self.vectors is None else m @ self.vectors.T


class LogisticProbe:
    """Fit/score like an sklearn classifier; labels are 0..K-1 integers."""

    def __init__(self, c: float = 1.0, max_iter: int = 1000, tol: float = 1e-4) -> None:
        self.c, self.max_iter, self.tol = c, max_iter, tol
        self.weight: torch.Tensor | None = None
        self.bias: torch.Tensor | None = None
        self.converged = False
        self.classes_: np.ndarray | None = None

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        warm: LogisticProbe | None = None,
        warn: bool = True,
        basis: FeatureBasis | None = None,
    ) -> LogisticProbe:
        """Fit from ``warm``'s weights (or zeros); ``warn=False`` leaves a fit that did not
        converge to the caller (``converged`` is False) instead of warning: no global warning
        filter is touched, so fits in several threads never hide each other's warnings.
        ``basis`` (``FeatureBasis.of(x)``) saves recomputing it for each C of a grid."""
        self.classes_, yi = np.unique(y, return_inverse=True)
        xt = torch.as_tensor(np.asarray(x), dtype=torch.float64)
        yt = torch.as_tensor(yi, dtype=torch.long)
        n, d = xt.shape
        k = len(self.classes_)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small matmuls: one thread is as fast, and robust to a busy CPU
        try:
            if basis is None or not basis.fits(xt):
                basis = FeatureBasis.of(xt)
            lam = 1.0 / (self.c * n)
            scale = (basis.values + lam * k).sqrt()  # the Hessian's scale per eigendirection
            xw = basis.rotate(xt - basis.mean) / scale
            del xt
            u, b = self._start(warm, k, d, basis, scale)
            grad, steps = self._minimise(xw, yt, u, b, lam, scale)
        finally:
            torch.set_num_threads(threads)
        self.converged = grad <= self.tol
        if warn and not self.converged:
            why = (
                f"at max_iter={self.max_iter}; raise eval.max_iter"
                if steps >= self.max_iter
                else f"after {steps} iterations, its line search unable to lower the objective"
            )
            warnings.warn(
                f"logistic probe (C={self.c}) stopped with gradient {grad:.2g} > tol "
                f"{self.tol:g} {why}",
                ProbeNotConverged,
                stacklevel=2,
            )
        self.weight = basis.unrotate(u.detach() / scale)
        self.bias = b.detach() - self.weight @ basis.mean
        return self

    @staticmethod
    def _start(
        warm: LogisticProbe | None, k: int, d: int, basis: FeatureBasis, scale: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Warm start (or zeros) in the preconditioned coordinates: u = W V s, b' = b + W·mean."""
        if warm is not None and warm.weight is not None and warm.weight.shape == (k, d):
            u = basis.rotate(warm.weight) * scale
            b = warm.bias + warm.weight @ basis.mean
        else:
            u, b = torch.zeros(k, d, dtype=torch.float64), torch.zeros(k, dtype=torch.float64)
        return u.requires_grad_(True), b.requires_grad_(True)

    def _minimise(
        self,
        xw: torch.Tensor,
        yt: torch.Tensor,
        u: torch.Tensor,
        b: torch.Tensor,
        lam: float,
        scale: torch.Tensor,
    ) -> tuple[float, int]:
        """L-BFGS in place on (u, b); returns the final gradient's largest entry and the
        iterations taken."""
        inv_sq = scale.square().reciprocal()  # ‖W‖² = Σ u² / s²
        opt = torch.optim.LBFGS([u, b], lr=1, max_iter=self.max_iter, history_size=20,
                                tolerance_grad=self.tol / 10, tolerance_change=1e-14,
                                line_search_fn="strong_wolfe")  # fmt: skip

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = F.cross_entropy(xw @ u.T + b, yt) + 0.5 * lam * (u.square() * inv_sq).sum()
            loss.backward()
            return loss

        opt.step(closure)
        closure()
        steps = int(opt.state[opt.param_groups[0]["params"][0]].get("n_iter", 0))
        return max(float(u.grad.abs().max()), float(b.grad.abs().max())), steps

    def predict(self, x: np.ndarray) -> np.ndarray:
        xt = torch.as_tensor(np.asarray(x), dtype=torch.float64)
        idx = (xt @ self.weight.T + self.bias).argmax(dim=1).numpy()
        return self.classes_[idx]

    def score(self, x: np.ndarray, y: np.ndarray) -> float:
        return float((self.predict(x) == np.asarray(y)).mean())
