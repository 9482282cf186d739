"""Point-cloud data: the config, the loaded train/test splits, and a torch Dataset view.

``load_point_data(cfg, seed)`` builds clouds from a registered source in ``POINT_SOURCES``
(``"shapes"``: procedural shapes from ``point_shapes``) or, when ``source`` is not a
registered name, from a user folder (``point_files``: one sub-folder per class, or a flat
folder of unlabeled files) split stratified by ``test_fraction``. All randomness derives from
``seed``; procedural train and test clouds use independent derived seeds, so they never match.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import Dataset

from omnijepa.data.image_data import derived_rng
from omnijepa.errors import ConfigError, DataError
from omnijepa.registry import Registry

MIN_POINTS = 16


@dataclass
class PointDataConfig:
    """Which clouds to load and how; ``source`` is "shapes" or a folder path."""

    source: str = "shapes"  # a POINT_SOURCES name, or a folder of point files
    path: str = ""  # a folder of your point files (one sub-folder per class); overrides source
    classes: list[str] = field(default_factory=list)  # shapes: [] = the classes of shape_set
    shape_set: str = "primitives"  # shapes, when classes is []: primitives | all_primitives | parts
    num_points: int = 512  # points per cloud (files are resampled to this)
    train_per_class: int = 150  # shapes only
    test_per_class: int = 50  # shapes only
    noise: float = 0.01  # shapes: Gaussian jitter std (unit-radius units)
    rotation: str = "y"  # shapes: y (about the vertical axis) | so3 | none
    test_fraction: float = 0.25  # folders: stratified test share
    normalize: bool = True  # centre each cloud and scale it into the unit sphere
    cache_dir: str = ""  # shapes are generated once: "" = $OMNIJEPA_CACHE or ~/.cache/omnijepa


@dataclass
class PointSplit:
    """Clouds (N, P, 3) float32, labels (N,) int64 (-1 where unlabeled) and, from a folder,
    the file of every cloud."""

    points: torch.Tensor
    labels: torch.Tensor
    files: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def dataset(self) -> PointTensorDataset:
        """A torch Dataset over this split, items ``(points (P, 3), int label)``."""
        return PointTensorDataset(self)


class PointTensorDataset(Dataset):
    """Wraps a PointSplit; items are (float32 (P, 3) cloud, int label)."""

    def __init__(self, split: PointSplit) -> None:
        self.points = split.points
        self.labels = split.labels

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.points[index], int(self.labels[index])


@dataclass
class PointData:
    """A train/test pair plus class names (empty if unlabeled) and a readable description."""

    train: PointSplit
    test: PointSplit
    class_names: list[str]
    source: str = ""


PointSource = Callable[[PointDataConfig, int], PointData]
POINT_SOURCES: Registry[PointSource] = Registry("point source")


def check_config(cfg: PointDataConfig) -> None:
    """Reject impossible settings up front, naming the key (ConfigError)."""
    from omnijepa.data.point_shapes import ROTATIONS, SHAPE_CLASSES, SHAPE_SETS

    if cfg.num_points < MIN_POINTS:
        raise ConfigError(f"data.num_points must be >= {MIN_POINTS}, got {cfg.num_points}")
    if cfg.train_per_class < 1 or cfg.test_per_class < 1:
        raise ConfigError("data.train_per_class and data.test_per_class must be >= 1")
    if not (cfg.noise >= 0.0 and np.isfinite(cfg.noise)):
        raise ConfigError(f"data.noise must be a finite value >= 0, got {cfg.noise}")
    if not 0.0 < cfg.test_fraction < 1.0:
        raise ConfigError(f"data.test_fraction must be in (0, 1), got {cfg.test_fraction}")
    ROTATIONS.get(cfg.rotation)
    SHAPE_SETS.get(cfg.shape_set)  # unknown -> ConfigError listing the valid sets
    for name in cfg.classes:
        SHAPE_CLASSES.get(name)
    if len(set(cfg.classes)) != len(cfg.classes):
        raise ConfigError(f"data.classes lists a class more than once: {list(cfg.classes)}")


def normalize_clouds(points: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Centre each cloud on its mean and scale it so its farthest point has norm 1 (in float64,
    a few thousand clouds at a time, so coordinates of 1e20 do not overflow the norm)."""
    out = np.empty(points.shape, dtype=np.float32)
    for i in range(0, len(points), chunk):
        p = points[i : i + chunk].astype(np.float64)
        centred = p - p.mean(axis=1, keepdims=True)
        radius = np.linalg.norm(centred, axis=2).max(axis=1, keepdims=True)[..., None]
        out[i : i + chunk] = centred / np.maximum(radius, 1e-300)
    return out


