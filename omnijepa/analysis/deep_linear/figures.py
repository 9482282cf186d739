"""PNG figures of the linear-JEPA analysis: trajectories, critical-time sweeps, ODE vs GD."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _labels(lams: np.ndarray, rhos: np.ndarray) -> list[str]:
    return [f"λ={a:g}, ρ={b:g}" for a, b in zip(lams, rhos)]


Panel = tuple[Any, str, Any, dict, bool]  # (axes, method, depth, run, first column)


def _method_depth_grid(runs: dict[str, Any]) -> tuple[Any, list[Panel]]:
    """A 2 x depths figure and one panel per (JEPA/MAE, depth); the first one holds the legend."""
    depths = list(runs["jepa"])
    fig, axes = plt.subplots(2, len(depths), figsize=(3.2 * len(depths), 6), squeeze=False)
    panels = [
        (axes[row][col], method, depth, runs[method][depth], col == 0)
        for row, method in enumerate(("jepa", "mae"))
        for col, depth in enumerate(depths)
    ]
    return fig, panels


def plot_trajectories(
    runs: dict[str, Any], lams: np.ndarray, rhos: np.ndarray, title: str, path: Path
) -> None:
    """Grid JEPA/MAE x depth of ODE trajectories w_i(t)/w_i* (time in units of min t*)."""
    fig, panels = _method_depth_grid(runs)
    labels = _labels(lams, rhos)
    for ax, method, depth, r, first_col in panels:
        t0 = float(np.min(r["t_star"]))
        for i, lab in enumerate(labels):
            ax.plot(r["t_grid"] / t0, r["ode"][:, i], label=lab)
        ax.axhline(0.5, color="grey", lw=0.6, ls=":")
        ax.set_title(f"{method.upper()}  L={depth}")
        ax.set_xlim(0.0, max(1.5, 1.15 * float(np.max(r["t_star"])) / t0))
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlabel("t / min critical time")
        if first_col:
            ax.set_ylabel("w̄ᵢ(t) / w̄ᵢ*")
    panels[0][0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_sweeps(
    rho_grid: np.ndarray,
    by_rho: dict[str, dict[int, np.ndarray]],
    lam_grid: np.ndarray,
    by_lam: dict[str, dict[int, np.ndarray]],
    path: Path,
) -> None:
    """t* vs rho at fixed lambda and t* vs lambda at fixed rho, normalised at the grid's end."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for method, ls in (("jepa", "-"), ("mae", "--")):
        for depth, t in by_rho[method].items():
            axes[0].plot(rho_grid, t / t[-1], ls, label=f"{method.upper()} L={depth}")
        for depth, t in by_lam[method].items():
            axes[1].plot(lam_grid, t / t[-1], ls, label=f"{method.upper()} L={depth}")
    axes[0].set_xlabel("ρ (regression coefficient), λ fixed")
    axes[0].set_ylabel("t*(ρ) / t*(ρ max)")
    axes[0].set_title("Critical time vs influence ρ")
    axes[1].set_xlabel("λ (covariance), ρ fixed")
    axes[1].set_ylabel("t*(λ) / t*(λ max)")
    axes[1].set_title("Critical time vs covariance λ (t* ∝ 1/λ: curves coincide)")
    for ax in axes:
        ax.legend(fontsize=7, ncol=2)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_ode_vs_gd(runs: dict[str, Any], lams: np.ndarray, rhos: np.ndarray, path: Path) -> None:
    """ODE solutions (lines) overlaid on torch GD runs (dots), per method and depth."""
    fig, panels = _method_depth_grid(runs)
    labels = _labels(lams, rhos)
    for ax, method, depth, r, first_col in panels:
        every = max(1, len(r["gd_times"]) // 60)
        for i, lab in enumerate(labels):
            (line,) = ax.plot(r["t_grid"], r["ode"][:, i], label=f"ODE {lab}")
            ax.plot(r["gd_times"][::every], r["gd"][::every, i], ".", color=line.get_color(), ms=3)
        err = 100 * float(np.max(r["gd_t_rel_err"]))
        ax.set_title(f"{method.upper()} L={depth} (t* err {err:.2f}%)", fontsize=9)
        ax.set_xlabel("time (unit-lr gradient flow)")
        if first_col:
            ax.set_ylabel("w̄ᵢ / w̄ᵢ*  (lines ODE, dots GD)")
    panels[0][0].legend(fontsize=6, loc="upper left")
    fig.suptitle("Per-mode ODE vs gradient descent on deep linear networks")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_nondiagonal(nd: dict, path: Path) -> None:
    """Rotated-covariance GD critical time / diagonal-theory critical time, per feature."""
    names = list(nd)
    fig, axes = plt.subplots(len(names), 2, figsize=(9, 3.2 * len(names)), squeeze=False)
    for row, name in enumerate(names):
        for col, method in enumerate(("jepa", "mae")):
            ax = axes[row][col]
            for k, (depth, v) in enumerate(sorted(nd[name][method].items())):
                ratio = v["t_star"] / v["t_diag"]  # (seeds, features)
                for i in range(ratio.shape[1]):
                    ax.scatter(
                        np.full(ratio.shape[0], i + 0.15 * k),
                        ratio[:, i],
                        color=f"C{k}",
                        s=18,
                        label=f"L={depth}" if i == 0 else None,
                    )
            ax.axhline(1.0, color="gray", lw=0.8, ls="--")
            ax.set_title(f"{method.upper()}: {name.replace('_', ' ')}", fontsize=9)
            ax.set_xlabel("feature (design order)")
            ax.set_ylabel("t* rotated / t* diagonal")
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
    fig.suptitle(
        "Non-diagonal covariances: critical times vs the diagonal theory (one dot per seed)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
