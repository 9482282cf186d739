"""Static linear generative model x = z + xi, y = z + xi' with the requested lambda and rho.

z ~ N(0, diag s), xi, xi' ~ N(0, diag tau) give lambda = s and rho = s / (s + tau), so
s = lambda and tau = lambda / rho - lambda: a noisy feature has high lambda but low rho.
"""

from __future__ import annotations

import numpy as np


def static_model_moments(
    lams: np.ndarray, rhos: np.ndarray, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Empirical Sigma^xx and Sigma^yx of n samples (full-batch training data)."""
    rng = np.random.default_rng(seed)
    s = np.asarray(lams, dtype=np.float64)
    tau = s / np.asarray(rhos, dtype=np.float64) - s
    z = rng.standard_normal((n, s.size)) * np.sqrt(s)
    x = z + rng.standard_normal((n, s.size)) * np.sqrt(tau)
    y = z + rng.standard_normal((n, s.size)) * np.sqrt(tau)
    return x.T @ x / n, y.T @ x / n
