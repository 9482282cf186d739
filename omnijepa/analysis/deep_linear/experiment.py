"""The linear-JEPA experiment: config, and the runs behind every figure and check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from omnijepa.analysis.deep_linear.critical_times import (
    critical_time_series,
    critical_times,
    crossing_time,
    learning_order,
)
from omnijepa.analysis.deep_linear.generative import static_model_moments
from omnijepa.analysis.deep_linear.networks import train_gd
from omnijepa.analysis.deep_linear.ode import METHODS, fixed_point, solve_modes


@dataclass(frozen=True)
class LinearJepaConfig:
    """Parameters of the analysis; every field is a ``key=value`` override.

    Design (a) is the feature set ``lambdas``/``rhos``; design (b) is the pair
    ``pair_lambdas``/``pair_rhos``. GD step size is min(lr, rel_step / speed) with
    speed the fastest relative parameter change (rel_step=0: constant lr).
    """

    depths: tuple[int, ...] = (1, 2, 3, 4)
    lambdas: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    rhos: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
    pair_lambdas: tuple[float, ...] = (1.0, 0.9)
    pair_rhos: tuple[float, ...] = (0.3, 1.0)
    eps: float = 1e-3
    p: float = 0.5
    lr: float = 50.0
    rel_step: float = 2e-3
    steps: int = 20000
    horizon: float = 2.0
    ode_points: int = 400
    samples: int = 100000
    sample_depths: tuple[int, ...] = (1, 2)
    nondiagonal_depths: tuple[int, ...] = (1, 2)  # rotated-covariance GD runs; () disables

    def __post_init__(self) -> None:
        if not set(self.nondiagonal_depths) <= set(self.depths):
            raise ValueError("nondiagonal_depths must be a subset of depths")
        if not self.depths or any(d < 1 for d in self.depths):
            raise ValueError("depths must be a non-empty list of integers >= 1")
        for name in ("lambdas", "pair_lambdas"):
            if any(v <= 0 for v in getattr(self, name)):
                raise ValueError(f"{name} must all be > 0")
        for name in ("rhos", "pair_rhos"):
            if any(not 0 < v <= 1 for v in getattr(self, name)):
                raise ValueError(f"{name} must all be in (0, 1]")
        if len(self.lambdas) != len(self.rhos) or not self.lambdas:
            raise ValueError("lambdas and rhos must be non-empty and of equal length")
        if len(self.pair_lambdas) != 2 or len(self.pair_rhos) != 2:
            raise ValueError("pair_lambdas and pair_rhos must hold exactly two values")
        if not 0 < self.eps < 1 or not 0 < self.p < 1:
            raise ValueError("eps and p must be in (0, 1)")
        if self.samples < 10:
            raise ValueError("samples must be >= 10")
        if self.lr <= 0 or self.rel_step < 0 or self.steps < 1 or self.horizon <= 1:
            raise ValueError("need lr > 0, rel_step >= 0, steps >= 1, horizon > 1")
        rho_min = min(min(self.rhos), min(self.pair_rhos))
        for d in self.depths:
            if self.eps ** (1 / d) >= (self.p * rho_min**d) ** (1 / d):
                raise ValueError(
                    f"eps={self.eps} too large for L={d}: need eps^(1/L) < p^(1/L) min(rho)"
                )


def _design(cfg: LinearJepaConfig, pair: bool) -> tuple[np.ndarray, np.ndarray]:
    if pair:
        return np.asarray(cfg.pair_lambdas), np.asarray(cfg.pair_rhos)
    return np.asarray(cfg.lambdas), np.asarray(cfg.rhos)


def run_design(cfg: LinearJepaConfig, pair: bool, seeds: int) -> dict[str, Any]:
    """Quadrature, series, ODE trajectories and GD runs for one feature design.

    Returns ``{method: {depth: {...}}}`` with times, trajectories and GD errors.
    """
    lams, rhos = _design(cfg, pair)
    out: dict[str, Any] = {}
    for method in METHODS:
        out[method] = {}
        for depth in cfg.depths:
            t_star = critical_times(method, lams, rhos, depth, cfg.eps, cfg.p)
            series = np.array(
                [critical_time_series(method, a, b, depth, cfg.eps) for a, b in zip(lams, rhos)]
            )
            t_end = cfg.horizon * float(t_star.max())
            t_grid = np.linspace(0.0, t_end, cfg.ode_points)
            w_star = fixed_point(method, rhos, depth)
            ode = solve_modes(method, lams, rhos, depth, cfg.eps, t_grid) / w_star
            gd = train_gd(
                method, np.diag(lams / rhos), np.diag(lams), depth, cfg.eps, t_end,
                cfg.lr, cfg.steps, cfg.rel_step,
            )  # fmt: skip
            gd_ratio = gd.products / w_star
            gd_t = np.array(
                [crossing_time(gd.times, gd_ratio[:, i], cfg.p) for i in range(len(lams))]
            )
            levels = [lv for lv in (0.1, 0.25, 0.5, 0.75, 0.9) if _reachable(cfg, rhos, depth, lv)]
            level_err = [
                np.abs(
                    np.array(
                        [crossing_time(gd.times, gd_ratio[:, i], lv) for i in range(len(lams))]
                    )
                    / critical_times(method, lams, rhos, depth, cfg.eps, lv)
                    - 1.0
                ).max()
                for lv in levels
            ]
            entry: dict[str, Any] = {
                "t_star": t_star,
                "t_series": series,
                "order": learning_order(t_star),
                "t_grid": t_grid,
                "ode": ode,
                "gd_times": gd.times,
                "gd": gd_ratio,
                "gd_steps": gd.steps,
                "gd_t_star": gd_t,
                "gd_t_rel_err": np.abs(gd_t / t_star - 1.0),
                "gd_traj_err": float(np.max(level_err)),
            }
            if not pair and depth in cfg.sample_depths and seeds > 0:
                entry["sample_t_rel_err"] = _sample_errors(cfg, method, depth, t_star, t_end, seeds)
            out[method][depth] = entry
    return out


def _sample_errors(
    cfg: LinearJepaConfig, method: str, depth: int, t_star: np.ndarray, t_end: float, seeds: int
) -> list[np.ndarray]:
    """Per-seed relative t* error of full-batch GD on static-model samples vs the ODE."""
    lams, rhos = _design(cfg, pair=False)
    w_star = fixed_point(method, rhos, depth)  # type: ignore[arg-type]
    errs = []
    for seed in range(seeds):
        sxx, syx = static_model_moments(lams, rhos, cfg.samples, seed)
        gd = train_gd(method, sxx, syx, depth, cfg.eps, t_end, cfg.lr, cfg.steps, cfg.rel_step)  # type: ignore[arg-type]
        ratio = gd.products / w_star
        t_gd = np.array([crossing_time(gd.times, ratio[:, i], cfg.p) for i in range(len(lams))])
        errs.append(np.abs(t_gd / t_star - 1.0))
    return errs


def _reachable(cfg: LinearJepaConfig, rhos: np.ndarray, depth: int, level: float) -> bool:
    """Whether every feature starts below ``level`` of its asymptote (both methods)."""
    return bool(cfg.eps < level * float(np.min(rhos)) ** depth)


def spread(t_star: np.ndarray) -> float:
    """Slowest-to-fastest critical-time ratio of a design."""
    return float(t_star.max() / t_star.min())


def sweep_critical_times(
    method: str, depths: tuple[int, ...], values: np.ndarray, fixed: float, eps: float,
    p: float, over: str,
) -> dict[int, np.ndarray]:  # fmt: skip
    """t* along a grid of rho (lambda fixed) or lambda (rho fixed), for the sweep figure."""
    out = {}
    for depth in depths:
        if over == "rho":
            lams, rhos = np.full_like(values, fixed), values
        else:
            lams, rhos = values, np.full_like(values, fixed)
        out[depth] = critical_times(method, lams, rhos, depth, eps, p)  # type: ignore[arg-type]
    return out
