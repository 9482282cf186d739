"""Caps whose files do not carry 10-20 names, recognised by the names they do carry.

A detector looks at a recording's cleaned channel names and, when they are exactly one known
cap's, says where each sits: the montage to read and each name's name in it. Two are known:

- BioSemi caps (``A1 … A32, B1 …``; ``biosemi_names``), whose ``A1``/``A2`` would otherwise
  land on the ear lobes;
- BCI Competition IV 2a's GDF files (BNCI2014-001, the most used motor-imagery set), which
  name 5 electrodes (``EEG-Fz``, ``EEG-C3``, ``EEG-Cz``, ``EEG-C4``, ``EEG-Pz``) and number the
  other 17 (``EEG-0`` … ``EEG-16``); the numbers follow the dataset's description
  (desc_2a.pdf, Fig. 3), row by row from the front.

Detectors run only with ``data.montage=auto``; ``data.ch_names`` always overrides the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from omnijepa.data.biosemi_names import biosemi_names
from omnijepa.modalities.eeg import known_electrode
from omnijepa.registry import Registry


@dataclass(frozen=True)
class CapLayout:
    """Where a recognised cap's channels sit: the montage and each channel's name in it."""

    montage: str
    names: dict[str, str]  # name in the file (lower case) -> name in ``montage``
    described: str  # one line for the run's notes


CapDetector = Callable[[list[str]], "CapLayout | None"]
CAP_LAYOUTS: Registry[CapDetector] = Registry("EEG cap layout")

# BCI IV 2a: the file's numbers -> 10-20 names (22 channels, 3.5 cm apart, over motor cortex)
BCI_IV_2A_NUMBERS = (
    "FC3", "FC1", "FCz", "FC2", "FC4",
    "C5", "C1", "C2", "C6",
    "CP3", "CP1", "CPz", "CP2", "CP4",
    "P1", "P2", "POz",
)  # fmt: skip
BCI_IV_2A_NAMED = ("fz", "c3", "cz", "c4", "pz")


def bci_iv_2a_layout(names: list[str]) -> CapLayout | None:
    """The layout when at least three numbered names, all in 0–16, stand beside at least three
    of 2a's five named electrodes and no other electrode (non-EEG channels aside), so a plain
    numbered recording is not mistaken for it."""
    numbered = [n for n in names if n.isdigit()]
    named = {n.lower() for n in names if not n.isdigit()}
    if len(numbered) < 3 or len(set(numbered)) != len(numbered):
        return None
    if any(int(n) >= len(BCI_IV_2A_NUMBERS) for n in numbered):
        return None
    if len(named & set(BCI_IV_2A_NAMED)) < 3:
        return None
    if any(known_electrode(n) for n in named - set(BCI_IV_2A_NAMED)):
        return None
    mapping = {n: BCI_IV_2A_NUMBERS[int(n)] for n in numbered}
    return CapLayout(
        "auto",
        mapping,
        "numbered channels placed as in BCI Competition IV 2a (EEG-0 = FC3 … EEG-16 = POz; "
        "give data.ch_names if your cap differs)",
    )


def biosemi_layout(names: list[str]) -> CapLayout | None:
    """The layout when the bank-style names are exactly one BioSemi cap's."""
    found = biosemi_names(names)
    if found is None:
        return None
    montage, mapping = found
    return CapLayout(
        montage, mapping, f"BioSemi {len(mapping)}-channel cap names placed by MNE's {montage}"
    )


CAP_LAYOUTS.add("bci_iv_2a", bci_iv_2a_layout)
CAP_LAYOUTS.add("biosemi", biosemi_layout)


def detect_cap_layout(names: list[str]) -> CapLayout | None:
    """The first known cap whose naming ``names`` follow, or None."""
    for kind in CAP_LAYOUTS:
        layout = CAP_LAYOUTS.get(kind)(names)
        if layout is not None:
            return layout
    return None
