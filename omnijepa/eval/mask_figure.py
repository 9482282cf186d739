"""Picture of sampled masks on images: the context the encoder sees, the targets it predicts."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

TARGET_COLOURS = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628")


def _patch_mask(indices: torch.Tensor, cols: int, rows: int, patch: int) -> np.ndarray:
    grid = np.zeros(rows * cols, dtype=bool)
    grid[indices.numpy()] = True
    return np.kron(grid.reshape(rows, cols), np.ones((patch, patch), dtype=bool))


def draw_image_masks(
    images: torch.Tensor,
    patch: int,
    context: torch.Tensor,
    targets: torch.Tensor,
    path: Path,
    title: str = "masks",
) -> None:
    """Rows of (image | context kept, rest dimmed | targets coloured) for each image."""
    n = images.shape[0]
    h, w = images.shape[-2:]
    rows, cols = h // patch, w // patch
    fig, axes = plt.subplots(n, 3, figsize=(6.6, 2.2 * n), squeeze=False)
    for i in range(n):
        img = images[i].float().numpy().transpose(1, 2, 0)
        img = img / max(img.max(), 1e-6)
        rgb = np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img
        ctx = _patch_mask(context[i], cols, rows, patch)
        shown = rgb.copy()
        shown[~ctx] = 0.15 + 0.2 * shown[~ctx]
        tgt = rgb * 0.35
        for j in range(len(targets[i])):  # a sequence of (M_i, Nt_i) works too
            m = _patch_mask(targets[i][j], cols, rows, patch)
            colour = np.array(matplotlib.colors.to_rgb(TARGET_COLOURS[j % len(TARGET_COLOURS)]))
            tgt[m] = 0.5 * tgt[m] + 0.5 * colour
        for ax, pic, name in zip(axes[i], (rgb, shown, tgt), ("input", "context", "targets")):
            ax.imshow(np.clip(pic, 0, 1), interpolation="nearest")
            ax.set_xticks(np.arange(-0.5, w, patch), minor=True)
            ax.set_yticks(np.arange(-0.5, h, patch), minor=True)
            ax.grid(which="minor", color="white", linewidth=0.3, alpha=0.4)
            ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
            if i == 0:
                ax.set_title(name)
    counts = sorted({len(c) for c in context})
    shapes = " or ".join(sorted({f"{len(t)}x{len(t[0])}" for t in targets}))
    span = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    fig.suptitle(f"{title}\n({span} context, {shapes} target patches)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_feature_masks(
    context: torch.Tensor, targets: torch.Tensor, num_features: int, path: Path, title: str
) -> None:
    """Rows = samples, columns = features: grey hidden, black context, colours per target."""
    n = context.shape[0]
    grid = np.full((n, num_features, 3), 0.85)
    for i in range(n):
        grid[i, context[i].numpy()] = 0.1
        for j in range(targets.shape[1]):
            colour = matplotlib.colors.to_rgb(TARGET_COLOURS[j % len(TARGET_COLOURS)])
            grid[i, targets[i, j].numpy()] = colour
    fig, ax = plt.subplots(figsize=(max(4, 0.25 * num_features + 1), 0.4 * n + 1.2))
    ax.imshow(grid, aspect="auto", interpolation="nearest")
    ax.set_xlabel("feature (column index)")
    ax.set_ylabel("sample")
    ax.set_title(f"{title}\ncontext black, targets coloured, grey unused", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
