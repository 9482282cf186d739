"""Multichannel time series of different lengths: a built-in generator and any user folder.

Built-in ``waveforms``: 8 classes that differ only in the *shape* of a periodic or transient
signal (sine, square, sawtooth, triangle, chirp, damped sine, pulse train, random walk) with a
random frequency, phase, amplitude and offset per series, Gaussian noise, and a random length
in ``length`` (so batches mix lengths and need padding). ``data.path=DIR`` reads ``.npy``
files (``(T,)`` or ``(C, T)``) or ``.csv``/``.txt`` tables (rows = time, one column per
channel; ``np.savetxt`` writes them), one
sub-folder per class (or a flat folder: unlabelled, label -1). A series longer than
``max_length`` is an error unless ``crop=true`` keeps its first ``max_length`` samples.

Samples are padded with NaN to ``max_length`` (the tokenizer's padding, ``modalities.series``),
so the default collate stacks them and the padding mask falls out of the batch itself.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from omnijepa.data.class_folders import list_class_folder
from omnijepa.data.image_data import derived_rng
from omnijepa.data.numeric_csv import read_numeric_table
from omnijepa.data.numpy_files import check_float32_range, read_npy
from omnijepa.errors import ConfigError, DataError

WAVEFORMS = (
    "sine", "square", "sawtooth", "triangle", "chirp", "damped_sine", "pulses", "random_walk",
)  # fmt: skip
SUFFIXES = (".npy", ".csv", ".txt")  # .txt: np.savetxt's tables


@dataclass
class SeriesDataConfig:
    """What series to load (``path`` overrides the built-in ``name``) and how long they may be."""

    name: str = "waveforms"
    path: str | None = None
    channels: int = 1
    length: tuple[int, int] = (64, 256)  # generator: series length range (samples)
    max_length: int = 256  # longer series are an error unless crop=true
    crop: bool = False
    noise: float = 0.5  # generator: noise std relative to the signal amplitude
    train_size: int = 2000  # generator: series per split (folders: all files)
    test_size: int = 1000
    test_fraction: float = 0.3  # folders: share of each class held out

    def __post_init__(self) -> None:
        lo, hi = self.length
        if not 2 <= lo <= hi:
            raise ConfigError(f"data.length must be (lo, hi) with 2 <= lo <= hi, got {self.length}")
        if self.max_length < 2 or self.channels < 1:
            raise ConfigError("data.max_length must be >= 2 and data.channels >= 1")
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"data.test_fraction must be in (0, 1), got {self.test_fraction}")
        if self.noise < 0:
            raise ConfigError(f"data.noise is a std, >= 0; got {self.noise}")


@dataclass
class SeriesSplit:
    """Series (list of (C, T_i) float32 tensors), their labels (-1 = unlabelled) and, from a
    folder, the file of every series."""

    series: list[torch.Tensor]
    labels: torch.Tensor
    files: list[str] = field(default_factory=list)


@dataclass
class SeriesData:
    train: SeriesSplit
    test: SeriesSplit
    class_names: list[str]
    source: str


def pad_series(series: Sequence[torch.Tensor], length: int | None = None) -> torch.Tensor:
    """Stack ``(C, T_i)`` series into ``(B, C, T)``, NaN after each series' end.

    ``length`` defaults to the longest series; a longer series is an error (no silent crop).
    """
    if not series:
        raise DataError("pad_series got no series")
    channels = {int(s.shape[0]) for s in series}
    if any(s.dim() != 2 for s in series) or len(channels) != 1:
        raise DataError(
            f"series must all be (C, T) with one C, got {[tuple(s.shape) for s in series]}"
        )
    longest = max(int(s.shape[1]) for s in series)
    t = longest if length is None else int(length)
    if longest > t:
        raise DataError(f"a series of length {longest} does not fit the padded length {t}")
    out = torch.full((len(series), channels.pop(), t), float("nan"))
    for i, s in enumerate(series):
        out[i, :, : s.shape[1]] = s
    return out


class PaddedSeriesDataset(Dataset):
    """``(series padded with NaN to length, label)`` pairs."""

    def __init__(self, split: SeriesSplit, length: int) -> None:
        self.split, self.length = split, length

    def __len__(self) -> int:
        return len(self.split.series)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return pad_series([self.split.series[i]], self.length)[0], int(self.split.labels[i])


def _chirp(t: np.ndarray, frac: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Frequency doubling over the series."""
    return np.sin(2 * np.pi * (phase + 0.5 * t**2 / max(float(t[-1]), 1e-9)))


