"""A user's ``.npy`` / ``.npz`` files, read once for every loader: whatever is wrong with one
(not a numpy file, truncated, empty, an ``.npz`` archive under an ``.npy`` name, object arrays,
a missing array) is one :class:`DataError` naming the file, never a traceback from numpy."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np

from omnijepa.errors import DataError

# what np.load raises on damaged or foreign files (BadZipFile and EOFError are not ValueErrors)
READ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile)


def _reason(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__


def read_npy(path: Path, what: str) -> np.ndarray:
    """The array in ``path``; ``what`` says what it should hold, for the error."""
    try:
        arr = np.load(path, allow_pickle=False)
    except READ_ERRORS as exc:
        raise DataError(f"cannot read {path} as {what}: {_reason(exc)}") from None
    if not isinstance(arr, np.ndarray):  # np.load opens an .npz archive whatever its name
        arr.close()
        raise DataError(f"{path} is an .npz archive, not one .npy array ({what})")
    return arr


def text(value: object) -> str:
    """A name or label as text: bytes (an ``S`` array, as h5py and MATLAB exports give) are
    decoded rather than written ``b'Fz'``."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def read_npz(path: Path, what: str, required: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Every array of the archive ``path`` by name; ``required`` names must be among them."""
    try:
        z = np.load(path, allow_pickle=False)
    except READ_ERRORS as exc:
        raise DataError(f"cannot read {path} as {what}: {_reason(exc)}") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise DataError(f"{path} is one .npy array, not an .npz archive ({what})")
    with z:
        missing = [k for k in required if k not in z.files]
        if missing:
            raise DataError(
                f"{path}: missing array(s) {missing}; {what} holds {list(required)} "
                f"(found {z.files})"
            )
        out = {}
        for k in z.files:
            try:
                out[k] = z[k]
            except READ_ERRORS as exc:
                if "allow_pickle" in str(exc):  # unpickling a file can run code: never done
                    raise DataError(
                        f"{path}: array {k!r} was saved as Python objects (a list or pandas "
                        f"values); save it as text or numbers, e.g. np.asarray({k}, dtype=str)"
                    ) from None
                raise DataError(f"cannot read {path} as {what}: {_reason(exc)}") from None
        return out


def read_mat(path: Path, what: str, required: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The variables of a MATLAB file (v4-v7.2) by name; ``required`` names must be among
    them. A v7.3 file is HDF5, which scipy does not read: one error saying how to re-save it."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        z = loadmat(path, chars_as_strings=True)
    except NotImplementedError:
        raise DataError(
            f"{path} is a MATLAB v7.3 (HDF5) file; re-save it with save(..., '-v7') or as .npz"
        ) from None
    except (*READ_ERRORS, MatReadError, TypeError, IndexError) as exc:
        raise DataError(f"cannot read {path} as {what}: {_reason(exc)}") from None
    found = {k: np.asarray(v) for k, v in z.items() if not k.startswith("__")}
    missing = [k for k in required if k not in found]
    if missing:
        raise DataError(
            f"{path}: missing variable(s) {missing}; {what} holds {list(required)} "
            f"(found {sorted(found)})"
        )
    return found


def mat_strings(value: np.ndarray) -> tuple[str, ...]:
    """Names stored by MATLAB: a cell array of strings or a char matrix (one per row)."""
    arr = np.asarray(value)
    if arr.dtype.kind in "US":
        return tuple(str(v).strip() for v in arr.ravel())
    return tuple(str(np.asarray(c).ravel()[0]).strip() if np.asarray(c).size else ""
                 for c in arr.ravel())  # fmt: skip


def positive_scalar(value: np.ndarray, name: str, path: Path) -> float:
    """A stored scalar such as a sampling rate: one finite number > 0."""
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "iuf":
        raise DataError(f"{path}: {name} must be one number, got {arr.dtype} of shape {arr.shape}")
    out = float(arr.reshape(()))
    if not (math.isfinite(out) and out > 0):
        raise DataError(f"{path}: {name} must be a positive number, got {out}")
    return out


def check_float32_range(x: np.ndarray, where: str, what: str = "values") -> None:
    """Finite ``x`` must also fit float32, which every tensor here is stored as."""
    top = float(np.abs(x).max()) if x.size else 0.0
    if top > 1e30:
        raise DataError(f"{where}: {what} up to {top:.3g}; rescale them (they overflow float32)")


def label_vector(y: np.ndarray, n: int, path: Path) -> np.ndarray:
    """Stored labels as one per item: ``(n,)``, or an ``(n, 1)`` column; no missing (NaN)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != n:
        raise DataError(f"{path}: y has shape {y.shape}; it needs one label per item ({n},)")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise DataError(f"{path}: y holds {int(np.isnan(y).sum())} missing (NaN) label(s)")
    return y


__all__ = [
    "READ_ERRORS",
    "check_float32_range",
    "label_vector",
    "positive_scalar",
    "read_npy",
    "read_npz",
]
