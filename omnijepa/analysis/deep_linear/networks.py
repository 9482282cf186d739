"""Actual deep linear networks (encoder of depth L, linear predictor) trained by GD in torch.

The losses are written with second moments, so one code path serves the population
(given Sigma^xx, Sigma^yx) and full-batch training on samples (empirical moments):
  JEPA  1/2 E||V W x - sg(W) y||^2,   MAE  1/2 E||V W x - y||^2,   W = W_L ... W_1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from omnijepa.analysis.deep_linear.ode import Method


def moment_loss(
    method: Method,
    layers: list[torch.Tensor],
    predictor: torch.Tensor,
    sxx: torch.Tensor,
    syx: torch.Tensor,
    syy: torch.Tensor | None = None,
) -> torch.Tensor:
    """Expected loss from moments; the JEPA target encoder is a stop-gradient copy."""
    enc = layers[0]
    for layer in layers[1:]:
        enc = layer @ enc
    pred = predictor @ enc
    target = enc.detach() if method == "jepa" else torch.eye(enc.shape[0], dtype=enc.dtype)
    quad_term = 0.5 * torch.trace(pred @ sxx @ pred.T)
    cross = torch.trace(pred @ syx.T @ target.T)
    const = 0.0 if syy is None else 0.5 * torch.trace(target @ syy @ target.T)
    return quad_term - cross + const


def balanced_init(dim: int, depth: int, eps: float) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Identity-balanced small init: every layer and the predictor are eps^(1/L) I."""
    scale = eps ** (1.0 / depth)
    eye = torch.eye(dim, dtype=torch.float64)
    layers = [(scale * eye).requires_grad_() for _ in range(depth)]
    return layers, (scale * eye).requires_grad_()


@dataclass
class GDRun:
    """Times (sum of step sizes) and the encoder product's diagonal after each recorded step."""

    times: np.ndarray
    products: np.ndarray  # (time, feature)
    steps: int


def _relative_speed(params: list[torch.Tensor]) -> float:
    """Largest column-wise ||grad|| / ||param|| over all layers (1/timescale of the fastest)."""
    speed = 0.0
    for p in params:
        g = p.grad.norm(dim=0) / p.detach().norm(dim=0).clamp_min(1e-30)
        speed = max(speed, float(g.max()))
    return speed


def train_gd(
    method: Method,
    sxx: np.ndarray,
    syx: np.ndarray,
    depth: int,
    eps: float,
    t_max: float,
    lr: float,
    max_steps: int,
    rel_step: float = 0.0,
    init: tuple[list[torch.Tensor], torch.Tensor] | None = None,
    directions: np.ndarray | None = None,
) -> GDRun:
    """Gradient descent on every layer until time t_max (= sum of step sizes) or max_steps.

    rel_step = 0: plain GD with constant lr. rel_step > 0: step size
    min(lr, rel_step / speed), i.e. no layer column moves by more than rel_step of its norm
    per step -- still the small-step regime, but the long eps-plateau costs few steps.
    ``init`` replaces the identity-balanced init; with ``directions`` (columns q_i) the
    recorded per-feature value is ||W q_i|| instead of the diagonal W_ii.
    """
    sxx_t = torch.as_tensor(sxx, dtype=torch.float64)
    syx_t = torch.as_tensor(syx, dtype=torch.float64)
    layers, predictor = balanced_init(sxx.shape[0], depth, eps) if init is None else init
    params = [*layers, predictor]
    q = None if directions is None else torch.as_tensor(directions, dtype=torch.float64)

    def record(enc: torch.Tensor) -> np.ndarray:
        vals = torch.diagonal(enc) if q is None else (enc @ q).norm(dim=0)
        return vals.detach().numpy().copy()

    with torch.no_grad():
        enc0 = layers[0]
        for layer in layers[1:]:
            enc0 = layer @ enc0
    times, prods = [0.0], [record(enc0)]
    t, step = 0.0, 0
    while t < t_max and step < max_steps:
        for p in params:
            p.grad = None
        moment_loss(method, layers, predictor, sxx_t, syx_t).backward()
        eta = lr if rel_step <= 0 else min(lr, rel_step / max(_relative_speed(params), 1e-30))
        eta = min(eta, t_max - t) if t_max - t > 0 else eta
        with torch.no_grad():
            for p in params:
                p -= eta * p.grad
            enc = layers[0]
            for layer in layers[1:]:
                enc = layer @ enc
        t += eta
        step += 1
        times.append(t)
        prods.append(record(enc))
    return GDRun(np.asarray(times), np.asarray(prods), step)
