"""Which events of a recording are classes.

A continuous recording is cut into one trial per event, labelled by the event's name, and
every event kind becomes a class unless ``data.events`` names the ones to keep. One convention
is followed without being asked: the GDF event table (BioSig's, used by the Graz BCI
recordings, e.g. BCI Competition IV 2a/2b) marks each trial's start (768) and its class cue
(769 left hand, 770 right hand, 771 foot, 772 tongue, 773–780 classes 5–12) beside events that
are not classes (rejected trials 1023, eye movements 1072, eyes open/closed 276/277, a new run
32766, an unknown cue 783). A recording holding a trial start and at least two cue codes keeps
the cues, with a note. A file with many event kinds otherwise says so, with their counts.
"""

from __future__ import annotations

from collections import Counter

from omnijepa.data.eeg_files import EEGTrials
from omnijepa.errors import DataError

GDF_TRIAL_START = "768"
GDF_CUES = {769: "left hand", 770: "right hand", 771: "foot", 772: "tongue"}
GDF_CUES |= {code: f"class {code - 768}" for code in range(773, 781)}
MANY_EVENT_KINDS = 4  # more classes than this from a file: say how to keep fewer


def _order(labels: set[str]) -> list[str]:
    """Numbers by value, then names."""
    return sorted(labels, key=lambda x: (not x.isdigit(), int(x) if x.isdigit() else 0, x))


def gdf_cues(labels: set[str], source: str) -> tuple[str, ...]:
    """The GDF class-cue codes among ``labels`` when they follow the GDF convention (event
    codes only, a trial start among them); else (). GDF codes without two class cues (a BCI
    IV 2a evaluation session marks every cue 783, "unknown": its labels ship apart) are one
    error, since trial starts and rejections are no classes."""
    if GDF_TRIAL_START not in labels or not all(lab.isdigit() for lab in labels):
        return ()
    cues = [lab for lab in _order(labels) if int(lab) in GDF_CUES]
    if len(cues) < 2:
        raise DataError(
            f"{source}: its events are GDF event codes ({', '.join(_order(labels))}) with "
            f"{'no class cue' if not cues else 'one class cue'} (769–780): 768 marks trial "
            "starts, 783 an unknown cue (an evaluation session, whose labels ship apart); give "
            "the labels as an .npz or name the events that are classes with data.events=[...]"
        )
    return tuple(cues)


def select_events(
    parts: dict[str, EEGTrials], events: tuple[str, ...], source: str
) -> tuple[dict[str, EEGTrials], list[str]]:
    """Each part with only the trials whose label is a class (``events``, else the GDF cues,
    else every label), and the notes that choice needs."""
    found = Counter(lab for p in parts.values() for lab in p.labels)
    missing = [e for e in events if e not in found]
    if missing:
        raise DataError(
            f"{source}: data.events names {', '.join(missing)}, which no trial carries; "
            f"its events are {', '.join(_order(set(found)))}"
        )
    notes = []
    if not events:
        events = gdf_cues(set(found), source)
        if events:
            named = ", ".join(f"{e} ({GDF_CUES[int(e)]})" for e in events)
            left = ", ".join(_order(set(found) - set(events)))
            notes.append(
                f"GDF event codes: the class cues {named} are the classes; the other events "
                f"({left}) are not (data.events=[...] chooses others)"
            )
        elif len(found) > MANY_EVENT_KINDS:
            kinds = ", ".join(f"{c} ({found[c]})" for c in _order(set(found)))
            notes.append(
                f"{len(found)} classes, one per event kind: {kinds}; keep the ones that are "
                "classes with data.events=[A,B,...]"
            )
    if not events:
        return parts, notes
    out = {}
    for name, p in parts.items():
        out[name] = p.subset([i for i, lab in enumerate(p.labels) if lab in events])
    return out, notes
