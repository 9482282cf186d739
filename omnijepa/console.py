"""How the library talks on the console outside its results: warnings as one line each, and
progress lines for long work that has no bar of its own (the evaluation after training)."""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import warnings
from collections.abc import Iterator

_PROGRESS: contextvars.ContextVar[bool] = contextvars.ContextVar("progress", default=True)


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


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Warnings as one line each on stderr (``omnijepa: warning: ...``; another library's
    named by its category), each text once per command: the evaluation warns about a thin
    split once, not once per feature set with a source line under each."""
    seen: set[str] = set()
    before = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        text = str(message).strip()
        if text in seen:
            return
        seen.add(text)
        ours = f"{os.sep}omnijepa{os.sep}" in str(filename) and category is UserWarning
        head = "omnijepa: warning" if ours else f"warning ({category.__name__})"
        print(f"{head}: {text}", file=file or sys.stderr, flush=True)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = before
