"""ROI time series (fMRI): generated subjects whose label acts through connectivity, or a
user's files.

Built-in ``networks``: ``regions`` ROIs in ``networks`` functional networks (the ROI index order
is shuffled once, so networks are not contiguous runs). Each subject's neural activity is a
stable VAR(1) at 10 Hz whose coupling is strong within networks and weak between them, with
subject-to-subject jitter and a global gain; it is convolved with the canonical double-gamma
haemodynamic response, sampled every ``tr`` seconds, and given white noise (``noise`` x the
signal's std) and slow drift. The label ("patient") weakens the within-network coupling of one
network by ``effect``: it lives in connectivity, not in any one region's level or power.

``data.path=FILE.npz`` reads ``X`` (subjects, regions, time) and ``y``; a folder with one
sub-folder per class reads each subject's ``.csv`` (rows = time, columns = regions; a header
row is skipped) or ``.npy`` ``(time, regions)``. Every series is z-scored per region.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from omnijepa.data import numpy_files
from omnijepa.data.class_folders import FolderListing, given_or_drawn_split, list_class_folder
from omnijepa.data.image_data import derived_rng
from omnijepa.data.numeric_csv import read_numeric_table
from omnijepa.data.numpy_files import check_float32_range, label_vector, read_npy, read_npz
from omnijepa.errors import ConfigError, DataError

LAYOUTS = ("regions_time", "time_regions")


@dataclass
class FMRIDataConfig:
    """What ROI series to load (``path`` overrides the generator) and the generator's knobs."""

    name: str = "networks"
    path: str | None = None
    regions: int = 48
    networks: int = 6
    timepoints: int = 80  # TRs per subject
    tr: float = 2.0  # seconds
    train_size: int = 400
    test_size: int = 200
    effect: float = 0.4  # share of within-network coupling a patient's network loses
    noise: float = 1.0  # sensor noise std relative to the signal's
    test_fraction: float = 0.25  # files: share of the subjects held out
    # an .npz's X: (subjects, regions, time), or (subjects, time, regions) with time_regions
    # (the orientation cannot be told from the shape: either axis may be the longer)
    layout: str = "regions_time"

    def __post_init__(self) -> None:
        if self.noise < 0 or not 0.0 <= self.effect <= 1.0:
            raise ConfigError("data.noise >= 0 and data.effect (a share of the coupling) in [0, 1]")
        if self.layout not in LAYOUTS:
            raise ConfigError(f"data.layout={self.layout!r}; use {' or '.join(LAYOUTS)}")
        if self.regions < 2 or self.networks < 1 or self.networks > self.regions:
            raise ConfigError("data.regions >= 2 and 1 <= data.networks <= data.regions")
        if self.timepoints < 4 or self.train_size < 2 or self.test_size < 2 or self.tr <= 0:
            raise ConfigError("data.timepoints >= 4, data.train/test_size >= 2, data.tr > 0")


@dataclass
class ROISplit:
    """Per-subject ``(R, T)`` series (z-scored per region) and labels."""

    series: np.ndarray
    labels: np.ndarray
    sources: list[str] | None = None  # each subject's file (``path#index`` in an .npz)
    classes: list[str] | None = None  # the name of each label, where the data has them


def double_gamma_hrf(dt: float, seconds: float = 32.0) -> np.ndarray:
    """The canonical haemodynamic response (peak ~5 s, undershoot ~15 s), unit sum."""
    from scipy.stats import gamma

    t = np.arange(0.0, seconds, dt)
    h = gamma.pdf(t, 6.0) - gamma.pdf(t, 16.0) / 6.0
    return h / h.sum()


