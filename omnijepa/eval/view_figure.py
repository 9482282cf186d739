"""Picture of the multi-crop views a view-based objective trains on."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402


def _show(ax: plt.Axes, img: torch.Tensor, title: str | None) -> None:
    pic = img.float()
    pic = (pic - pic.min()) / (pic.max() - pic.min() + 1e-6)
    ax.imshow(pic.permute(1, 2, 0).squeeze(-1).numpy(), cmap="gray", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def draw_views(x: torch.Tensor, views: list[torch.Tensor], num_global: int, path: Path) -> None:
    """One row per image: the image, then its global and local views."""
    n = x.shape[0]
    fig, axes = plt.subplots(
        n, 1 + len(views), figsize=(1.6 * (1 + len(views)), 1.7 * n), squeeze=False
    )
    for i in range(n):
        _show(axes[i][0], x[i], "input" if i == 0 else None)
        for j, v in enumerate(views):
            kind = "global" if j < num_global else "local"
            _show(axes[i][j + 1], v[i], f"{kind} {tuple(v.shape[-2:])}" if i == 0 else None)
    fig.suptitle("LeJEPA multi-crop views")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
