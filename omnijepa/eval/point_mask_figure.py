"""3-D scatter of point clouds with their context and target patches coloured."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

TARGET_COLOURS = ("tab:red", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:olive")


def draw_point_masks(
    x: torch.Tensor,
    context: torch.Tensor,
    targets: torch.Tensor,
    path: Path,
    title: str,
    show_order: bool = False,
) -> None:
    """``x`` (B, G, k+1, 3) packed patches; context (B, Nc); targets (B, M, Nt).

    Context patches are blue, each target block has its own colour (overlaps take the later
    target's), unused patches are light grey; with ``show_order`` the patch centres are joined
    in token order (the sequencer's path).
    """
    b = x.shape[0]
    fig = plt.figure(figsize=(3.6 * b, 3.8))
    for i in range(b):
        ax = fig.add_subplot(1, b, i + 1, projection="3d")
        centres = x[i, :, 0].numpy()
        points = (x[i, :, 1:] + x[i, :, :1]).numpy()  # neighbours back in cloud coordinates
        colour = np.array(["lightgrey"] * x.shape[1], dtype=object)
        colour[context[i].numpy()] = "tab:blue"
        for m in range(targets.shape[1]):
            colour[targets[i, m].numpy()] = TARGET_COLOURS[m % len(TARGET_COLOURS)]
        for g in range(x.shape[1]):
            p = points[g]
            ax.scatter(p[:, 0], p[:, 2], p[:, 1], s=3, c=colour[g], depthshade=False)
        if show_order:
            ax.plot(centres[:, 0], centres[:, 2], centres[:, 1], color="black", lw=0.7)
        ax.set_axis_off()
        ax.set_title(f"sample {i}", fontsize=8)
    fig.suptitle(f"{title}\nblue: context, colours: target blocks, grey: unused", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
