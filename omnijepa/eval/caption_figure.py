"""Picture of captioned test images with their gold label and what probes predicted, so a
reader sees the task (which side carries what) and where each feature set goes wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def draw_captioned(images: np.ndarray, captions: list[str], notes: list[str], path: Path,
                   title: str, cols: int = 4) -> None:  # fmt: skip
    """uint8 images (N, C, H, W) in a grid, each above its caption and a note line."""
    n = len(images)
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 3.3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(n):
        ax = axes.ravel()[i]
        img = images[i].transpose(1, 2, 0)
        ax.imshow(img[..., 0] if img.shape[2] == 1 else img, cmap="gray", vmin=0, vmax=255)
        text = "\n".join(textwrap.wrap(f'"{captions[i]}"', 30)[:2])
        ax.set_title(f"{text}\n{notes[i]}", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["draw_captioned"]
