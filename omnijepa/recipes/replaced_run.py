"""``--overwrite`` without loss: the old run waits aside until the new one can stand in for it.

The old run's files move into a hidden folder inside the run directory when the new run
starts. If the new run fails before its first checkpoint (a setting only the trainer can
refuse, Ctrl-C) or diverges, the old files come back and the new ones go. Once the new run
has a checkpoint (it can be resumed) and ends, or finishes, it stands: the set-aside files it
wrote anew, and the old run's records, are deleted; anything else (a user's notes, an older
figure) comes back, as ``--overwrite`` always left such files in place.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from omnijepa.train.checkpoint import STATE_FILE

ASIDE = ".replaced-run"


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def interrupted(out: Path) -> bool:
    """An ``--overwrite`` was killed before its new run's first checkpoint: the run it was
    replacing still waits aside."""
    return (out / ASIDE).is_dir() and not (out / STATE_FILE).exists()


def set_aside(out: Path) -> Path:
    """Move everything in ``out`` into ``out/.replaced-run`` and return that folder. One
    already there was left by an ``--overwrite`` that was killed: if its new run never reached
    a checkpoint, what is aside is still the run to keep (and what is in ``out``, the dead
    run's first files, goes); otherwise the new run had replaced it."""
    aside = out / ASIDE
    if interrupted(out):
        for path in out.iterdir():
            if path.name != ASIDE:
                _remove(path)
        return aside
    if aside.exists():
        _remove(aside)
    aside.mkdir()
    for path in out.iterdir():
        if path.name != ASIDE:
            path.rename(aside / path.name)
    return aside


def restore(out: Path, aside: Path) -> None:
    """Put the old run back as it was: the new run's files go, the set-aside ones return."""
    for path in out.iterdir():
        if path.name != ASIDE:
            _remove(path)
    for path in aside.iterdir():
        path.rename(out / path.name)
    aside.rmdir()


def settle(out: Path, aside: Path, records: Iterable[str]) -> None:
    """The new run stands: set-aside files it has written anew and the old run's ``records``
    (results, state) are deleted; the others come back."""
    records = set(records)
    for path in aside.iterdir():
        target = out / path.name
        if path.name in records or target.exists() or target.is_symlink():
            _remove(path)
        else:
            path.rename(target)
    aside.rmdir()
