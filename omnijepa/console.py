"""How the library talks on the console outside its results: warnings as one line each."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator


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
