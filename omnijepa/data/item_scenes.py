"""Composed scenes with per-pixel labels: 2-3 Fashion-MNIST items over a textured ground.

MC-JEPA's content branch learns from these images (two augmented views each), and its dense
linear probe is scored on held-out scenes (items from Fashion-MNIST's test split): each pixel
is labelled 0 (ground) or 1 + the class of the item covering it. Items are pasted opaquely
(their pixels above ``ITEM_THRESHOLD`` replace what is below), later items on top. The
scene's image-level label is the class of the item that covers the most pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from omnijepa.data.canvas import resize_batch, texture
from omnijepa.data.image_data import derived_rng
from omnijepa.data.image_sources import load_fashion_mnist_arrays
from omnijepa.errors import ConfigError

ITEM_THRESHOLD = 30  # item pixels brighter than this are the item (Fashion-MNIST is 0-255)
CLASS_NAMES = ("T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
               "sneaker", "bag", "ankle boot")  # fmt: skip


@dataclass
class SceneConfig:
    """``scenes.*``: the content images and the dense-probe scenes."""

    items: tuple[int, int] = (2, 3)  # items per scene, inclusive range
    item_side: tuple[int, int] = (24, 36)  # item sides in pixels
    train_scenes: int = 2000
    test_scenes: int = 300
    background: str = "texture"  # texture (smooth random pattern) or black

    def __post_init__(self) -> None:
        if not 1 <= self.items[0] <= self.items[1]:
            raise ConfigError(f"scenes.items must be 1 <= low <= high, got {self.items}")
        if not 4 <= self.item_side[0] <= self.item_side[1]:
            raise ConfigError(f"scenes.item_side must be 4 <= low <= high, got {self.item_side}")
        if self.background not in ("texture", "black"):
            raise ConfigError(f"scenes.background={self.background!r}; use texture or black")
        if self.train_scenes < 1 or self.test_scenes < 1:
            raise ConfigError("scenes.train_scenes and scenes.test_scenes must be >= 1")


@dataclass
class Scenes:
    """float32 images (N, C, H, W) in [0, 1], pixel labels (N, H, W), image labels (N,)."""

    images: torch.Tensor
    pixels: torch.Tensor
    labels: torch.Tensor

    @property
    def num_classes(self) -> int:
        return len(CLASS_NAMES) + 1


def compose_scenes(cfg: SceneConfig, size: int, channels: int, seed: int, split: str) -> Scenes:
    """``train`` or ``test`` scenes of ``size`` px (test items come from the test split)."""
    if cfg.item_side[1] > size:
        raise ConfigError(f"scenes.item_side {cfg.item_side} does not fit in {size} px scenes")
    train_x, train_y, test_x, test_y = load_fashion_mnist_arrays()
    items, classes = (train_x, train_y) if split == "train" else (test_x, test_y)
    n = cfg.train_scenes if split == "train" else cfg.test_scenes
    rng = derived_rng(seed if split == "train" else 0, f"scenes_{split}")
    if cfg.background == "texture":
        image = texture(rng, n, size)
    else:
        image = np.zeros((n, size, size), np.uint8)
    pixels = np.zeros((n, size, size), np.int64)
    count = rng.integers(cfg.items[0], cfg.items[1] + 1, n)
    for k in range(cfg.items[1]):
        for i in np.flatnonzero(count > k):
            j = rng.integers(0, len(items))
            side = int(rng.integers(cfg.item_side[0], cfg.item_side[1] + 1))
            item = resize_batch(items[j : j + 1], side)[0]
            y, x = rng.integers(0, size - side + 1, 2)
            mask = item > ITEM_THRESHOLD
            image[i, y : y + side, x : x + side][mask] = item[mask]
            pixels[i, y : y + side, x : x + side][mask] = classes[j] + 1
    counts = np.stack([(pixels == c + 1).sum(axis=(1, 2)) for c in range(len(CLASS_NAMES))], 1)
    x = torch.from_numpy(image).float().div(255.0).unsqueeze(1)
    if channels == 3:
        x = x.repeat(1, 3, 1, 1)
    return Scenes(x, torch.from_numpy(pixels), torch.from_numpy(counts.argmax(axis=1)))