def _split(
    points: np.ndarray, labels: np.ndarray, cfg: PointDataConfig, files: list[str] | None = None
) -> PointSplit:
    if cfg.normalize:
        points = normalize_clouds(points)
    return PointSplit(
        torch.from_numpy(np.ascontiguousarray(points)), torch.from_numpy(labels), files or []
    )


@POINT_SOURCES.register("shapes")
def _shapes_source(cfg: PointDataConfig, seed: int) -> PointData:
    """Procedural shapes; train and test come from independent derived seeds."""
    from omnijepa.data.point_shapes import make_shape_dataset

    splits = []
    for purpose, n in (("train", cfg.train_per_class), ("test", cfg.test_per_class)):
        sub_seed = int(derived_rng(seed, f"shapes-{purpose}").integers(2**62))
        pts, labels, names = make_shape_dataset(
            list(cfg.classes) or None, n, cfg.num_points, sub_seed, cfg.noise, cfg.rotation,
            cfg.shape_set, cfg.cache_dir,
        )  # fmt: skip
        splits.append(_split(pts, labels, cfg))
    default_set = bool(cfg.classes) or cfg.shape_set == "primitives"  # described as before
    which = "" if default_set else f"set {cfg.shape_set}: "
    source = (
        f"procedural shapes, {len(names)} classes ({which}{', '.join(names)}), "
        f"{cfg.num_points} points, "
        f"rotation {cfg.rotation}, noise {cfg.noise}; train/test {len(splits[0])}/{len(splits[1])}"
    )
    return PointData(train=splits[0], test=splits[1], class_names=names, source=source)


def _folder_source(cfg: PointDataConfig, seed: int, root: str) -> PointData:
    """A user folder of point files, split stratified by ``test_fraction``."""
    from omnijepa.data.point_files import load_point_folder

    sources = ", ".join(POINT_SOURCES.names())
    try:
        points, listing = load_point_folder(root, cfg.num_points, seed)
    except DataError as exc:
        if "point folder not found" in str(exc):
            raise DataError(f"{exc} (data.source is a folder path or one of: {sources})") from None
        raise
    labels, classes = listing.labels, listing.classes
    if len(labels) < 2:
        raise DataError(
            f"{root}: found only {len(labels)} point file; need at least 2 to make a "
            "train and a test split"
        )
    train, test = listing.split(cfg.test_fraction, derived_rng(seed, "point-split"))
    source = (
        f"point folder {root} ({listing.described}), {cfg.num_points} points; "
        f"train/test {len(train)}/{len(test)}"
    )
    names = [str(f) for f in listing.files]
    return PointData(
        train=_split(points[train], labels[train], cfg, [names[i] for i in train]),
        test=_split(points[test], labels[test], cfg, [names[i] for i in test]),
        class_names=classes,
        source=source,
    )


def load_point_data(cfg: PointDataConfig, seed: int) -> PointData:
    """Load the clouds ``cfg`` describes (a registered source, else a folder path)."""
    check_config(cfg)
    if cfg.path:
        return _folder_source(cfg, seed, cfg.path)
    if cfg.source in POINT_SOURCES:
        return POINT_SOURCES.get(cfg.source)(cfg, seed)
    return _folder_source(cfg, seed, cfg.source)
