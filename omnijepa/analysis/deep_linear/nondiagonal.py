"""Non-diagonal covariances: does the JEPA/MAE learning order survive random rotations?

The paper's Assumption 4.1 makes Sigma^xx and Sigma^yx simultaneously diagonal. Here
(same convention as the diagonal runs: variance lambda/rho, cross-covariance lambda)

* ``shared``: Sigma^xx = Q diag(lambda/rho) Q^T, Sigma^yx = Q diag(lambda) Q^T with one
  random orthogonal Q -- still simultaneously diagonalisable, but in a rotated basis;
* ``independent``: Sigma^yx = Q' diag(lambda) Q'^T with a second, independent Q' -- not
  simultaneously diagonalisable unless lambda is constant (then Sigma^yx = lambda I and the
  variant equals ``shared``, which is why it is run on the unequal-lambda pair only).

The networks start from a balanced small random orthogonal init: layer a is
eps^(1/L) U_a U_{a-1}^T (U_0 = I, U_a random orthogonal), so the encoder product is
eps U_L -- a random rotation of the output, not the identity -- and the predictor is the
matching eps^(1/L) I (JEPA) or eps^(1/L) U_L^T (MAE). Feature i is measured as
||W(t) q_i|| with q_i the i-th eigenvector of Sigma^xx (column i of Q); this is invariant
to the output rotation (for which q_i^T W q_i would be wrong), and is reported relative
to its final value. Critical time = first crossing of p of that final value.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from omnijepa.analysis.deep_linear.critical_times import crossing_time, learning_order
from omnijepa.analysis.deep_linear.networks import train_gd
from omnijepa.analysis.deep_linear.ode import METHODS, Method

VARIANTS = ("shared", "independent")


def random_orthogonal(dim: int, rng: np.random.Generator) -> np.ndarray:
    """Haar-random orthogonal matrix (QR of a Gaussian with the sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def rotated_moments(
    lams: np.ndarray, rhos: np.ndarray, q: np.ndarray, q_yx: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sigma^xx = Q diag(lambda/rho) Q^T and Sigma^yx = Q' diag(lambda) Q'^T (Q' = Q default)."""
    q_yx = q if q_yx is None else q_yx
    sxx = q @ np.diag(np.asarray(lams) / np.asarray(rhos)) @ q.T
    syx = q_yx @ np.diag(np.asarray(lams)) @ q_yx.T
    return sxx, syx


def random_balanced_init(
    method: Method, dim: int, depth: int, eps: float, rng: np.random.Generator
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Balanced orthogonal init with a random output rotation (see the module docstring)."""
    scale = eps ** (1.0 / depth)
    us = [np.eye(dim)] + [random_orthogonal(dim, rng) for _ in range(depth)]
    layers = [torch.tensor(scale * us[a + 1] @ us[a].T).requires_grad_() for a in range(depth)]
    pred = np.eye(dim) if method == "jepa" else us[-1].T
    return layers, torch.tensor(scale * pred).requires_grad_()


def run_rotated(
    method: Method,
    lams: np.ndarray,
    rhos: np.ndarray,
    depth: int,
    eps: float,
    t_end: float,
    lr: float,
    steps: int,
    rel_step: float,
    p: float,
    seed: int,
    variant: str = "shared",
) -> dict[str, Any]:
    """GD on one randomly rotated problem; per-feature ||W q_i|| trajectories and t*."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    rng = np.random.default_rng(seed)
    dim = len(lams)
    q = random_orthogonal(dim, rng)
    q_yx = random_orthogonal(dim, rng) if variant == "independent" else None
    sxx, syx = rotated_moments(lams, rhos, q, q_yx)
    init = random_balanced_init(method, dim, depth, eps, rng)
    gd = train_gd(method, sxx, syx, depth, eps, t_end, lr, steps, rel_step, init, q)
    ratio = gd.products / gd.products[-1]
    t_star = np.array([crossing_time(gd.times, ratio[:, i], p) for i in range(dim)])
    return {
        "times": gd.times,
        "ratio": ratio,
        "t_star": t_star,
        "final": gd.products[-1],
        "order": learning_order(t_star),
        "steps": gd.steps,
    }


def run_nondiagonal(
    cfg: Any,
    designs: dict[str, tuple[np.ndarray, np.ndarray, dict[str, Any], str]],
    seeds: int,
    depths: tuple[int, ...],
) -> dict[str, Any]:
    """Every (design, method, depth, seed): rotated-GD t* vs the diagonal quadrature t*.

    ``designs`` maps a name to (lambdas, rhos, diagonal run_design output, variant).
    Returns ``{name: {method: {depth: {"t_star": (seed, feature), "orders", ...}}}}``.
    """
    out: dict[str, Any] = {}
    for name, (lams, rhos, diag, variant) in designs.items():
        out[name] = {"variant": variant, "lambdas": lams, "rhos": rhos}
        for method in METHODS:
            out[name][method] = {}
            for depth in depths:
                t_diag = np.asarray(diag[method][depth]["t_star"])
                t_end = cfg.horizon * float(t_diag.max())
                runs = [
                    run_rotated(
                        method,
                        lams,
                        rhos,
                        depth,
                        cfg.eps,
                        t_end,
                        cfg.lr,
                        cfg.steps,
                        cfg.rel_step,
                        cfg.p,
                        seed,
                        variant,
                    )
                    for seed in range(seeds)
                ]
                t_star = np.array([r["t_star"] for r in runs])
                out[name][method][depth] = {
                    "t_star": t_star,
                    "t_diag": t_diag,
                    "orders": [r["order"] for r in runs],
                    "diag_order": learning_order(t_diag),
                    "example": runs[0],
                    "rel_dev_from_diag": np.abs(t_star / t_diag - 1.0).max(axis=1),
                }
    return out