def network_layout(cfg: FMRIDataConfig, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Network label per ROI (shuffled order) and the group coupling matrix."""
    rng = derived_rng(seed, "fmri_layout")
    labels = rng.permutation(np.arange(cfg.regions) % cfg.networks)
    same = labels[:, None] == labels[None, :]
    coupling = np.where(same, rng.uniform(0.5, 1.0, (cfg.regions,) * 2),
                        rng.normal(0.0, 0.05, (cfg.regions,) * 2))  # fmt: skip
    np.fill_diagonal(coupling, 0.0)
    return labels, coupling


def generate_subjects(cfg: FMRIDataConfig, n: int, seed: int, purpose: str) -> ROISplit:
    """``n`` subjects, half of them patients, on the seed's network layout."""
    networks, base = network_layout(cfg, seed)
    rng = derived_rng(seed, purpose)
    y = rng.permutation(np.arange(n) % 2)
    inside = networks[:, None] == networks[None, :]
    target = (networks[:, None] == 0) & inside
    a = base[None] * (1.0 + 0.1 * rng.standard_normal((n, cfg.regions, cfg.regions)))
    a[y == 1] *= np.where(target, 1.0 - cfg.effect, 1.0)[None]
    radius = np.abs(np.linalg.eigvals(a)).max(1)
    a *= (rng.uniform(0.85, 0.95, n) / radius)[:, None, None]
    dt, step = 0.1, int(round(cfg.tr / 0.1))
    hrf = double_gamma_hrf(dt)
    total = (cfg.timepoints + 16) * step + len(hrf)
    x = np.zeros((n, cfg.regions))
    neural = np.empty((total, n, cfg.regions))
    for t in range(total):
        x = np.einsum("srq,sq->sr", a, x) + rng.standard_normal((n, cfg.regions))
        neural[t] = x
    from scipy.signal import fftconvolve

    bold = fftconvolve(neural, hrf[:, None, None], axes=0)[len(hrf) : total]
    bold = bold[::step][-cfg.timepoints :].transpose(1, 2, 0)  # (n, R, T)
    bold += cfg.noise * bold.std() * rng.standard_normal(bold.shape)
    time = np.linspace(0.0, 1.0, cfg.timepoints)
    drift = rng.normal(0, 0.3, (n, cfg.regions, 2)) * bold.std()
    bold += drift[..., :1] * time + drift[..., 1:] * np.cos(np.pi * time)
    return ROISplit(zscore(bold), y)


def zscore(series: np.ndarray) -> np.ndarray:
    """Each region of each subject to zero mean, unit variance over time."""
    s = np.asarray(series, dtype=np.float64)
    s = s - s.mean(-1, keepdims=True)
    return (s / np.maximum(s.std(-1, keepdims=True), 1e-8)).astype(np.float32)


def check_roi_values(x: np.ndarray, where: str) -> None:
    """Finite values small enough to square, and not every region flat (no connectivity)."""
    if not np.isfinite(x).all():
        raise DataError(f"{where}: X holds NaN or infinite values")
    check_float32_range(x, where)
    if x.size and not (np.ptp(x, axis=-1) > 0).any():
        raise DataError(f"{where}: every region's series is constant: no connectivity to learn")


def _read_subject(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        x = read_npy(path, "a (time, regions) table")
    else:
        x = read_numeric_table(path, "a (time, regions) table")
    if x.dtype.kind not in "iuf" or x.ndim != 2:
        raise DataError(f"{path}: need a finite (time, regions) table, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise DataError(f"{path}: holds {int((~np.isfinite(x)).sum())} NaN or infinite value(s)")
    return x.T


def _say_if_turned(x: np.ndarray, read_as: str, fix: str) -> None:
    """Warn when ``x`` (subjects, R, T) has under half as many time points as regions: the
    orientation cannot be told from the shape, but such scans are rarely that short."""
    if 2 * x.shape[2] < x.shape[1]:
        warnings.warn(f"{read_as}: {x.shape[2]} time points of {x.shape[1]} regions; {fix}",
                      stacklevel=3)  # fmt: skip


def read_roi_path(
    path: Path, layout: str = "regions_time"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``X`` (subjects, R, T), labels and the labels' names from an ``.npz`` (its X transposed
    first when ``layout`` is ``time_regions``) or a folder of class sub-folders."""
    if not path.exists():
        raise DataError(f"data.path {path} does not exist")
    if path.is_dir():
        x, listing = read_roi_folder(path)
        return x, listing.labels, listing.classes
    if path.suffix.lower() != ".npz":
        raise DataError(
            f"{path}: give an .npz of X (subjects, regions, time) and y, or a folder with a "
            "sub-folder per class of subjects' .csv/.npy (time, regions) tables"
        )
    z = read_npz(path, "ROI series (.npz with X, y)", ("X", "y"))
    x, y = z["X"], z["y"]
    y = label_vector(y, len(x), path)
    if x.dtype.kind not in "iuf" or x.ndim != 3:
        raise DataError(f"{path}: X {x.shape}, y {y.shape} are not (subjects, R, T), (subjects,)")
    if layout == "time_regions":
        x = x.transpose(0, 2, 1)
    else:
        _say_if_turned(
            x,
            f"{path.name}: X {x.shape} is read as (subjects, regions, time)",
            "if it is (subjects, time, regions), pass data.layout=time_regions",
        )
    check_roi_values(x, str(path))
    names, y = np.unique(y, return_inverse=True)
    return x, y, [numpy_files.text(v) for v in names]


def read_roi_folder(path: Path) -> tuple[np.ndarray, FolderListing]:
    """``X`` (subjects, R, T) and the folder's listing (files, labels, class names, its own
    test mask or None) from class sub-folders of subjects' .csv/.npy tables, or a train/test
    layout of them."""
    listing = list_class_folder(path, (".csv", ".npy"), "subject")
    if len(set(listing.labels.tolist())) < 2:
        raise DataError(f"{path}: need >= 2 class sub-folders of subjects' .csv/.npy")
    xs = [_read_subject(f) for f in listing.files]
    if len({x.shape[0] for x in xs}) == 1 and len({x.shape[1] for x in xs}) > 1:
        shortest = min(x.shape[1] for x in xs)  # scans of different lengths: a common crop
        warnings.warn(
            f"{path}: the subjects' scans last {shortest}-{max(x.shape[1] for x in xs)} time "
            f"points; each keeps its first {shortest}",
            stacklevel=2,
        )
        xs = [x[:, :shortest] for x in xs]
    shapes = [x.shape for x in xs]
    if len(set(shapes)) != 1:  # name the odd ones out: the shape most subjects have wins
        common = max(set(shapes), key=shapes.count)
        odd = [f"{f.relative_to(path)} {s}" for f, s in zip(listing.files, shapes) if s != common]
        more = f" and {len(odd) - 3} more" if len(odd) > 3 else ""
        raise DataError(
            f"{path}: subjects differ in shape (regions, time): most are {common}, but "
            f"{', '.join(odd[:3])}{more}; every subject needs the same regions and length"
        )
    x = np.stack(xs)
    _say_if_turned(
        x,
        f"{path}: each subject's table is read as rows of time points",
        "if the rows are regions, save the tables transposed (time, regions)",
    )
    check_roi_values(x, str(path))
    return x, listing


def load_fmri_data(cfg: FMRIDataConfig, seed: int) -> dict[str, ROISplit]:
    """``train`` and ``test`` subjects."""
    if cfg.path:
        path = Path(cfg.path)
        if path.is_dir():
            x, listing = read_roi_folder(path)
            y, is_test, classes = listing.labels, listing.is_test, listing.classes
            sources = [str(f) for f in listing.files]
        else:
            (x, y, classes), is_test = read_roi_path(path, cfg.layout), None
            sources = [f"{path}#{i}" for i in range(len(x))]
        rng = derived_rng(seed, "fmri_split")
        tr, te = given_or_drawn_split(y, is_test, cfg.test_fraction, rng)
        return {
            name: ROISplit(zscore(x[idx]), y[idx], [sources[i] for i in idx], classes)
            for name, idx in (("train", tr), ("test", te))
        }
    if cfg.name != "networks":
        raise ConfigError(f"unknown ROI data {cfg.name!r}; use networks or data.path=FILE")
    return {
        "train": generate_subjects(cfg, cfg.train_size, seed, "fmri_train"),
        "test": generate_subjects(cfg, cfg.test_size, seed, "fmri_test"),
    }


class ROIDataset(Dataset):
    """``(R, T)`` float tensors and labels."""

    def __init__(self, split: ROISplit) -> None:
        self.x = torch.from_numpy(split.series)
        self.labels = split.labels

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.x[i], int(self.labels[i])


def connectivity_features(ds: ROIDataset) -> tuple[np.ndarray, np.ndarray]:
    """The field's baseline: the upper triangle of each subject's Fisher-z correlation."""
    x = ds.x.double()
    x = (x - x.mean(-1, keepdim=True)) / x.std(-1, keepdim=True).clamp_min(1e-8)
    corr = (x @ x.transpose(1, 2) / x.shape[-1]).clamp(-0.999, 0.999)
    iu = torch.triu_indices(x.shape[1], x.shape[1], 1)
    return torch.atanh(corr[:, iu[0], iu[1]]).numpy(), np.asarray(ds.labels)


__all__ = [
    "FMRIDataConfig",
    "ROIDataset",
    "ROISplit",
    "connectivity_features",
    "generate_subjects",
    "load_fmri_data",
    "network_layout",
]
