"""Generated data cached on disk as one ``.npz`` per configuration, so a slow generator (a
simulator, a speech synthesiser) runs once per machine: ``~/.cache/omnijepa`` or the
``OMNIJEPA_CACHE`` folder. A damaged cache file is rebuilt; writes are atomic."""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

Arrays = dict[str, np.ndarray]


def cache_root(override: str = "") -> Path:
    """``override``, else $OMNIJEPA_CACHE, else ``~/.cache/omnijepa``."""
    default = os.path.expanduser("~/.cache/omnijepa")
    return Path(override or os.environ.get("OMNIJEPA_CACHE") or default).expanduser()


def code_digest(paths: Iterable[Path]) -> str:
    """A hash of the files' bytes: put it in a cache key so that editing a generator's source
    rebuilds what it made instead of reading stale arrays."""
    h = hashlib.sha1()
    for path in sorted(paths):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def cached_arrays(name: str, key: object, build: Callable[[], Arrays], keys: tuple[str, ...],
                  root: str = "") -> Arrays:  # fmt: skip
    """The arrays ``build()`` makes for ``key`` (any repr-stable object), read from
    ``<root>/<name>_<hash>.npz`` when it holds every name in ``keys``, else built and saved."""
    digest = hashlib.sha1(repr(key).encode()).hexdigest()[:12]
    path = cache_root(root) / f"{name}_{digest}.npz"
    if path.is_file():
        try:
            with np.load(path) as z:
                return {k: z[k] for k in keys}
        except (OSError, ValueError, KeyError):
            pass  # damaged: rebuilt below
    arrays = build()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only or mistyped cache folder costs time, not the run
        if tmp.parent.is_dir():
            tmp.unlink(missing_ok=True)
        warnings.warn(f"cannot write the cache file {path} ({exc}); the data was generated "
                      "and is used uncached", stacklevel=2)  # fmt: skip
    return arrays


__all__ = ["cache_root", "cached_arrays"]
