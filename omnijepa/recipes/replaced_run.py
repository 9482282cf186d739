"""``--overwrite`` without loss: the old run waits aside until the new one can stand in for it.

The old run's files move into a hidden folder inside the run directory when the new run
starts. If the new run fails before its first checkpoint (a setting only the trainer can
refuse, a loss that diverges at step 1, Ctrl-C), the old files come back and the new ones go;
once the new run has a checkpoint (it can be resumed) the old files are deleted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

ASIDE = ".replaced-run"


def set_aside(out: Path) -> Path:
    """Move everything in ``out`` into ``out/.replaced-run`` (emptied first: a folder left by
    a run that was killed outright held the run it had itself replaced) and return it."""
    aside = out / ASIDE
    if aside.exists():
        shutil.rmtree(aside)
    aside.mkdir()
    for path in out.iterdir():
        if path.name != ASIDE:
            path.rename(aside / path.name)
    return aside


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def restore(out: Path, aside: Path) -> None:
    """Put the old run back as it was: the new run's files go, the set-aside ones return."""
    for path in out.iterdir():
        if path.name != ASIDE:
            _remove(path)
    for path in aside.iterdir():
        path.rename(out / path.name)
    aside.rmdir()


def discard(aside: Path) -> None:
    """The new run stands: the old files are deleted."""
    shutil.rmtree(aside, ignore_errors=True)
