"""Frame pairs with exact optical flow: photos warped by random smooth flows.

A pair is made from a crop of a photo: the crop (with a margin) is the second frame, and the
first frame is the second resampled at ``p + f(p)`` (``grid_sample``), so ``f`` is exactly the
flow from the first frame to the second in omnijepa's convention (``nn.flow_warp``), and the
end-point error of any estimate is exact. Flows are an affine motion (translation, rotation,
scaling) plus a few Gaussian bumps of local motion, rescaled so that the largest vector of a
pair is drawn in [0.25, 1] x ``data.max_flow`` pixels.

Photos: the ones that ship with scikit-learn and, when Debian's ``opencv-doc`` is installed, its
sample photos; held-out pairs come from photos never used in training. ``data.path=DIR`` warps
the user's own images (any folder, read recursively; every 5th file is held out).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from omnijepa.data.class_folders import data_files
from omnijepa.data.image_data import derived_rng
from omnijepa.data.image_folder import IMAGE_EXTENSIONS, read_images
from omnijepa.errors import ConfigError, DataError

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
OPENCV_TRAIN = (
    "baboon.jpg", "fruits.jpg", "building.jpg", "butterfly.jpg", "home.jpg", "messi5.jpg",
    "orange.jpg", "apple.jpg", "aero1.jpg", "aloeL.jpg", "graf1.png", "leuvenA.jpg",
    "stuff.jpg", "HappyFish.jpg", "smarties.png", "board.jpg", "lena.jpg", "box_in_scene.png",
)  # fmt: skip
OPENCV_TEST = ("starry_night.jpg", "squirrel_cls.jpg")
SKLEARN_TRAIN, SKLEARN_TEST = ("china.jpg",), ("flower.jpg",)


@dataclass
class FlowDataConfig:
    """``data.*`` of the flow pairs."""

    path: str | None = None  # a folder of your images to warp; default: the built-in photos
    size: int = 64  # side of each frame (a multiple of the encoder's coarsest stride)
    channels: int = 1  # 1 (grey) or 3 (RGB)
    max_flow: float = 4.0  # largest flow vector of a pair, in pixels
    source_side: int = 192  # photos are resized to this square side before cropping
    train_pairs: int = 2000
    test_pairs: int = 200
    bumps: int = 3  # Gaussian bumps of local motion per flow

    def __post_init__(self) -> None:
        if self.channels not in (1, 3):
            raise ConfigError(f"data.channels must be 1 or 3, got {self.channels}")
        if self.max_flow <= 0 or self.size < 8:
            raise ConfigError("data.max_flow must be > 0 and data.size >= 8")
        margin = int(np.ceil(self.max_flow)) + 1
        if self.source_side < self.size + 2 * margin:
            raise ConfigError(
                f"data.source_side={self.source_side} must be >= data.size + 2 x (data.max_flow "
                f"+ 1) = {self.size + 2 * margin}: lower data.max_flow or data.size, or raise "
                "data.source_side"
            )
        if self.train_pairs < 1 or self.test_pairs < 1:
            raise ConfigError("data.train_pairs and data.test_pairs must be >= 1")


@dataclass
class FlowPairs:
    """float32 frames in [0, 1] (N, C, H, W) and their exact flows (N, 2, H, W)."""

    first: torch.Tensor
    second: torch.Tensor
    flow: torch.Tensor


def _sklearn_images() -> Path:
    import sklearn.datasets

    return Path(sklearn.datasets.__file__).parent / "images"


def builtin_sources() -> tuple[list[Path], list[Path], str]:
    """Train and held-out photos that ship here, and a description."""
    sk = _sklearn_images()
    train = [sk / n for n in SKLEARN_TRAIN]
    test = [sk / n for n in SKLEARN_TEST]
    extra = [OPENCV_DATA / n for n in OPENCV_TRAIN if (OPENCV_DATA / n).is_file()]
    held = [OPENCV_DATA / n for n in OPENCV_TEST if (OPENCV_DATA / n).is_file()]
    where = "scikit-learn sample photos"
    if extra:
        where += " + opencv-doc photos"
    return (
        train + extra,
        test + held,
        f"{where} ({len(train) + len(extra)} train / {len(test) + len(held)} held-out photos)",
    )


def folder_sources(root: Path) -> tuple[list[Path], list[Path], str]:
    """Every image under ``root``; every 5th (sorted) is held out."""
    if not root.is_dir():
        raise DataError(f"data.path {root} is not a folder")
    files = data_files(root, IMAGE_EXTENSIONS)  # hidden files and folders skipped
    if not files:
        raise DataError(f"data.path {root} holds no images (.png, .jpg, ...)")
    if len(files) < 2:  # held-out pairs must come from photos never trained on
        raise DataError(f"data.path {root} holds 1 image; need at least 2, one to train on "
                        "and one held out")  # fmt: skip
    test = files[4::5] or files[-1:]
    train = [f for f in files if f not in test]
    return train, test, f"images from {root} ({len(train)} train / {len(test)} held-out)"


def load_sources(files: list[Path], cfg: FlowDataConfig) -> torch.Tensor:
    """Photos as float32 (N, C, side, side) in [0, 1]."""
    return torch.from_numpy(read_images(files, cfg.source_side, cfg.channels)).float() / 255.0


def smooth_flows(n: int, size: int, cfg: FlowDataConfig, rng: np.random.Generator) -> torch.Tensor:
    """``n`` random smooth flows (n, 2, size, size) in pixels, each with its largest vector
    drawn in [0.25, 1] x ``cfg.max_flow``."""
    ar = np.arange(size, dtype=np.float64) - (size - 1) / 2
    gy, gx = np.meshgrid(ar, ar, indexing="ij")
    angle = rng.uniform(-0.15, 0.15, n)
    scale = rng.uniform(-0.1, 0.1, n)
    shift = rng.uniform(-1, 1, (n, 2))
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    s = (1 + scale)[:, None, None]
    fx = s * (cos * gx - sin * gy) - gx + shift[:, 0, None, None] * size / 8
    fy = s * (sin * gx + cos * gy) - gy + shift[:, 1, None, None] * size / 8
    for _ in range(cfg.bumps):
        cy, cx = rng.uniform(-size / 2, size / 2, (2, n))[:, :, None, None]
        sigma = rng.uniform(size / 10, size / 4, n)[:, None, None]
        amp = rng.uniform(-1, 1, (2, n))[:, :, None, None] * size / 8
        g = np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * sigma**2))
        fx, fy = fx + amp[0] * g, fy + amp[1] * g
    flow = np.stack([fx, fy], axis=1)
    peak = np.sqrt((flow**2).sum(axis=1)).reshape(n, -1).max(axis=1)
    target = rng.uniform(0.25, 1.0, n) * cfg.max_flow
    flow *= (target / np.maximum(peak, 1e-9))[:, None, None, None]
    return torch.from_numpy(flow).float()


def make_pairs(
    sources: torch.Tensor, n: int, cfg: FlowDataConfig, rng: np.random.Generator
) -> FlowPairs:
    """``n`` pairs cut from random photos of ``sources`` at random places."""
    margin = int(np.ceil(cfg.max_flow)) + 1
    big = cfg.size + 2 * margin
    pick = rng.integers(0, sources.shape[0], n)
    corners = rng.integers(0, cfg.source_side - big + 1, (n, 2))
    crops = torch.stack([sources[k, :, y : y + big, x : x + big]
                         for k, (y, x) in zip(pick, corners)])  # fmt: skip
    flow = smooth_flows(n, cfg.size, cfg, rng)
    ar = torch.arange(cfg.size, dtype=torch.float32) + margin
    gy, gx = torch.meshgrid(ar, ar, indexing="ij")
    x = (gx + flow[:, 0]) * 2 / (big - 1) - 1
    y = (gy + flow[:, 1]) * 2 / (big - 1) - 1
    first = F.grid_sample(crops, torch.stack([x, y], -1), mode="bilinear",
                          padding_mode="border", align_corners=True)  # fmt: skip
    second = crops[:, :, margin : margin + cfg.size, margin : margin + cfg.size].contiguous()
    return FlowPairs(first, second, flow)


def load_flow_pairs(cfg: FlowDataConfig, seed: int) -> tuple[FlowPairs, FlowPairs, str]:
    """Train and held-out pairs (held-out ones from photos never trained on) and a
    description of where they come from."""
    if cfg.path:
        train_files, test_files, where = folder_sources(Path(cfg.path).expanduser())
    else:
        train_files, test_files, where = builtin_sources()
    rng_train = derived_rng(seed, "flow_train")
    rng_test = derived_rng(0, "flow_test")  # the same held-out pairs for every seed
    train = make_pairs(load_sources(train_files, cfg), cfg.train_pairs, cfg, rng_train)
    test = make_pairs(load_sources(test_files, cfg), cfg.test_pairs, cfg, rng_test)
    return train, test, where


def middlebury_pair(channels: int, multiple: int, shrink: int = 4) -> FlowPairs | None:
    """opencv-doc's Middlebury RubberWhale frames (no true flow ships: ``flow`` is zeros),
    shrunk ``shrink`` times and cropped to a multiple of ``multiple``; None when absent."""
    from PIL import Image

    files = [OPENCV_DATA / f"rubberwhale{k}.png" for k in (1, 2)]
    if not all(f.is_file() for f in files):
        return None
    frames = []
    for f in files:
        with Image.open(f) as img:
            img = img.convert("RGB" if channels == 3 else "L")
            w, h = img.size[0] // shrink, img.size[1] // shrink
            arr = np.asarray(img.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)
        arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
        hh, ww = h // multiple * multiple, w // multiple * multiple
        frames.append(torch.from_numpy(arr[:, :hh, :ww] / 255.0).unsqueeze(0))
    first, second = frames
    return FlowPairs(first, second, torch.zeros(1, 2, *first.shape[-2:]))
