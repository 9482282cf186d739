"""Pictures of screen-recording episodes: frames with the JEPA's masks over them (targets
red, tokens in neither context nor target greyed out) and, for evaluated runs, the gold and
the generated intent of each episode (``examples.png``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from omnijepa.masks.collator import batch_generator


def mask_layers(sampler: object, grid: tuple[int, int, int], row: int, seed: int
                ) -> tuple[np.ndarray, np.ndarray, str]:  # fmt: skip
    """(context, target) booleans on the token grid for one episode, and the mask kind:
    odd rows temporal masks (when the sampler has them), even rows tube masks."""
    temporal = getattr(sampler, "temporal", None)
    use = temporal if temporal is not None and row % 2 else getattr(sampler, "tubes", sampler)
    m = use.sample(1, batch_generator(seed, row))
    n = int(np.prod(grid))
    ctx, tgt = np.zeros(n, bool), np.zeros(n, bool)
    ctx[m.context[0].numpy()] = True
    tgt[m.targets[0].reshape(-1).numpy()] = True
    kind = "temporal mask" if use is temporal else "tube mask"
    return ctx.reshape(grid), tgt.reshape(grid), kind


def _overlay(frame: np.ndarray, ctx: np.ndarray, tgt: np.ndarray, patch: int) -> np.ndarray:
    """RGB frame in [0, 1] with target tokens tinted red and unused tokens dimmed."""
    g = frame.astype(float) / 255.0
    rgb = np.stack([g, g, g], -1)
    up = lambda a: np.kron(a, np.ones((patch, patch))).astype(bool)  # noqa: E731
    t, c = up(tgt), up(ctx)
    rgb[t] = rgb[t] * 0.5 + np.array([0.5, 0.0, 0.0])
    rgb[~t & ~c] *= 0.35
    return rgb


def draw_episodes(clips: np.ndarray, sampler: object, grid: tuple[int, int, int], tubelet: int,
                  patch: int, path: Path, titles: list[str], seed: int = 0,
                  columns: int = 8) -> None:  # fmt: skip
    """One row per clip (N, C, T, H, W): ``columns`` evenly spaced frames with a sampled mask
    and the row's title above it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, t = len(clips), clips.shape[2]
    cols = np.linspace(0, t - 1, min(columns, t)).round().astype(int)
    fig, axes = plt.subplots(n, len(cols), figsize=(1.3 * len(cols), 1.6 * n), squeeze=False)
    for i in range(n):
        ctx, tgt, kind = mask_layers(sampler, grid, i, seed)
        for j, f in enumerate(cols):
            slot = min(f // tubelet, grid[0] - 1)
            ax = axes[i, j]
            ax.imshow(_overlay(clips[i, 0, f], ctx[slot], tgt[slot], patch))
            ax.set_xticks([])
            ax.set_yticks([])
            if i == n - 1:
                ax.set_xlabel(f"frame {f}", fontsize=7)
        axes[i, 0].set_title(f"{titles[i]}  [{kind}]", fontsize=8, loc="left")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=0.06, hspace=0.5, wspace=0.05)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


__all__ = ["draw_episodes", "mask_layers"]
