"""Spatial masks on a head outline: electrodes seen from above, hidden ones coloured."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def draw_electrode_masks(
    positions: np.ndarray,
    names: list[str],
    hidden: list[set[int]],
    path: Path,
    title: str = "spatial masks",
) -> None:
    """One head per sample: electrodes at (x, y) of ``positions`` (C, 3), the channels in
    ``hidden[i]`` (the targets) in red, the rest (the context) in grey."""
    n = len(hidden)
    fig, axes = plt.subplots(1, n, figsize=(2.6 * n, 2.9), squeeze=False)
    xy = positions[:, :2]
    radius = 1.1 * np.abs(xy).max()
    for ax, chans in zip(axes[0], hidden):
        ax.add_patch(plt.Circle((0, 0), radius, fill=False, color="black", linewidth=1))
        ax.plot([-0.12 * radius, 0, 0.12 * radius], [0.98 * radius, 1.12 * radius, 0.98 * radius],
                color="black", linewidth=1)  # fmt: skip
        colours = ["tab:red" if c in chans else "0.7" for c in range(len(xy))]
        ax.scatter(xy[:, 0], xy[:, 1], c=colours, s=60, edgecolors="black", linewidths=0.5)
        for (x, y), name in zip(xy, names):
            ax.annotate(name, (x, y), fontsize=5, ha="center", va="center")
        ax.set_xlim(-1.25 * radius, 1.25 * radius)
        ax.set_ylim(-1.2 * radius, 1.3 * radius)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(f"{len(chans)} hidden", fontsize=8)
    fig.suptitle(f"{title} (red: target channels, all windows; grey: context)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
