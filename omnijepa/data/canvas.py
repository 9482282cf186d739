"""Place small grayscale items at random scales/positions on a black canvas ("canvas" sources).

On a fixed-position dataset such as Fashion-MNIST, a linear probe on raw pixels is already a
strong baseline, so it says little about learned features. Random scale and translation (and
optional clutter) break that pixel-to-label alignment while the label stays semantic.

Everything is vectorised per size bucket (one batched resize and one fancy-index paste per
distinct side), so ~12k 40x40 canvases take a fraction of a second.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

CLUTTER_CROP_FRACTION = 0.35  # distractor = a crop of this fraction of another item's side...
CLUTTER_SIDE_FRACTION = 0.2  # ...resized to this fraction of the canvas side


def resize_batch(items: np.ndarray, side: int) -> np.ndarray:
    """Resize uint8 images (N, H, W) to (N, side, side): antialiased bilinear, rounded."""
    if items.shape[1] == side and items.shape[2] == side:
        return items.copy()
    x = torch.from_numpy(np.require(items, requirements=["C", "W"])).unsqueeze(1).float()
    y = F.interpolate(x, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    return y.squeeze(1).round_().clamp_(0, 255).to(torch.uint8).numpy()


def _paste_max(
    canvas: np.ndarray, idx: np.ndarray, ys: np.ndarray, xs: np.ndarray, patches: np.ndarray
) -> None:
    """Max-blend same-sized patches (n, s, s) into canvas[idx] at top-left corners (ys, xs)."""
    ar = np.arange(patches.shape[1])
    rows = (ys[:, None] + ar[None, :])[:, :, None]
    cols = (xs[:, None] + ar[None, :])[:, None, :]
    sel = (idx[:, None, None], rows, cols)
    canvas[sel] = np.maximum(canvas[sel], patches)


def _random_corners(rng: np.random.Generator, n: int, size: int, side: np.ndarray | int):
    """Uniform top-left corners so that a square of ``side`` fits inside ``size``."""
    span = size - np.asarray(side) + 1
    ys = np.floor(rng.random(n) * span).astype(np.int64)
    xs = np.floor(rng.random(n) * span).astype(np.int64)
    return ys, xs


def render_canvas(
    items: np.ndarray,
    size: int,
    scale: tuple[float, float],
    clutter: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Render each uint8 item (N, h, w) onto its own black ``size`` x ``size`` canvas.

    Each item is resized to a side drawn uniformly from ``scale`` x ``size`` and pasted (max
    blend) at a uniform random position. ``clutter`` distractors per canvas are crops of *other*
    items (``CLUTTER_CROP_FRACTION`` of their side) resized to ``CLUTTER_SIDE_FRACTION`` x size.
    Deterministic given ``rng``'s state. Returns uint8 (N, size, size).
    """
    lo, hi = scale
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"canvas_scale must satisfy 0 < lo <= hi <= 1, got {scale}")
    n, h, w = items.shape
    canvas = np.zeros((n, size, size), dtype=np.uint8)
    if n == 0:
        return canvas
    sides = np.clip(np.rint(rng.uniform(lo, hi, n) * size), 2, size).astype(np.int64)
    ys, xs = _random_corners(rng, n, size, sides)
    for side in np.unique(sides):
        idx = np.flatnonzero(sides == side)
        _paste_max(canvas, idx, ys[idx], xs[idx], resize_batch(items[idx], int(side)))
    if clutter > 0 and n > 1:
        crop = max(2, round(min(h, w) * CLUTTER_CROP_FRACTION))
        patch = max(2, round(size * CLUTTER_SIDE_FRACTION))
        ar = np.arange(crop)
        everyone = np.arange(n)
        for _ in range(clutter):
            src = (everyone + rng.integers(1, n, n)) % n  # never the canvas's own item
            cy = rng.integers(0, h - crop + 1, n)
            cx = rng.integers(0, w - crop + 1, n)
            crops = items[
                src[:, None, None], (cy[:, None] + ar)[:, :, None], (cx[:, None] + ar)[:, None, :]
            ]
            py, px = _random_corners(rng, n, size, patch)
            _paste_max(canvas, everyone, py, px, resize_batch(crops, patch))
    return canvas


def texture(rng: np.random.Generator, n: int, size: int, cells: int = 8) -> np.ndarray:
    """Smooth random patterns (n, size, size) in [0, 110]: bicubic upsampling of a
    ``cells`` x ``cells`` random grid (a ground that items move over or sit on)."""
    coarse = torch.from_numpy(rng.random((n, 1, cells, cells)).astype(np.float32))
    up = F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)
    return (up[:, 0].clamp(0, 1).numpy() * 110).astype(np.uint8)
