"""Masks on a (region x time) token grid, one panel per sample: black context, red targets,
light grey unused. Regions are rows in the order the data gives them."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def draw_region_time_masks(
    context: list[torch.Tensor],
    targets: list[torch.Tensor],
    grid: tuple[int, int],
    path: Path,
    title: str,
) -> None:
    """``context[i]`` / ``targets[i]``: flat token indices of sample i on ``grid``."""
    n = len(context)
    regions, patches = grid
    fig, axes = plt.subplots(1, n, figsize=(1.2 + 1.1 * n, 4.2), squeeze=False)
    for i, ax in enumerate(axes[0]):
        cells = np.full((regions * patches, 3), 0.88)
        cells[context[i].numpy()] = 0.08
        cells[targets[i].reshape(-1).numpy()] = (0.85, 0.15, 0.1)
        ax.imshow(cells.reshape(regions, patches, 3), aspect="auto", interpolation="nearest")
        ax.set_xticks(range(patches))
        ax.set_yticks([])
        ax.set_xlabel("time patch", fontsize=7)
        ax.tick_params(labelsize=6)
    axes[0, 0].set_ylabel("region", fontsize=8)
    fig.suptitle(f"{title}\ncontext black, targets red, grey unused", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["draw_region_time_masks"]
