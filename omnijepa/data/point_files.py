"""User point-cloud files and folders, read into fixed-size (P, 3) float32 clouds.

Readers are registered by file suffix in ``POINT_READERS``:

- ``.ply .off .obj .stl`` (trimesh): a mesh with faces has its surface sampled by area
  (seeded); a point cloud, or a mesh without faces, gives its vertices;
- ``.xyz .txt .pts``: text with at least 3 numeric columns (whitespace or comma separated,
  ``#`` comments and blank lines skipped, a single-integer point-count header line allowed);
  the first 3 columns are x, y, z;
- ``.npy``: a numeric (N, >=3) array; the first 3 columns are x, y, z.

Every cloud is then resampled to exactly ``num_points`` (without replacement when the file
has enough points, with replacement otherwise). Anything wrong with a file raises a one-line
``DataError`` naming the file.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from omnijepa.data.numpy_files import check_float32_range, read_npy
from omnijepa.errors import DataError
from omnijepa.registry import Registry

PointReader = Callable[[Path, int, np.random.Generator], np.ndarray]

POINT_READERS: Registry[PointReader] = Registry("point file suffix")


def _reason(exc: BaseException) -> str:
    """The first line of an exception, for a one-line error message."""
    text = str(exc).strip().splitlines()
    first = text[0][:200] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _read_mesh(path: Path, num_points: int, rng: np.random.Generator) -> np.ndarray:
    """Surface samples of a mesh with faces, else the vertices of whatever the file holds."""
    import trimesh

    try:
        loaded = trimesh.load(path, force=None)
        geoms = loaded.dump() if isinstance(loaded, trimesh.Scene) else [loaded]
    except Exception as exc:  # trimesh raises many types on malformed input
        raise DataError(f"cannot read {path}: {_reason(exc)}") from None
    meshes = [g for g in geoms if isinstance(g, trimesh.Trimesh) and len(g.faces) > 0]
    meshes = [m for m in meshes if np.isfinite(m.vertices).all() and m.area > 0]
    if meshes:
        mesh = meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)
        points, _ = trimesh.sample.sample_surface(mesh, num_points, seed=rng)
        return np.asarray(points)
    vertices = [np.asarray(g.vertices) for g in geoms if getattr(g, "vertices", None) is not None]
    vertices = [v.reshape(-1, v.shape[-1]) for v in vertices if v.size]
    if not vertices:
        raise DataError(f"{path}: no faces and no vertices (empty or unrecognised file)")
    return np.concatenate([v[:, :3] for v in vertices])


def _read_text(path: Path, num_points: int, rng: np.random.Generator) -> np.ndarray:
    """The first 3 numeric columns of a whitespace- or comma-separated text file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {_reason(exc)}") from None
    rows = []
    for line in text.replace(",", " ").splitlines():
        tokens = line.split("#", 1)[0].split()
        if tokens:
            rows.append(tokens)
    if rows and len(rows[0]) == 1 and rows[0][0].isdigit():
        rows = rows[1:]  # point-count header (common in .pts files)
    if not rows:
        raise DataError(f"{path}: empty file (no point rows)")
    narrow = min(len(r) for r in rows)
    if narrow < 3:
        raise DataError(f"{path}: need at least 3 columns (x y z), found a row with {narrow}")
    try:
        return np.array([r[:3] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: non-numeric value ({_reason(exc)})") from None


def _read_npy(path: Path, num_points: int, rng: np.random.Generator) -> np.ndarray:
    """The first 3 columns of a numeric (N, >=3) .npy array."""
    arr = read_npy(path, "a point cloud (N, >=3)")
    if arr.dtype.kind not in "iuf":
        raise DataError(f"{path}: expected a numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise DataError(f"{path}: expected an (N, >=3) array of points, got shape {arr.shape}")
    if 0 < arr.shape[0] < arr.shape[1]:  # fewer points than coordinates: saved as (3, N)?
        raise DataError(
            f"{path}: shape {arr.shape} has fewer points than columns; points go in rows, "
            f"(N, 3): transpose it (arr.T)"
        )
    return arr[:, :3].astype(np.float64)


for _suffix in (".ply", ".off", ".obj", ".stl"):
    POINT_READERS.add(_suffix, _read_mesh)
for _suffix in (".xyz", ".txt", ".pts"):
    POINT_READERS.add(_suffix, _read_text)
POINT_READERS.add(".npy", _read_npy)


def is_point_file(path: Path) -> bool:
    """A visible regular file whose suffix (any case) has a registered reader."""
    return path.suffix.lower() in POINT_READERS and not path.name.startswith(".") and path.is_file()


def resample(points: np.ndarray, num_points: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``num_points`` rows: a random subset if there are enough, else with repeats."""
    replace = len(points) < num_points
    return points[rng.choice(len(points), size=num_points, replace=replace)]


def load_point_file(path: str | Path, num_points: int, rng: np.random.Generator) -> np.ndarray:
    """Read one point file into a (num_points, 3) float32 cloud; DataError on any problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in POINT_READERS:
        valid = ", ".join(POINT_READERS.names())
        raise DataError(f"{path}: unsupported point file type {suffix or '(none)'!r}; use {valid}")
    if not path.is_file():
        raise DataError(f"point file not found: {path}")
    points = POINT_READERS.get(suffix)(path, num_points, rng)
    if points.ndim != 2 or len(points) == 0:
        raise DataError(f"{path}: no points")
    if not np.isfinite(points).all():
        raise DataError(f"{path}: coordinates contain NaN or infinity")
    check_float32_range(points, str(path), "coordinates")
    return resample(points, num_points, rng).astype(np.float32)


def scan_point_folder(root: Path) -> tuple[list[Path], np.ndarray, list[str]]:
    """Point files with labels: sub-folders (searched recursively) are classes, sorted by name;
    with no class sub-folder holding files, the folder's own files are unlabeled (label -1)."""
    if not root.exists():
        raise DataError(f"point folder not found: {root}")
    if not root.is_dir():
        raise DataError(f"point folder path is not a directory: {root}")
    files: list[Path] = []
    labels: list[int] = []
    classes: list[str] = []
    empty: list[str] = []
    for d in sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")):
        found = sorted(p for p in d.rglob("*") if is_point_file(p))
        if found:
            files += found
            labels += [len(classes)] * len(found)
            classes.append(d.name)
        else:
            empty.append(d.name)
    loose = sorted(p for p in root.iterdir() if is_point_file(p))
    if classes:
        if empty:
            warnings.warn(
                f"{root}: skipping class folders without point files: {empty}", stacklevel=3
            )
        if loose:
            warnings.warn(
                f"{root}: ignoring {len(loose)} point files outside the class sub-folders",
                stacklevel=3,
            )
        return files, np.asarray(labels, dtype=np.int64), classes
    if not loose:
        exts = ", ".join(POINT_READERS.names())
        raise DataError(
            f"no point files found in {root}: looked for {exts} files (any case) in it, "
            "or in one sub-folder per class"
        )
    return loose, np.full(len(loose), -1, dtype=np.int64), []


def load_point_folder(
    root: str | Path, num_points: int, seed: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every point file under ``root``: points (n, P, 3) float32, labels (n,) int64, classes.

    One sub-folder per class (sorted names give label ids 0..K-1; class folders without
    supported files are skipped with a warning). A flat folder of files is read as unlabeled:
    labels are all -1 and the class list is empty. Each file's sampling is seeded by ``seed``
    and its path relative to ``root``, so results do not depend on the other files.
    """
    root = Path(root).expanduser()
    files, labels, classes = scan_point_folder(root)
    points = np.empty((len(files), num_points, 3), dtype=np.float32)
    for i, path in enumerate(files):
        key = zlib.crc32(path.relative_to(root).as_posix().encode())
        points[i] = load_point_file(path, num_points, np.random.default_rng([seed % 2**63, key]))
    return points, labels, classes
