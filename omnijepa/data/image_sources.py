"""Built-in image sources, registered by name in ``IMAGE_SOURCES`` (no downloads, ever).

- ``fashion_mnist``: Fashion-MNIST from the Debian package ``dataset-fashion-mnist``, resized
  (antialiased bilinear) to ``image_size`` when that is not 28. We resize rather than pad so
  that the garment keeps filling the frame, as in the original data.
- ``digits``: scikit-learn's 8x8 digits, upscaled to ``image_size``, split by ``test_fraction``.
- ``canvas_*``: the same items at a random scale/position on a black canvas (see ``canvas``).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from omnijepa.data.canvas import render_canvas, resize_batch
from omnijepa.data.idx_format import read_idx
from omnijepa.data.image_data import (
    ImageData,
    ImageDataConfig,
    ImageSplit,
    derived_rng,
    split_indices,
    subsample,
)
from omnijepa.errors import DataError
from omnijepa.registry import Registry

SourceLoader = Callable[[ImageDataConfig, int], ImageData]
IMAGE_SOURCES: Registry[SourceLoader] = Registry("image source")

FASHION_MNIST_DIR_ENV = "OMNIJEPA_FASHION_MNIST_DIR"
DEFAULT_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
_FASHION_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
_FASHION_NAME = "Fashion-MNIST (Debian dataset-fashion-mnist)"

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # train x/y, test x/y


def fashion_mnist_dir() -> Path:
    """Where the IDX files are: $OMNIJEPA_FASHION_MNIST_DIR, else the Debian package's dir."""
    return Path(os.environ.get(FASHION_MNIST_DIR_ENV) or DEFAULT_FASHION_MNIST_DIR)


def _idx_path(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"Fashion-MNIST not found: no {stem}.gz (or {stem}) in {folder}. Install it with "
        f"`apt-get install dataset-fashion-mnist` (or `make setup`), or point "
        f"{FASHION_MNIST_DIR_ENV} at a folder holding the four IDX files."
    )


@functools.lru_cache(maxsize=2)
def _fashion_arrays_cached(folder: str) -> Arrays:
    paths = [_idx_path(Path(folder), stem) for stem in _FASHION_FILES]
    arrays = [read_idx(p) for p in paths]
    for images, labels, path in (
        (arrays[0], arrays[1], paths[0]),
        (arrays[2], arrays[3], paths[2]),
    ):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(
                f"unexpected Fashion-MNIST shapes {images.shape} / {labels.shape} near {path}"
            )
    arrays[1], arrays[3] = arrays[1].astype(np.int64), arrays[3].astype(np.int64)
    for a in arrays:
        a.flags.writeable = False  # shared by the cache: nobody may modify it
    return tuple(arrays)  # type: ignore[return-value]


def load_fashion_mnist_arrays() -> Arrays:
    """Raw Fashion-MNIST: uint8 (60000, 28, 28), int64 labels, then the 10000 test items."""
    return _fashion_arrays_cached(str(fashion_mnist_dir()))


def _digits_arrays(test_fraction: float, seed: int) -> Arrays:
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.rint(d.images * (255.0 / 16.0)).astype(np.uint8)  # 0..16 -> 0..255
    labels = d.target.astype(np.int64)
    tr, te = split_indices(labels, test_fraction, derived_rng(seed, "split"))
    return images[tr], labels[tr], images[te], labels[te]


def _to_split(images: np.ndarray, labels: np.ndarray, channels: int) -> ImageSplit:
    x = torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1)
    return ImageSplit(x.expand(-1, channels, -1, -1).contiguous(), torch.from_numpy(labels.copy()))


def _build(
    cfg: ImageDataConfig, seed: int, arrays: Arrays, classes: list[str], name: str, canvas: bool
) -> ImageData:
    """Subsample both splits by seed, then resize or render onto canvases."""
    size = cfg.image_size
    splits = []
    train_x, train_y, test_x, test_y = arrays
    for part, x, y, max_n in (
        ("train", train_x, train_y, cfg.train_size),
        ("test", test_x, test_y, cfg.test_size),
    ):
        keep = subsample(len(x), max_n, derived_rng(seed, f"{part}-subsample"))
        if canvas:
            rng = derived_rng(seed, f"{part}-canvas")
            images = render_canvas(x[keep], size, cfg.canvas_scale, cfg.canvas_clutter, rng)
        else:
            images = resize_batch(x[keep], size)
        splits.append(_to_split(images, y[keep], cfg.channels))
    if canvas:
        lo, hi = cfg.canvas_scale
        source = f"{name} on {size}x{size} canvas (item scale {lo:g}-{hi:g}"
        source += f", {cfg.canvas_clutter} clutter patches)" if cfg.canvas_clutter else ")"
    else:
        h, w = train_x.shape[1:]
        resized = f" resized to {size}x{size}" if (h, w) != (size, size) else ""
        source = f"{name}, {h}x{w}{resized}"
    return ImageData(splits[0], splits[1], list(classes), source)


@IMAGE_SOURCES.register("fashion_mnist")
def fashion_mnist(cfg: ImageDataConfig, seed: int) -> ImageData:
    """Fashion-MNIST (fixed 60k/10k split), resized to image_size."""
    return _build(
        cfg, seed, load_fashion_mnist_arrays(), FASHION_MNIST_CLASSES, _FASHION_NAME, canvas=False
    )


@IMAGE_SOURCES.register("canvas_fashion_mnist")
def canvas_fashion_mnist(cfg: ImageDataConfig, seed: int) -> ImageData:
    """Fashion-MNIST items at random scale/position on an image_size canvas."""
    return _build(
        cfg, seed, load_fashion_mnist_arrays(), FASHION_MNIST_CLASSES, _FASHION_NAME, canvas=True
    )


def _digits(cfg: ImageDataConfig, seed: int, canvas: bool) -> ImageData:
    arrays = _digits_arrays(cfg.test_fraction, seed)
    names = [str(d) for d in range(10)]
    return _build(cfg, seed, arrays, names, "scikit-learn digits", canvas=canvas)


@IMAGE_SOURCES.register("digits")
def digits(cfg: ImageDataConfig, seed: int) -> ImageData:
    """scikit-learn 8x8 digits upscaled to image_size; stratified split by test_fraction."""
    return _digits(cfg, seed, canvas=False)


@IMAGE_SOURCES.register("canvas_digits")
def canvas_digits(cfg: ImageDataConfig, seed: int) -> ImageData:
    """scikit-learn digits at random scale/position on an image_size canvas."""
    return _digits(cfg, seed, canvas=True)
