"""EEG trials: a generated lateralised-rhythm task on any montage, or a user's ``.npz``.

Built-in ``lateralised``: a motor-imagery-like task whose answer lives in space, so it can be
asked on any montage. Every trial mixes sources at fixed points of the head into the channels
through a smooth lead field (weight ``exp(-d^2 / 2 s^2)`` of the electrode-source distance d,
s = ``spread``): two mu-rhythm sources (10-12 Hz) over the left and right motor cortex, whose
power drops on the side opposite the imagined hand (the class: left or right), an occipital
alpha source of random strength (a nuisance), 1/f background sources spread over the head, and
white sensor noise. Channel positions come from the montage by name, so the same task can be
generated on a montage the model never saw (``test_channels``).

``data.path=FILE.npz`` reads ``X`` (trials, channels, time), ``y`` (trials,) and ``ch_names``
(and optionally ``sfreq``); positions come from the montage by name. NaN samples, a shape
mismatch or an unknown channel name is one error naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from omnijepa.data.image_data import derived_rng
from omnijepa.errors import ConfigError, DataError
from omnijepa.modalities.eeg import electrode_positions, pack_recording

TEN_TWENTY = ("Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8",
              "P7", "P3", "Pz", "P4", "P8", "O1", "O2")  # fmt: skip
# an unseen montage for the cross-montage test: 10-10 positions not in the 10-20 set
TEN_TEN_OTHER = ("AF3", "AF4", "FC5", "FC1", "FC2", "FC6", "C5", "C1", "C2", "C6",
                 "CP5", "CP1", "CP2", "CP6", "PO3", "PO4")  # fmt: skip


@dataclass
class EEGDataConfig:
    """What EEG to load (``path`` overrides the built-in ``name``) and how it is shaped."""

    name: str = "lateralised"
    path: str | None = None
    channels: tuple[str, ...] = TEN_TWENTY  # generator: the training montage
    test_channels: tuple[str, ...] = TEN_TEN_OTHER  # generator: the unseen montage
    montage: str = "auto"  # MNE montage the channel names are looked up in
    sfreq: float = 128.0
    seconds: float = 2.0
    train_size: int = 1600
    test_size: int = 600
    spread: float = 0.35  # lead-field width, head radii
    noise: float = 1.0  # sensor noise relative to the signal
    desync: float = 0.75  # mu power left on the desynchronised side
    test_fraction: float = 0.25  # files: share of the trials held out
    max_channels: int = 0  # 0 = the largest channel set in the data

    def __post_init__(self) -> None:
        if self.sfreq <= 0 or self.seconds <= 0 or self.train_size < 2 or self.test_size < 2:
            raise ConfigError("data.sfreq, data.seconds > 0 and data.train/test_size >= 2")

    @property
    def length(self) -> int:
        return int(round(self.sfreq * self.seconds))


@dataclass
class EEGSplit:
    """Recordings (list of (C_i, T) arrays), their channel names and labels."""

    signals: list[np.ndarray]
    channels: list[tuple[str, ...]]
    labels: np.ndarray


def _source_points(names: tuple[str, ...]) -> np.ndarray:
    return electrode_positions(list(names)) * 0.8  # a little inside the scalp


def _pink(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal((n, length)), axis=1)
    f = np.arange(spec.shape[1])
    spec /= np.sqrt(np.maximum(f, 1))
    return np.fft.irfft(spec, n=length, axis=1)


def generate_lateralised(
    cfg: EEGDataConfig, channels: tuple[str, ...], n: int, rng: np.random.Generator
) -> EEGSplit:
    """``n`` trials of the lateralised-rhythm task recorded on ``channels``."""
    t = np.arange(cfg.length) / cfg.sfreq
    elec = electrode_positions(list(channels), cfg.montage)
    src = _source_points(("C3", "C4", "Oz", "Fz", "T7", "T8", "Pz", "Fpz"))
    dist = np.linalg.norm(elec[:, None] - src[None], axis=-1)
    lead = np.exp(-(dist**2) / (2 * cfg.spread**2))  # (C, S)
    labels = rng.integers(0, 2, n)
    signals = []
    for y in labels:
        f = rng.uniform(10, 12, 3)
        phase = rng.uniform(0, 2 * np.pi, 3)
        mu = np.sin(2 * np.pi * f[:, None] * t + phase[:, None])  # left, right, occipital
        power = np.array([1.0, 1.0, rng.uniform(0.2, 2.0)])
        power[1 - y] *= cfg.desync  # imagined hand y: the opposite hemisphere desynchronises
        rhythms = mu * power[:, None] * rng.uniform(0.6, 1.4, (3, 1))
        background = _pink(rng, 5, cfg.length) * 3.0
        sources = np.concatenate([rhythms, background])
        x = lead @ sources
        x += cfg.noise * x.std() * rng.standard_normal(x.shape)
        signals.append(x.astype(np.float32))
    return EEGSplit(signals, [channels] * n, labels)


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    try:
        with np.load(path, allow_pickle=False) as z:
            x, y, names = z["X"], z["y"], tuple(str(c) for c in z["ch_names"])
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read {path} as EEG (.npz with X, y, ch_names): {exc}") from None
    if x.ndim != 3 or len(y) != len(x) or x.shape[1] != len(names):
        raise DataError(
            f"{path}: X {x.shape}, y {y.shape}, {len(names)} ch_names do not fit "
            "(trials, channels, time) / (trials,) / (channels,)"
        )
    if not np.isfinite(x).all():
        raise DataError(f"{path}: X holds NaN or infinite samples")
    return x.astype(np.float32), y.astype(np.int64), names


def load_eeg_data(cfg: EEGDataConfig, seed: int) -> dict[str, EEGSplit]:
    """``train`` and ``test`` splits; for the generator also ``unseen_train``/``unseen_test``:
    the same task recorded on ``cfg.test_channels``, a montage the model never saw."""
    if cfg.path:
        x, y, names = _read_npz(Path(cfg.path))
        electrode_positions(list(names), cfg.montage)  # unknown names fail now
        rng = derived_rng(seed, "eeg_split")
        order = rng.permutation(len(x))
        k = max(1, int(round(cfg.test_fraction * len(x))))
        te, tr = order[:k], order[k:]
        split = lambda idx: EEGSplit([x[i] for i in idx], [names] * len(idx), y[idx])  # noqa: E731
        return {"train": split(tr), "test": split(te)}
    if cfg.name != "lateralised":
        raise ConfigError(f"unknown EEG data {cfg.name!r}; use lateralised or data.path=FILE.npz")
    gen = lambda ch, n, tag: generate_lateralised(cfg, ch, n, derived_rng(seed, tag))  # noqa: E731
    return {
        "train": gen(cfg.channels, cfg.train_size, "eeg_train"),
        "test": gen(cfg.channels, cfg.test_size, "eeg_test"),
        "unseen_train": gen(cfg.test_channels, cfg.test_size, "eeg_unseen_train"),
        "unseen_test": gen(cfg.test_channels, cfg.test_size, "eeg_unseen_test"),
    }


class EEGDataset(Dataset):
    """Packed, per-recording standardised trials ``(max_channels, 3 + length)`` and labels."""

    def __init__(self, split: EEGSplit, max_channels: int, length: int, montage: str) -> None:
        self.items = []
        for x, names in zip(split.signals, split.channels):
            x = x[:, :length]
            x = (x - x.mean()) / max(float(x.std()), 1e-8)
            pos = electrode_positions(list(names), montage)
            self.items.append(pack_recording(x, pos, max_channels, length))
        self.labels = split.labels

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.items[i], int(self.labels[i])


def log_variance_features(ds: EEGDataset) -> tuple[np.ndarray, np.ndarray]:
    """The field's classical baseline: log variance of every channel (absent channels 0)."""
    feats = []
    for x in ds.items:
        sig = x[:, 3:].numpy()
        real = ~np.isnan(sig)
        n = np.maximum(real.sum(1), 1)
        mean = np.where(real, sig, 0.0).sum(1) / n
        var = np.where(real, (sig - mean[:, None]) ** 2, 0.0).sum(1) / n
        feats.append(np.where(real.any(1), np.log(var + 1e-8), 0.0))
    return np.stack(feats), np.asarray(ds.labels)


__all__ = [
    "EEGDataConfig",
    "EEGDataset",
    "EEGSplit",
    "TEN_TEN_OTHER",
    "TEN_TWENTY",
    "generate_lateralised",
    "load_eeg_data",
    "log_variance_features",
]
