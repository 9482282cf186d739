"""Where tar shards live: a local folder, or any URL fsspec understands (``s3://``, ``gs://``,
``https://``, ``hf://``, … with the matching fsspec backend installed, e.g. ``pip install
s3fs``; ``memory://`` in the tests). The shard reader sees only this interface, so streaming
from object storage is the same code as reading from disk: the tar headers are read once, then
each sample is one ranged read (a seek and a read on an fsspec file).

Remote handles are opened once per shard and process and kept (a DataLoader worker opens its
own after unpickling), since a fresh connection per sample would dominate the read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from omnijepa.errors import DataError


def is_url(path: str) -> bool:
    """True for ``scheme://...`` paths (fsspec), False for local ones."""
    return "://" in path


class ShardStorage:
    """A folder of shards: list, open, read small files; ``root`` is a path or a URL."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/") if is_url(root) else str(Path(root).expanduser())
        self._fs: Any = None
        self._handles: dict[str, IO[bytes]] = {}
        self._pid = os.getpid()

    def _own_process(self) -> None:
        """Drop a filesystem and handles inherited through fork: DataLoader workers on Linux
        are forked, not pickled (``__getstate__`` never runs), and fsspec's async
        filesystems (s3, gs, https) refuse to be used from a forked child."""
        if self._pid != os.getpid():
            self._fs, self._handles, self._pid = None, {}, os.getpid()

    @property
    def fs(self) -> Any:
        """The fsspec filesystem of a URL root (DataError when its backend is missing)."""
        self._own_process()
        if self._fs is None:
            import fsspec

            try:
                self._fs = fsspec.url_to_fs(self.root)[0]
            except (ImportError, ValueError) as exc:
                raise DataError(f"cannot reach {self.root}: {exc}") from None
        return self._fs

    def shards(self) -> list[str]:
        """The ``*.tar`` files of the folder, sorted."""
        if not is_url(self.root):
            return [str(p) for p in sorted(Path(self.root).glob("*.tar"))]
        fs = self.fs
        try:
            found = fs.glob(f"{self.root}/*.tar")
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot list {self.root}: {exc}") from None
        return sorted(fs.unstrip_protocol(f) for f in found)

    def open(self, shard: str) -> IO[bytes]:
        """A binary file object on ``shard`` (fresh; the caller closes it)."""
        return open(shard, "rb") if not is_url(shard) else self.fs.open(shard, "rb")

    def read_range(self, shard: str, offset: int, size: int) -> bytes:
        """``size`` bytes of ``shard`` from ``offset``."""
        if not is_url(shard):
            with open(shard, "rb") as fh:
                fh.seek(offset)
                return fh.read(size)
        self._own_process()
        fh = self._handles.get(shard)
        if fh is None:
            fh = self._handles[shard] = self.fs.open(shard, "rb")
        fh.seek(offset)
        return fh.read(size)

    def read_text(self, name: str) -> str | None:
        """The text of ``root/name``, or None when absent."""
        path = f"{self.root}/{name}"
        if not is_url(self.root):
            return Path(path).read_text() if Path(path).is_file() else None
        return self.fs.cat_file(path).decode() if self.fs.exists(path) else None

    def __getstate__(self) -> dict[str, Any]:
        # workers reopen their own
        return {"root": self.root, "_fs": None, "_handles": {}, "_pid": os.getpid()}


__all__ = ["ShardStorage", "is_url"]
