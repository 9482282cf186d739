"""Where a recording's channels sit on the head: names cleaned, plainly non-EEG channels
dropped, bipolar ``A-B`` midway between A and B, the names of a known cap that does not use
10-20 names by its layout (``cap_layouts``), nameless channels on a ring; names no montage
places are one error (or dropped on request)."""

from __future__ import annotations

import re

import numpy as np

from omnijepa.data.biosemi_names import BANK_NAME
from omnijepa.data.cap_layouts import detect_cap_layout
from omnijepa.errors import ConfigError, DataError
from omnijepa.modalities.eeg import electrode_positions, known_electrode

NOT_EEG = re.compile(
    r"eog|ecg|ekg|emg|resp|temp|event|sti\b|stim|status|trigger|marker|sao2|spo2|pulse|pleth|"
    r"light|photic|chin|^x\d+$|^exg\d+$|^gsr\d*$|^erg\d*$|^e[12]\s*-",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"^(eeg)[\s_:-]*", re.IGNORECASE)
_SUFFIX = re.compile(
    r"([-_\s]+(ref|le|ar|car|avg|m1m2|a1a2)|(?<=[a-z0-9])ref)$|\.+$", re.IGNORECASE
)
# second halves of ``X-R`` names that are a reference, not a bipolar partner: the ear lobes and
# mastoids (sleep and clinical EDF: ``C3-M2``, ``C4-A1``); such a channel sits at X
EAR_REFERENCES = ("a1", "a2", "m1", "m2")


def clean_channel_name(name: str) -> str:
    """``EEG Fp1-REF`` -> ``Fp1``; ``Fc5.`` -> ``Fc5``; other names unchanged (EGI's vertex
    reference ``VREF`` is a name, not ``V`` referenced)."""
    if name.strip().lower() == "vref":
        return name.strip()
    out = _SUFFIX.sub("", _PREFIX.sub("", name.strip())).strip()
    return out or name


def ring_positions(n: int) -> np.ndarray:
    """``n`` points evenly on a ring round the head (for channels without names)."""
    angle = 2 * np.pi * np.arange(n) / max(n, 1)
    return np.stack([np.sin(angle), np.cos(angle), np.zeros(n)], 1) * 0.9


def _naming_hint(missing: list[str]) -> str:
    """What the unplaced names look like, when most of them are of one recognisable kind."""
    banks = sum(bool(BANK_NAME.match(n)) for n in missing)
    numbers = sum(n.isdigit() for n in missing)
    if banks > len(missing) // 2:
        return (
            " (they look like BioSemi bank names, but not a whole 16/32/64/128/160/256-channel "
            "cap's A1, A2, …: give 10-20 names in data.ch_names or a data.montage)"
        )
    if numbers > len(missing) // 2:
        return " (numbered channels: give every channel's 10-20 name, in order, in data.ch_names)"
    return ""


def _common_reference(pairs: list[list[str]]) -> str:
    """The second half every ``A-B`` name shares (``Fp1-Cz``, ``F3-Cz`` …: a recording
    referenced to Cz, not a bipolar chain), lower-cased; '' when there are fewer than two such
    names or they differ."""
    seconds = {p[1].lower() for p in pairs if len(p) == 2}
    n_pairs = sum(len(p) == 2 for p in pairs)
    return seconds.pop() if n_pairs >= 2 and len(seconds) == 1 else ""


def place_channels(
    names: tuple[str, ...], n_channels: int, montage: str, unknown: str
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Positions of the channels kept, their indices in the recording, and notes.

    Plainly non-EEG channels are dropped; ``A-B`` sits midway between A and B, unless B is an
    ear or mastoid reference (``C3-M2``) or every pair's B (a common reference): then at A; a known
    cap's own names (BioSemi's A1 … B32, BCI IV 2a's EEG-0 …) are placed by its layout; unnamed
    channels go on a ring; other unknown names raise, or are dropped if ``unknown=drop``."""
    if unknown not in ("error", "drop"):
        raise ConfigError(f"data.unknown_channels={unknown!r}; use error or drop")
    if not names:
        note = f"no channel names: {n_channels} channels placed on a ring (give data.ch_names)"
        return ring_positions(n_channels), np.arange(n_channels), [note]
    if len(names) != n_channels:
        raise DataError(
            f"{len(names)} channel names ({', '.join(names[:4])}{', …' if len(names) > 4 else ''})"
            f" for recordings of {n_channels} channels (data.ch_names or the file's names)"
        )

    cleaned = [clean_channel_name(n) for n in names]
    cap = detect_cap_layout(cleaned) if montage == "auto" else None
    pairs = [[p for p in re.split(r"\s*-\s*", name) if p] for name in cleaned]
    common = _common_reference(pairs)
    keep, pos, dropped, missing, eared = [], [], [], [], []
    for i, (raw_name, name, split) in enumerate(zip(names, cleaned, pairs)):
        if cap is not None and name.lower() in cap.names:
            keep.append(i)
            pos.append(electrode_positions([cap.names[name.lower()]], cap.montage)[0])
            continue
        if len(split) == 2 and split[1].lower() in (*EAR_REFERENCES, common):
            if not common:
                eared.append(i)
            split = split[:1]  # referenced to an ear, a mastoid or every channel's reference
        parts = [name] if known_electrode(name, montage) else split
        if parts and all(known_electrode(p, montage) for p in parts):
            keep.append(i)
            pos.append(electrode_positions(parts, montage).mean(0))
        elif NOT_EEG.search(name):
            dropped.append(raw_name)
        else:
            missing.append(i)
    notes = [f"dropped non-EEG channels: {', '.join(dropped)}"] if dropped else []
    eared = [names[i] for i in eared if i in keep]
    if eared:
        notes.append(f"referenced to an ear or mastoid, placed at their first electrode: "
                     f"{', '.join(eared[:6])}{' …' if len(eared) > 6 else ''}")  # fmt: skip
    if common:
        notes.append(f"every named pair ends in -{common}, a common reference: each channel "
                     "sits at its first electrode")  # fmt: skip
    if cap is not None:
        notes.append(cap.described)
    unplaced = [names[i] for i in missing]
    if missing and (unknown == "error" or not keep):
        hint = _naming_hint([cleaned[i] for i in missing])
        raise DataError(
            f"channel name(s) {', '.join(unplaced[:8])} not found in montage {montage!r}{hint}; "
            "rename them, or pass data.unknown_channels=drop to leave them out"
        )
    if missing:
        notes.append(f"dropped channels with unknown positions: {', '.join(unplaced)}")
    if not keep:
        raise DataError("no EEG channel left to use")
    kept = [cleaned[i].lower() for i in keep]
    twice = sorted({names[i] for i, c in zip(keep, kept) if kept.count(c) > 1})
    if twice:
        raise DataError(f"EEG channel name(s) {', '.join(twice[:6])} appear more than once")
    at = np.stack(pos)
    spots: dict[tuple[float, ...], list[str]] = {}
    for i, p in zip(keep, at.round(6)):
        spots.setdefault(tuple(p), []).append(names[i])
    same = [" and ".join(group) for group in spots.values() if len(group) > 1]
    if same:  # T3 and T7: the old and new 10-20 names of one electrode
        notes.append(f"channels at one position: {'; '.join(same[:3])} (one electrode under "
                     "two names?)")  # fmt: skip
    return at, np.asarray(keep), notes
