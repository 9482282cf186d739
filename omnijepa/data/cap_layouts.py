"""Caps whose files do not carry 10-20 names, recognised by the names they do carry.

A detector looks at a recording's cleaned channel names and, when they are exactly one known
cap's, says where each sits: the montage to read and each name's name in it. Three are known:

- BioSemi caps (``A1 … A32, B1 …``; ``biosemi_names``), whose ``A1``/``A2`` would otherwise
  land on the ear lobes;
- BCI Competition IV 2a's GDF files (BNCI2014-001, the most used motor-imagery set), which
  name 5 electrodes (``EEG-Fz``, ``EEG-C3``, ``EEG-Cz``, ``EEG-C4``, ``EEG-Pz``) and number the
  other 17 (``EEG-0`` … ``EEG-16``); the numbers follow the dataset's description
  (desc_2a.pdf, Fig. 3), row by row from the front;
- EGI's Geodesic Sensor Nets (``E1 … E128``; the vertex reference ``E129``, ``VREF`` or
  ``Cz``), placed by the smallest of MNE's GSN HydroCel montages (32, 64, 128, 256) holding
  every number; 10-20 reading would fail on every name.

Detectors run only with ``data.montage=auto``; ``data.ch_names`` always overrides the file.
"""

from __future__ import annotations

import re
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


EGI_NAME = re.compile(r"^E([1-9]\d{0,2})$", re.IGNORECASE)
EGI_REFERENCE = ("vref", "cz")
# net size -> the GSN HydroCel montage with that many numbered electrodes plus the vertex (Cz)
GSN_MONTAGES = {
    32: "GSN-HydroCel-32", 64: "GSN-HydroCel-65_1.0",
    128: "GSN-HydroCel-129", 256: "GSN-HydroCel-257",
}  # fmt: skip


def egi_layout(names: list[str]) -> CapLayout | None:
    """The layout when at least 8 channels are named ``E<n>`` (each once) and every other
    known electrode among ``names`` is the net's vertex reference."""
    numbers = [int(m.group(1)) for n in names if (m := EGI_NAME.match(n))]
    others = {n.lower() for n in names if not EGI_NAME.match(n)}
    if len(numbers) < 8 or len(set(numbers)) != len(numbers):
        return None
    if any(known_electrode(n) for n in others - set(EGI_REFERENCE)):
        return None
    size = next((s for s in GSN_MONTAGES if max(numbers) <= s + 1), None)
    if size is None:
        return None
    mapping = {f"e{k}": f"E{k}" for k in numbers if k <= size}
    mapping |= {"e" + str(size + 1): "Cz"} if size + 1 in numbers else {}
    mapping |= {r: "Cz" for r in EGI_REFERENCE if r in others}
    montage = GSN_MONTAGES[size]
    return CapLayout(montage, mapping, f"EGI net names (E1 …) placed by MNE's {montage}")


CAP_LAYOUTS.add("bci_iv_2a", bci_iv_2a_layout)
CAP_LAYOUTS.add("biosemi", biosemi_layout)
CAP_LAYOUTS.add("egi", egi_layout)


def detect_cap_layout(names: list[str]) -> CapLayout | None:
    """The first known cap whose naming ``names`` follow, or None."""
    for kind in CAP_LAYOUTS:
        layout = CAP_LAYOUTS.get(kind)(names)
        if layout is not None:
            return layout
    return None
