"""How the library talks on the console outside its results: warnings as one line each, said
once among sibling processes (a repro's workers, a torchrun job's ranks), and progress lines
for long work that has no bar of its own (the evaluation after training)."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

_PROGRESS: contextvars.ContextVar[bool] = contextvars.ContextVar("progress", default=True)
SAID_DIR_ENV = "OMNIJEPA_SAID_DIR"  # set by a repro for its workers: what they have said


def _siblings_said_dir() -> Path | None:
    """Where sibling processes note what they said: a repro's folder for its workers, or one
    per torchrun job and node (its run id and agent's pid); None for a lone process."""
    given = os.environ.get(SAID_DIR_ENV)
    if given:
        return Path(given)
    run_id = os.environ.get("TORCHELASTIC_RUN_ID")
    if run_id is None or "LOCAL_RANK" not in os.environ:
        return None  # a lone process: no /proc read on each warning
    agent = _agent_identity()
    if agent is None:
        return None
    tag = hashlib.sha1(f"{run_id}-{agent}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"omnijepa-said-{tag}"


def _agent_identity() -> str | None:
    """The torchrun agent (this rank's parent) as pid and start time, so a later job whose
    agent reuses the pid never finds this one's folder (and stays silent); None where the
    start time cannot be read (not Linux): every rank then speaks."""
    ppid = os.getppid()
    try:
        stat = Path(f"/proc/{ppid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return f"{ppid}-{fields[19]}" if len(fields) > 19 else None


def first_to_say(text: str) -> bool:
    """Whether this process is the first among its siblings to say ``text`` (always, for a
    lone process or where it cannot tell): six repro workers, or eight ranks meeting the same
    bad setting, print one line, not six or eight."""
    folder = _siblings_said_dir()
    if folder is None:
        return True
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha1(text.encode()).hexdigest()
        os.close(os.open(folder / key, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    except OSError:
        return True
    return True


@contextlib.contextmanager
def progress_lines(enabled: bool) -> Iterator[None]:
    """Within this block ``say`` prints only when ``enabled`` (``train.progress``): a repro's
    workers run with it off, so that their lines do not interleave."""
    token = _PROGRESS.set(enabled)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def say(text: str) -> None:
    """One progress line on stdout, unless progress lines are off here."""
    if _PROGRESS.get():
        print(text, flush=True)


_GLYPH = re.compile(r"^Glyph \d+ \(.*?\) missing from")


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Warnings as one line each on stderr (``omnijepa: warning: ...``; another library's
    named by its category), each text once per command (and once among sibling processes,
    ``first_to_say``): the evaluation warns about a thin split once, not once per feature set
    with a source line under each."""
    seen: set[str] = set()
    before = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        text = str(message).strip()
        key = _GLYPH.sub("Glyph missing from", text)  # matplotlib says each glyph apart
        if key in seen:
            return
        seen.add(key)
        if key != text:
            text += "; text in scripts the font lacks is drawn as boxes (other glyphs not listed)"
        if not first_to_say(f"warning: {text}"):
            return
        ours = f"{os.sep}omnijepa{os.sep}" in str(filename) and category is UserWarning
        head = "omnijepa: warning" if ours else f"warning ({category.__name__})"
        print(f"{head}: {text}", file=file or sys.stderr, flush=True)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = before
