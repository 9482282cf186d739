"""Critical times (w reaches a fraction p of its asymptote): quadrature and the series.

The quadrature is exact for the per-mode ODEs; the Thm 4.5 Laurent series is only
asymptotic in eps -> 0 and is reported beside it, never used for verdicts.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad

from omnijepa.analysis.deep_linear.ode import Method, fixed_point, u_rate


def critical_u(method: Method, rho: float, depth: int, p: float) -> float:
    """Per-layer value u at which w = u^L equals p times its asymptote."""
    return float((p * fixed_point(method, rho, depth)) ** (1.0 / depth))


def critical_time(
    method: Method, lam: float, rho: float, depth: int, eps: float, p: float = 0.5
) -> float:
    """t* = integral of du / (du/dt) from eps^(1/L) to the critical u (in log u for accuracy)."""
    u0 = eps ** (1.0 / depth)
    uc = critical_u(method, rho, depth, p)
    if u0 >= uc:
        raise ValueError(
            f"init eps^(1/L)={u0:.3g} is already past the critical value {uc:.3g} "
            f"({method}, L={depth}, rho={rho}); use a smaller eps"
        )

    def integrand(s: float) -> float:
        u = math.exp(s)
        return u / float(u_rate(method, np.float64(u), lam, rho, depth))

    value, _ = quad(integrand, math.log(u0), math.log(uc), limit=200, epsabs=0.0, epsrel=1e-10)
    return value


def critical_time_series(method: Method, lam: float, rho: float, depth: int, eps: float) -> float:
    """Asymptotic (eps -> 0) leading terms; JEPA: (1/lam) sum_n 1/(n rho^(2L-n-1) eps^(n/L))."""
    if method == "jepa":
        return (
            sum(
                1.0 / (n * rho ** (2 * depth - n - 1) * eps ** (n / depth))
                for n in range(1, 2 * depth)
            )
            / lam
        )
    if depth == 1:
        return math.log(1.0 / eps) / lam
    return 1.0 / ((depth - 1) * lam * eps ** ((depth - 1) / depth))


def critical_times(
    method: Method, lams: np.ndarray, rhos: np.ndarray, depth: int, eps: float, p: float = 0.5
) -> np.ndarray:
    """Quadrature t* for every (lambda_i, rho_i) feature."""
    return np.array(
        [critical_time(method, float(a), float(b), depth, eps, p) for a, b in zip(lams, rhos)]
    )


def learning_order(times: np.ndarray) -> list[int]:
    """Feature indices from first-learned to last-learned."""
    return [int(i) for i in np.argsort(times, kind="stable")]


def crossing_time(t: np.ndarray, ratio: np.ndarray, p: float = 0.5) -> float:
    """First time a sampled trajectory w/w* crosses p (linear interpolation); nan if never."""
    above = np.nonzero(ratio >= p)[0]
    if above.size == 0:
        return float("nan")
    k = int(above[0])
    if k == 0:
        return float(t[0])
    r0, r1 = ratio[k - 1], ratio[k]
    return float(t[k - 1] + (p - r0) / (r1 - r0) * (t[k] - t[k - 1]))
