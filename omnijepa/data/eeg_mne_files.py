"""EEG from anything MNE reads (``.fif``, ``.edf``, ``.bdf``, ``.gdf``, ``.set``, ``.vhdr``,
``.cnt``): epochs files give trials and their event names; a continuous recording is cut at
its annotations or, without any, at the events of its stimulus channel (``read_mne``)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from omnijepa.data.eeg_trials import EEG_READERS, EEGTrials, ReadOptions, finite_samples
from omnijepa.errors import DataError

MNE_SUFFIXES = (".fif", ".edf", ".bdf", ".gdf", ".set", ".vhdr", ".cnt")
SKIP_EVENTS = re.compile(r"^(bad|edge|boundary)", re.IGNORECASE)


def _mne_epochs(path: Path):  # noqa: ANN202 - mne types
    import mne

    if path.suffix.lower() == ".fif" and re.search(r"[-_]epo$", path.stem):
        return mne.read_epochs(path, preload=True, verbose="error")
    if path.suffix.lower() == ".set":
        try:
            return mne.read_epochs_eeglab(path, verbose="error")
        except (ValueError, TypeError, KeyError, RuntimeError, IndexError):
            return None  # continuous EEGLAB data
    return None


def _stim_events(raw, path: Path) -> tuple[np.ndarray, dict[str, int]]:  # noqa: ANN001
    """Events on the recording's stimulus channel (MNE's sample data, BioSemi ``Status``),
    for recordings that carry no annotations; each event code becomes a class name."""
    import mne

    events = mne.find_events(raw, shortest_event=1, verbose="error")
    codes = sorted({int(c) for c in events[:, 2]})
    if codes:
        warnings.warn(
            f"{path}: no annotations; trials start at the {len(events)} events of its "
            f"stimulus channel, labelled by event code ({', '.join(map(str, codes))})",
            stacklevel=2,
        )
    return events, {str(c): c for c in codes}


def _pick_eeg(inst, path: Path) -> None:  # noqa: ANN001 - an mne Raw or Epochs
    """Keep the channels MNE types as EEG, saying which others (EOG, ECG, stim …) go, and
    drop the ones the file marks bad (``info["bads"]``, where MNE users flag a broken
    electrode), saying so."""
    bads = [n for n in inst.info["bads"] if n in inst.ch_names]
    if bads:
        if len(bads) == len(inst.ch_names):
            raise DataError(f"{path}: every channel is marked bad (info['bads'])")
        inst.drop_channels(bads)
        warnings.warn(f"{path.name}: dropped channels the file marks bad: {', '.join(bads)}",
                      stacklevel=3)  # fmt: skip
    if "eeg" not in inst:
        return
    types = inst.get_channel_types()
    other = [f"{n} ({t})" for n, t in zip(inst.ch_names, types) if t != "eeg"]
    inst.pick("eeg")
    if other:
        shown = ", ".join(other[:8]) + (" …" if len(other) > 8 else "")
        warnings.warn(f"{path.name}: dropped channels typed as non-EEG: {shown}", stacklevel=3)


def read_mne(path: Path, opts: ReadOptions) -> EEGTrials:
    """Epochs (labels from their event names) or a continuous recording cut at annotations
    (or, without any, at the events of its stimulus channel)."""
    import mne

    try:
        epochs = _mne_epochs(path)
        if epochs is not None:
            _pick_eeg(epochs, path)
            names = {code: name for name, code in epochs.event_id.items()}
            x = finite_samples(epochs.get_data(), str(path))
            labels = [names.get(int(c), str(c)) for c in epochs.events[:, 2]]
            ch = tuple(epochs.ch_names)
            return EEGTrials(list(x), [ch] * len(x), labels, float(epochs.info["sfreq"]))
        raw = mne.io.read_raw(path, preload=True, verbose="error")
        if opts.whole:  # its class is its folder's: annotations do not cut or label it
            _pick_eeg(raw, path)
            data = finite_samples(raw.get_data(), str(path))
            return EEGTrials([data], [tuple(raw.ch_names)], [""], float(raw.info["sfreq"]))
        events, event_id = mne.events_from_annotations(raw, verbose="error")
        if not len(events) and "stim" in raw:
            events, event_id = _stim_events(raw, path)
        _pick_eeg(raw, path)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise DataError(f"cannot read {path} with MNE: {exc}") from None
    names = {code: name for name, code in event_id.items() if not SKIP_EVENTS.match(name)}
    events = events[np.isin(events[:, 2], list(names))]
    if not len(events):
        raise DataError(
            f"{path} is a continuous recording with no annotations or stimulus-channel events "
            "to cut trials at; give epochs (-epo.fif), annotations, or a folder with one "
            "sub-folder per class"
        )
    sfreq = float(raw.info["sfreq"])
    data = finite_samples(raw.get_data(), str(path))
    seconds = opts.seconds or _trial_seconds(raw.annotations, set(names.values()), path)
    signals, labels, onsets = [], [], []
    for sample, _, code in events:
        start = int(sample - raw.first_samp)
        piece = data[:, start : start + int(round(seconds * sfreq))]
        if piece.shape[1] * 2 >= seconds * sfreq:  # a trial cut short by the end: keep if half
            signals.append(piece)
            labels.append(names[code])
            onsets.append(f"{path}{at_seconds(start / sfreq)}")
    if not signals:
        raise DataError(f"{path}: its annotations leave no trial to use")
    return EEGTrials(signals, [tuple(raw.ch_names)] * len(signals), labels, sfreq, None, onsets)


def _trial_seconds(annotations: Any, kept: set[str], path: Path) -> float:
    """One length for every trial cut at annotations: the median duration of the kept ones
    (2 s when they are instants or absent). Per-label lengths let a trial's length give away
    its label, and MNE crops the last annotation at the end of a recording."""
    durations = np.array([d for name, d in zip(annotations.description, annotations.duration)
                          if name in kept and d > 0], dtype=float)  # fmt: skip
    if not len(durations):
        return 2.0
    seconds = float(np.median(durations))
    if durations.max() - durations.min() > 0.01 * seconds:
        warnings.warn(
            f"{path.name}: its annotations last {durations.min():.3g}-{durations.max():.3g} s; "
            f"every trial is cut to their median, {seconds:.3g} s (data.seconds sets it)",
            stacklevel=3,
        )
    return seconds


for _suffix in MNE_SUFFIXES:
    EEG_READERS.add(_suffix, read_mne)


def at_seconds(seconds: float) -> str:
    """``@12.5s``: a time in a recording, to the microsecond (sample-exact below 1 MHz)."""
    return "@" + f"{seconds:.6f}".rstrip("0").rstrip(".") + "s"
