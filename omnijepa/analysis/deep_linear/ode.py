"""Per-mode gradient-flow dynamics of deep linear JEPA and MAE (diagonal covariances).

One mode has variance sigma^2 = lambda / rho and cross-covariance lambda. With a balanced
init every encoder layer and the predictor share the value u, and the encoder product is
w = u^L. The ODEs are written in both variables; time is unit-lr gradient-flow time.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.integrate import solve_ivp

Method = Literal["jepa", "mae"]
METHODS: tuple[Method, ...] = ("jepa", "mae")


def fixed_point(method: Method, rho: float | np.ndarray, depth: int) -> np.ndarray:
    """Asymptote of the encoder product: JEPA rho^L, MAE rho^(L/(L+1))."""
    rho = np.asarray(rho, dtype=np.float64)
    if method == "jepa":
        return rho**depth
    return rho ** (depth / (depth + 1))


def u_rate(method: Method, u: np.ndarray, lam: np.ndarray, rho: np.ndarray, depth: int):
    """du/dt per layer: JEPA lambda u^2L (1 - u/rho), MAE lambda u^L (1 - u^(L+1)/rho)."""
    if method == "jepa":
        return lam * u ** (2 * depth) * (1.0 - u / rho)
    return lam * u**depth * (1.0 - u ** (depth + 1) / rho)


def w_rate(method: Method, w: np.ndarray, lam: np.ndarray, rho: np.ndarray, depth: int):
    """dw/dt of the encoder product: L(lambda w^(3-1/L) - sigma^2 w^3) for JEPA, w^(2-1/L) MAE."""
    sigma2 = lam / rho
    drive = 3.0 - 1.0 / depth if method == "jepa" else 2.0 - 1.0 / depth
    return depth * (lam * w**drive - sigma2 * w**3)


def mode_layer_grads(
    method: Method, layers: np.ndarray, v: float, lam: float, rho: float
) -> tuple[np.ndarray, float]:
    """Hand-written loss gradients of one mode w.r.t. each encoder layer and the predictor.

    Loss per mode: JEPA 1/2 E(v w x - sg(w) y)^2, MAE 1/2 E(v w x - y)^2 with w = prod(layers).
    Used by the tests to check the ODEs against torch autograd of the matrix loss.
    """
    layers = np.asarray(layers, dtype=np.float64)
    sigma2 = lam / rho
    w = float(np.prod(layers))
    if method == "jepa":
        residual = v * w * sigma2 - w * lam  # d loss / d(v w) per unit of (v w) x
        grad_w, grad_v = v * residual, w * residual
    else:
        residual = v * w * sigma2 - lam
        grad_w, grad_v = v * residual, w * residual
    others = np.array([np.prod(np.delete(layers, a)) for a in range(layers.size)])
    return others * grad_w, grad_v


def solve_modes(
    method: Method,
    lam: np.ndarray,
    rho: np.ndarray,
    depth: int,
    eps: float,
    t_eval: np.ndarray,
) -> np.ndarray:
    """Encoder products w_i(t) for all modes at ``t_eval`` (solve_ivp on the u-form ODE)."""
    lam = np.asarray(lam, dtype=np.float64)
    rho = np.asarray(rho, dtype=np.float64)
    u0 = np.full(lam.shape, eps ** (1.0 / depth))

    def rhs(_t: float, u: np.ndarray) -> np.ndarray:
        return u_rate(method, u, lam, rho, depth)

    sol = solve_ivp(
        rhs, (0.0, float(t_eval[-1])), u0, method="LSODA", t_eval=t_eval, rtol=1e-9, atol=1e-12
    )
    if not sol.success:
        raise RuntimeError(f"ODE solve failed: {sol.message}")
    return sol.y.T**depth  # (time, mode)
