"""Reader/writer for the IDX format used by (Fashion-)MNIST, gzip-compressed or plain.

Layout: magic bytes ``0, 0, dtype, ndim``, then ``ndim`` big-endian uint32 dims, then the
payload. Only dtype 0x08 (uint8) is supported, which is all the MNIST family uses.
"""

from __future__ import annotations

import gzip
import math
import struct
from pathlib import Path

import numpy as np

from omnijepa.errors import DataError

UINT8_CODE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzip detected from its magic bytes) into a uint8 array.

    Raises DataError naming the file if it is missing, corrupt, truncated or has trailing bytes.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == _GZIP_MAGIC:
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise DataError(f"IDX file not found: {path}") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"corrupt IDX file {path}: cannot decompress ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DataError(f"corrupt IDX file {path}: bad magic number {raw[:4].hex() or '(empty)'}")
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code != UINT8_CODE:
        raise DataError(f"unsupported IDX file {path}: dtype code 0x{dtype_code:02x}, want 0x08")
    if ndim == 0:
        raise DataError(f"corrupt IDX file {path}: zero dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"truncated IDX file {path}: header needs {header} bytes, got {len(raw)}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = math.prod(dims)
    got = len(raw) - header
    if got != expected:
        what = "truncated" if got < expected else "corrupt (trailing bytes)"
        raise DataError(
            f"{what} IDX file {path}: dims {dims} need {expected} payload bytes, found {got}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write a uint8 array as IDX; gzip-compressed when the name ends in ``.gz``."""
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8 or array.ndim == 0:
        raise ValueError(f"write_idx needs a uint8 array with >= 1 dim, got {array.dtype}")
    data = bytes([0, 0, UINT8_CODE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data += array.tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