def _damped(t: np.ndarray, frac: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """A sine that decays and restarts every 3 cycles."""
    return np.exp(-6.0 * ((phase / 3) % 1.0)) * np.sin(2 * np.pi * phase)


# unit-amplitude shapes of (t in cycles, fractional phase, phase) -> signal; the random walk
# (no period at all) is drawn separately
WAVES = {
    "sine": lambda t, f, p: np.sin(2 * np.pi * p),
    "square": lambda t, f, p: np.where(f < 0.5, 1.0, -1.0),
    "sawtooth": lambda t, f, p: 2 * f - 1,
    "triangle": lambda t, f, p: 1 - 4 * np.abs(f - 0.5),
    "chirp": _chirp,
    "damped_sine": _damped,
    "pulses": lambda t, f, p: np.where(f < 0.15, 1.7, -0.3),
}


def _waveform(kind: str, t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One unit-amplitude waveform of ``kind`` on sample times ``t`` (in cycles)."""
    if kind == "random_walk":
        walk = np.cumsum(rng.normal(size=t.shape))
        return (walk - walk.mean()) / (walk.std() + 1e-9)
    phase = t + rng.uniform(0, 1)
    return WAVES[kind](t, phase % 1.0, phase)


def make_waveforms(cfg: SeriesDataConfig, n: int, seed: int, part: str) -> SeriesSplit:
    """``n`` generated series, classes balanced, seeded per (seed, part)."""
    rng = derived_rng(seed, f"waveforms-{part}")
    series, labels = [], []
    for i in range(n):
        k = i % len(WAVEFORMS)
        length = int(rng.integers(cfg.length[0], cfg.length[1] + 1))
        cycles = rng.uniform(2.0, 12.0)  # cycles over the series: frequency varies per series
        t = np.arange(length) / length * cycles
        chans = []
        for _ in range(cfg.channels):
            x = _waveform(WAVEFORMS[k], t, rng) * rng.uniform(0.5, 2.0) + rng.normal(0, 0.5)
            chans.append(x + rng.normal(0, cfg.noise * np.std(x) + 1e-3, size=length))
        series.append(torch.tensor(np.stack(chans), dtype=torch.float32))
        labels.append(k)
    order = rng.permutation(n)
    return SeriesSplit([series[j] for j in order], torch.tensor(labels)[order])


def _read_series(path: Path, channels: int) -> np.ndarray:
    """One file as (C, T) float32; a clear DataError for anything that is not."""
    if path.suffix.lower() == ".npy":
        arr = read_npy(path, "a series (T,) or (C, T)")
        if arr.dtype.kind not in "iuf":
            raise DataError(f"{path}: a series must be numeric, got dtype {arr.dtype}")
    else:
        table = read_numeric_table(path, "a series (one column per channel)")
        single_row = table.shape[0] == 1 and channels == 1  # one channel written as a row
        arr = table if single_row else table.T
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim == 2 and arr.shape[0] != channels and arr.shape[1] == channels:
        arr = arr.T  # saved time-first, (T, C): a column vector is the common case
    if arr.ndim != 2 or arr.shape[0] != channels or arr.shape[1] < 2:
        raise DataError(
            f"{path}: expected {channels} channel(s) x >= 2 samples, got shape {arr.shape} "
            "(set data.channels; .npy is (T,), (C, T) or (T, C), .csv has one column per "
            "channel)"
        )
    if not np.isfinite(arr).all():
        raise DataError(f"{path}: the series holds NaN or infinite values")
    check_float32_range(arr, str(path))
    return arr.astype(np.float32)


def load_series_folder(cfg: SeriesDataConfig, seed: int) -> SeriesData:
    """Every .npy/.csv file under ``cfg.path`` (sub-folder per class, or flat), split per class."""
    root = Path(cfg.path or "")
    listing = list_class_folder(root, SUFFIXES, "series")
    files, labels, classes = listing.files, listing.labels, listing.classes
    if len(files) < 2:
        raise DataError(f"data.path {root} holds fewer than 2 .npy/.csv series")
    arrays = [_read_series(p, cfg.channels) for p in files]
    for p, a in zip(files, arrays):
        if a.shape[1] > cfg.max_length and not cfg.crop:
            raise DataError(
                f"{p}: {a.shape[1]} samples, longer than data.max_length={cfg.max_length} "
                "(raise it, or set data.crop=true to keep the first max_length samples)"
            )
    flat = [p for p, a in zip(files, arrays) if float(np.ptp(a)) == 0.0]
    if flat:  # a sensor that recorded nothing: nothing to learn from
        warnings.warn(f"{root}: {len(flat)} of {len(files)} series are constant (e.g. "
                      f"{flat[0].name})", stacklevel=2)  # fmt: skip
    series = [torch.from_numpy(a[:, : cfg.max_length]) for a in arrays]
    train_idx, test_idx = listing.split(cfg.test_fraction, derived_rng(seed, "series"))
    names = [str(p) for p in files]
    pick = lambda idx: SeriesSplit(  # noqa: E731
        [series[i] for i in idx], torch.tensor(labels[idx]), [names[i] for i in idx]
    )
    return SeriesData(
        pick(train_idx), pick(test_idx), classes, f"series folder {root} ({listing.described})"
    )


def load_series_data(cfg: SeriesDataConfig, seed: int) -> SeriesData:
    """The folder ``cfg.path`` if given, else the built-in generator ``cfg.name``."""
    if cfg.path:
        return load_series_folder(cfg, seed)
    if cfg.name != "waveforms":
        raise ConfigError(f"unknown series source {cfg.name!r}; valid: waveforms (or data.path)")
    if cfg.length[1] > cfg.max_length:
        raise ConfigError(f"data.length {cfg.length} exceeds data.max_length={cfg.max_length}")
    train = make_waveforms(cfg, cfg.train_size, seed, "train")
    test = make_waveforms(cfg, cfg.test_size, seed, "test")
    source = (
        f"generated waveforms, {len(WAVEFORMS)} classes, {cfg.channels} channel(s), lengths "
        f"{cfg.length[0]}-{cfg.length[1]}; train/test {cfg.train_size}/{cfg.test_size}"
    )
    return SeriesData(train, test, list(WAVEFORMS), source)


def padded_length(cfg: SeriesDataConfig, window: int) -> int:
    """``max_length`` rounded up to a whole number of windows."""
    return int(math.ceil(cfg.max_length / window) * window)
