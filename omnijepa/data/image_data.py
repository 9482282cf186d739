"""Image data: the config, the loaded splits, and a normalising Dataset.

``data.image_loading.load_image_data(cfg, seed)`` returns uint8 train/test tensors from a
built-in source (``image_sources``) or a user folder (``image_folder``). All randomness
(subsampling, splits, canvas placement) is derived from ``seed``, so a run is reproducible from
its config alone.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from omnijepa.errors import ConfigError


@dataclass
class ImageDataConfig:
    """What images to load and how to shape them; ``path`` (a folder) overrides ``name``."""

    # built-in source: fashion_mnist | canvas_fashion_mnist | digits | canvas_digits
    name: str = "canvas_fashion_mnist"
    path: str | None = None  # user image folder (one sub-folder per class, or flat = unlabeled)
    image_size: int = 40  # side of the square images the model sees
    channels: int = 1  # 1 (grayscale) or 3 (RGB)
    train_size: int = 10000  # max train images, subsampled by seed; 0 = all
    test_size: int = 2000  # max test images; 0 = all
    test_fraction: float = 0.2  # for sources without a fixed test split (folders, digits)
    canvas_scale: tuple[float, float] = (0.5, 1.0)  # canvas item side / image_size range
    canvas_clutter: int = 0  # canvas: small distractor patches (crops of other items) per image
    # folders: decode every image up front ("memory"), per sample when the DataLoader asks
    # ("lazy": resident memory independent of the folder's size), or "auto" (lazy above
    # 20,000 selected images)
    decode: str = "auto"

    def __post_init__(self) -> None:
        check_config(self)  # at parse time, before a model is sized from these keys


@dataclass
class ImageSplit:
    """uint8 images (N, C, H, W) and int64 labels (N,), -1 where unlabeled. ``images`` is a
    tensor, or (big folders) a lazy sequence decoding files on access with the same indexing
    (an int gives (C, H, W), a slice or index array gives a stacked batch). ``files``: the
    file each image was read from, where the images came from a folder."""

    images: torch.Tensor | Any
    labels: torch.Tensor
    files: list[str] | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class ImageData:
    """A train/test pair plus class names (empty if unlabeled) and a readable description."""

    train: ImageSplit
    test: ImageSplit
    classes: list[str]
    source: str


def check_config(cfg: ImageDataConfig) -> None:
    """Reject impossible settings up front, naming the key (ConfigError)."""
    if cfg.channels not in (1, 3):
        raise ConfigError(f"data.channels must be 1 or 3, got {cfg.channels}")
    if cfg.image_size < 4:
        raise ConfigError(f"data.image_size must be >= 4, got {cfg.image_size}")
    if cfg.train_size < 0 or cfg.test_size < 0:
        raise ConfigError("data.train_size and data.test_size must be >= 0 (0 = all)")
    if not 0.0 < cfg.test_fraction < 1.0:
        raise ConfigError(f"data.test_fraction must be in (0, 1), got {cfg.test_fraction}")
    lo, hi = cfg.canvas_scale
    if not 0.0 < lo <= hi <= 1.0:
        raise ConfigError(f"data.canvas_scale must satisfy 0 < lo <= hi <= 1, got {lo, hi}")
    if cfg.decode not in ("auto", "memory", "lazy"):
        raise ConfigError(f"data.decode must be auto, memory or lazy, got {cfg.decode!r}")
    if cfg.canvas_clutter < 0:
        raise ConfigError(f"data.canvas_clutter must be >= 0, got {cfg.canvas_clutter}")


# ---- seeded helpers shared by the sources -------------------------------------------------


def derived_rng(seed: int, purpose: str) -> np.random.Generator:
    """An independent generator per (seed, purpose), e.g. 'train-canvas' vs 'test-canvas'."""
    return np.random.default_rng([seed % 2**63, zlib.crc32(purpose.encode())])


def subsample(n: int, max_n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``range(n)`` of size ``max_n`` (0 = all)."""
    if max_n <= 0 or max_n >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=max_n, replace=False))


def split_indices(
    labels: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train/test index split, stratified by label (labels < 0 count as one group).

    Every class keeps at least one training example; the test split gets at least one item
    overall (needs len(labels) >= 2).
    """
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = min(round(len(idx) * test_fraction), len(idx) - 1)
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    train_idx, test_idx = np.concatenate(train), np.concatenate(test)
    if len(test_idx) == 0 and len(train_idx) >= 2:  # tiny data: move one item of a largest class
        _, inverse, counts = np.unique(labels[train_idx], return_inverse=True, return_counts=True)
        pick = int(np.argmax(counts[inverse]))
        test_idx, train_idx = train_idx[[pick]], np.delete(train_idx, pick)
    return np.sort(train_idx), np.sort(test_idx)


# ---- Dataset --------------------------------------------------------------------------------


STATS_SAMPLE = 2048  # lazily decoded splits: channel statistics from this many spread images


def channel_stats(split: ImageSplit, chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of ``split`` in [0, 1] units (float32, shape (C,)); for a
    lazily decoded split, from ``STATS_SAMPLE`` images spread evenly over it."""
    images = split.images
    if not torch.is_tensor(images):
        n = len(images)
        images = images[np.unique(np.linspace(0, n - 1, min(n, STATS_SAMPLE)).astype(np.int64))]
    c = images.shape[1]
    total = torch.zeros(c, dtype=torch.float64)
    total_sq = torch.zeros(c, dtype=torch.float64)
    for start in range(0, images.shape[0], chunk):
        x = images[start : start + chunk].to(torch.float64).div_(255.0)
        total += x.sum(dim=(0, 2, 3))
        total_sq += x.square().sum(dim=(0, 2, 3))
    count = max(1, images.shape[0] * images.shape[2] * images.shape[3])
    mean = total / count
    std = (total_sq / count - mean.square()).clamp_min(0.0).sqrt()
    return mean.float(), std.clamp_min(1e-6).float()


class ImageTensorDataset(Dataset):
    """Wraps an ImageSplit; items are (float32 (C, H, W) image, int label).

    Pixels are scaled to [0, 1] and then standardised per channel with ``mean``/``std``; pass
    the train split's ``channel_stats`` for the test split (``make_datasets`` does this). If
    they are omitted, they are computed from ``split`` itself.
    """

    def __init__(
        self, split: ImageSplit, mean: torch.Tensor | None = None, std: torch.Tensor | None = None
    ) -> None:
        if mean is None or std is None:
            mean, std = channel_stats(split)
        self.images = split.images
        self.labels = split.labels
        self.files = split.files  # the source file of every item (folders), for `embed`
        self.classes: list[str] = []  # class names by label index, set by make_datasets
        # the tar shard of every sample, when the images are read from shards
        self.shard_of = getattr(split.images, "shard_index", None)
        self.mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).reshape(-1, 1, 1)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (..., C, H, W) -> standardised float32, the same transform as ``__getitem__``."""
        return (images.to(torch.float32) / 255.0 - self.mean) / self.std

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.normalize(self.images[index]), int(self.labels[index])


def make_datasets(data: ImageData) -> tuple[ImageTensorDataset, ImageTensorDataset]:
    """Train and test datasets, both normalised with the train split's statistics."""
    mean, std = channel_stats(data.train)
    sets = ImageTensorDataset(data.train, mean, std), ImageTensorDataset(data.test, mean, std)
    for ds in sets:
        ds.classes = list(data.classes)
    return sets
