"""EEG trials as read from any file, the options readers take and the registry of readers
(by suffix: ``eeg_files`` and ``eeg_mne_files`` register them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from omnijepa.errors import DataError
from omnijepa.registry import Registry


@dataclass
class EEGTrials:
    """Trials as read: (C, T) arrays, their channel names, class names and sampling rate."""

    signals: list[np.ndarray]
    channels: list[tuple[str, ...]]
    labels: list[str]
    sfreq: float | None
    # the recording each trial was cut from (class folders), so a hold-out keeps a
    # recording's pieces on one side; None: every trial stands alone
    recordings: list[int] | None = None
    # where each trial came from (``path#index`` or ``path@onset``), for ``omnijepa embed``
    sources: list[str] | None = None

    def subset(self, keep: Sequence[int]) -> EEGTrials:
        """The trials at ``keep``, in that order, with everything known about them."""
        pick = lambda values: None if values is None else [values[i] for i in keep]  # noqa: E731
        return EEGTrials(pick(self.signals), pick(self.channels), pick(self.labels), self.sfreq,
                         pick(self.recordings), pick(self.sources))  # fmt: skip


@dataclass
class ReadOptions:
    """What readers may need from the data config."""

    ch_names: tuple[str, ...] = ()
    sfreq: float | None = None
    seconds: float = 0.0  # trial length to cut recordings into; 0 = annotation's, or 2 s
    whole: bool = False  # a continuous recording as one piece (class folders cut it evenly)


Reader = Callable[[Path, ReadOptions], EEGTrials]
EEG_READERS: Registry[Reader] = Registry("EEG file format")


def finite_samples(x: np.ndarray, where: str) -> np.ndarray:
    """``x`` as float32; DataError naming ``where`` if it holds NaN or infinite samples."""
    if not np.isfinite(x).all():
        raise DataError(f"{where}: holds NaN or infinite samples")
    return x.astype(np.float32)


__all__ = ["EEG_READERS", "EEGTrials", "ReadOptions", "Reader", "finite_samples"]


def resample_signal(x: np.ndarray, src: float, dst: float) -> np.ndarray:
    """``x`` (channels, time) sampled at ``src`` Hz, resampled to ``dst`` Hz (polyphase)."""
    if abs(src - dst) < 1e-6:
        return x
    from scipy.signal import resample_poly

    ratio = Fraction(dst / src).limit_denominator(1000)
    return resample_poly(x, ratio.numerator, ratio.denominator, axis=1).astype(np.float32)
