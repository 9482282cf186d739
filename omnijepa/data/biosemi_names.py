"""BioSemi caps name their electrodes by bank and number (``A1 … A32, B1 … B32``), not by the
10-20 system. ``A1``/``A2`` are also 10-20 names (the ear lobes), so such a recording read by
name alone would put two electrodes on the ears and lose the rest. A recording whose EEG
channels are exactly a BioSemi cap's bank names is placed by that cap's layout instead, as MNE
ships it (``biosemi16/32/64`` list their 10-20 names in bank order; ``biosemi128/160/256``
use the bank names themselves)."""

from __future__ import annotations

import re

from omnijepa.modalities.eeg import montage_names

BANK_NAME = re.compile(r"^([A-H])([1-9]|[12]\d|3[0-2])$", re.IGNORECASE)
CAP_SIZES = (16, 32, 64, 128, 160, 256)


def bank_names(n: int) -> list[str]:
    """The first ``n`` bank names in BioSemi's order: A1 … A32, B1 … B32, …"""
    return [f"{'ABCDEFGH'[i // 32]}{i % 32 + 1}" for i in range(n)]


def biosemi_names(names: list[str]) -> tuple[str, dict[str, str]] | None:
    """The cap's montage and each bank name's (lower case) name in it, when the bank-style
    ones among ``names`` are exactly a BioSemi cap's (in any order, other channels such as
    EXG1 or Status beside them); else None."""
    banks = {n.lower() for n in names if BANK_NAME.match(n)}
    if len(banks) not in CAP_SIZES:
        return None
    expected = bank_names(len(banks))
    if banks != {n.lower() for n in expected}:
        return None
    montage = f"biosemi{len(banks)}"
    targets = montage_names(montage)
    return montage, {b.lower(): t for b, t in zip(expected, targets)}
