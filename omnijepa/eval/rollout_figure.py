"""Picture of rollouts, one column per policy arm: on top each episode's path (Reacher's
fingertip, the pendulum's tip) from start (dot) to end (star: within the success radius of its
target, cross: not) and its target; below, each episode's distance to its target over time
against the success radius (where paths overlap, as on the pendulum's circle, this row shows
when an episode got there and whether it stayed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def draw_rollouts(arms: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], radius: float,
                  path: Path, title: str, extent: float = 0.23) -> None:  # fmt: skip
    """``arms``: name -> (paths (E, T, 2), targets (E, 2), final distances (E,)); axes span
    +-``extent`` (Reacher's reach 0.21 m by default; a unit pendulum's tip: 1.15)."""
    fig, axes = plt.subplots(2, len(arms), figsize=(3.6 * len(arms), 6.0), squeeze=False,
                             gridspec_kw={"height_ratios": [3.8, 2.2]})  # fmt: skip
    colours = plt.cm.tab10(np.arange(10))
    top = max(float(np.linalg.norm(p - g[None], axis=1).max()) for paths, targets, _ in
              arms.values() for p, g in zip(paths, targets))  # fmt: skip
    for ax, (paths, targets, _) in zip(axes[1], arms.values()):
        for i, (p, g) in enumerate(zip(paths, targets)):
            ax.plot(np.linalg.norm(p - g[None], axis=1), "-", color=colours[i % 10], lw=1)
        ax.axhline(radius, color="k", ls="--", lw=0.8)
        ax.set_ylim(0, 1.05 * top)
        ax.set_xlabel("step", fontsize=7)
        ax.set_ylabel("distance to target", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax, (name, (paths, targets, final)) in zip(axes[0], arms.items()):
        for i, (p, g) in enumerate(zip(paths, targets)):
            c = colours[i % 10]
            ax.plot(p[:, 0], p[:, 1], "-", color=c, lw=1.2)
            ax.plot(*p[0], "o", color=c, ms=3)
            ax.plot(*p[-1], "*" if final[i] < radius else "x", color=c, ms=6)  # where it ended
            ax.add_patch(plt.Circle(tuple(g), radius, color=c, fill=final[i] < radius,
                                    alpha=0.6))  # fmt: skip
        ax.set_aspect("equal")
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        hits = int(np.sum(final < radius))
        ax.set_title(f"{name}: {hits}/{len(final)} reached", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["draw_context_and_targets", "draw_rollouts"]


def draw_context_and_targets(series: list[np.ndarray], times: list[int], history: int,
                             chunk: int, path: Path, title: str, ylabel: str) -> None:  # fmt: skip
    """One row per episode: a scalar ``series`` over time, the ``history`` steps the encoder
    sees up to ``times[i]`` shaded blue and the ``chunk`` future steps it predicts red."""
    fig, axes = plt.subplots(len(series), 1, figsize=(6.4, 1.6 * len(series)), squeeze=False)
    for ax, y, t in zip(axes[:, 0], series, times):
        ax.plot(np.arange(len(y)), y, "k-", lw=1)
        ax.axvspan(t - history + 0.5, t + 0.5, color="#377eb8", alpha=0.3, label="context")
        ax.axvspan(t + 0.5, min(t + chunk, len(y) - 1) + 0.5, color="#e41a1c", alpha=0.3,
                   label="targets (actions, latent states)")  # fmt: skip
        ax.set_ylabel(ylabel, fontsize=7)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("step")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
