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

from omnijepa.data.class_folders import FolderListing, list_class_folder
from omnijepa.data.numeric_csv import is_number, read_text
from omnijepa.data.numpy_files import check_float32_range, read_npy
from omnijepa.errors import DataError
from omnijepa.registry import Registry

PointReader = Callable[[Path, int, np.random.Generator], np.ndarray]

POINT_READERS: Registry[PointReader] = Registry("point file suffix")
MIN_DISTINCT = 4  # fewer points cannot span 3-D: normalised, the cloud says nothing


def _reason(exc: BaseException) -> str:
    """The first line of an exception, for a one-line error message."""
    text = str(exc).strip().splitlines()
    first = text[0][:200] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _read_mesh(path: Path, num_points: int, rng: np.random.Generator) -> np.ndarray:
    """Surface samples of a mesh with faces, else the vertices of whatever the file holds."""
    import trimesh

    if path.stat().st_size == 0:
        raise DataError(f"{path}: empty file")
    try:
        loaded = trimesh.load(path, force=None, process=False)  # processing drops NaN vertices
        geoms = loaded.dump() if isinstance(loaded, trimesh.Scene) else [loaded]
    except Exception as exc:  # trimesh raises many types on malformed input
        raise DataError(f"cannot read {path}: {_reason(exc)}") from None
    meshes = [g for g in geoms if isinstance(g, trimesh.Trimesh) and len(g.faces) > 0]
    if any(not np.isfinite(m.vertices).all() for m in meshes):
        raise DataError(f"{path}: vertex coordinates contain NaN or infinity")
    meshes = [m for m in meshes if m.area > 0]
    if meshes:
        mesh = meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)
        points, _ = trimesh.sample.sample_surface(mesh, num_points, seed=rng)
        return np.asarray(points)
    vertices = [np.asarray(g.vertices) for g in geoms if getattr(g, "vertices", None) is not None]
    vertices = [v.reshape(-1, v.shape[-1]) for v in vertices if v.size]
    if not vertices:
        raise DataError(f"{path}: no faces and no vertices (empty or unrecognised file)")
    return np.concatenate([v[:, :3] for v in vertices])


def _decimal_commas(lines: list[str]) -> bool:
    """Whether the commas of these lines are decimal commas (``0,126 -0,132 0,640``: cells
    split by spaces or semicolons, no decimal points) rather than separators (``0.1,0.2,0.3``)."""
    sample = [ln for ln in lines if "," in ln][-3:]  # data rows, past any header
    if not sample or any("." in ln for ln in sample):
        return False
    cells = [ln.replace(";", " ").split() for ln in sample]
    return all(len(c) >= 3 and all(is_number(t.replace(",", ".")) for t in c) for c in cells)


def _read_text(path: Path, num_points: int, rng: np.random.Generator) -> np.ndarray:
    """The first 3 numeric columns of a text file whose cells are split by whitespace, commas
    or semicolons (decimal commas allowed, as European locales write them)."""
    text = read_text(path, "x y z rows")
    lines = [ln.split("#", 1)[0] for ln in text.splitlines()]
    comma = "." if _decimal_commas(lines) else " "
    rows = []
    for line in lines:
        tokens = line.replace(",", comma).replace(";", " ").split()
        if tokens:
            rows.append(tokens)
    if rows and len(rows[0]) == 1 and rows[0][0].isdigit():
        rows = rows[1:]  # point-count header (common in .pts files)
    if rows and not all(map(is_number, rows[0])):
        rows = rows[1:]  # a column-name header such as "x y z"
    if not rows:
        raise DataError(f"{path}: empty file (no point rows)")
    narrow = min(len(r) for r in rows)
    if narrow < 3:
        raise DataError(f"{path}: need at least 3 columns (x y z), found a row with {narrow}")
    bad = next((k for k, r in enumerate(rows) if not all(map(is_number, r[:3]))), None)
    if bad is not None:
        raise DataError(f"{path}: non-numeric value in point row {bad + 1}: {' '.join(rows[bad])}"
                        [:300])  # fmt: skip
    return np.array([r[:3] for r in rows], dtype=np.float64)


def _read_npy(path: Path, num_points: int, rng: np.random.Generator) -> np.ndarray:
    """The first 3 columns of a numeric (N, >=3) .npy array."""
    arr = read_npy(path, "a point cloud (N, >=3)")
    if arr.dtype.kind not in "iuf":
        raise DataError(f"{path}: expected a numeric array, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise DataError(f"{path}: expected an (N, >=3) array of points, got shape {arr.shape}")
    if arr.shape[0] == 3 and arr.shape[1] > 3:  # saved as (3, N)?
        raise DataError(
            f"{path}: shape {arr.shape} looks saved coordinates-first; points go in rows, "
            f"(N, 3): transpose it (arr.T)"
        )
    return arr[:, :3].astype(np.float64)


for _suffix in (".ply", ".off", ".obj", ".stl"):
    POINT_READERS.add(_suffix, _read_mesh)
for _suffix in (".xyz", ".txt", ".pts"):
    POINT_READERS.add(_suffix, _read_text)
POINT_READERS.add(".npy", _read_npy)


def resample(points: np.ndarray, num_points: int, rng: np.random.Generator) -> np.ndarray:
    """Exactly ``num_points`` rows: a random subset if there are enough, else every point
    once (shuffled) and random repeats to fill up."""
    n = len(points)
    if n >= num_points:
        return points[rng.choice(n, size=num_points, replace=False)]
    order = np.concatenate([rng.permutation(n), rng.choice(n, size=num_points - n)])
    return points[order]


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
    distinct = len(np.unique(points, axis=0))
    if distinct < MIN_DISTINCT:
        raise DataError(
            f"{path}: only {distinct} distinct point(s); a cloud needs at least {MIN_DISTINCT} "
            "(degenerate mesh, or a file of repeated rows?)"
        )
    return resample(points, num_points, rng).astype(np.float32)


def is_prose(path: Path) -> bool:
    """A ``.txt`` note (a README, a licence) rather than point rows: none of its first lines
    holds 3 numbers. ``.txt`` is both a point format and the usual suffix of notes."""
    if path.suffix.lower() != ".txt":
        return False
    with path.open("rb") as f:
        head = f.read(8192).decode("utf-8", errors="replace")
    for line in head.splitlines()[:50]:
        tokens = line.split("#", 1)[0].replace(",", " ").replace(";", " ").split()
        if sum(map(is_number, tokens)) >= 3:
            return False
    return bool(head.strip())


def scan_point_folder(root: Path) -> FolderListing:
    """Point files with labels (``class_folders.list_class_folder``): a sub-folder per class
    (searched recursively, sorted by name), a train/test split layout (ModelNet's
    ``CLASS/train``, ``CLASS/test``), or a flat folder of unlabeled files (label -1). Notes
    (``is_prose``) are left out with a warning naming them."""
    listing = list_class_folder(root, POINT_READERS.names(), "point")
    notes = [k for k, f in enumerate(listing.files) if is_prose(f)]
    if not notes:
        return listing
    warnings.warn(
        f"{root}: {len(notes)} .txt file(s) without point rows left out as notes (e.g. "
        f"{listing.files[notes[0]].relative_to(root)})",
        stacklevel=3,
    )
    keep = np.setdiff1d(np.arange(len(listing.files)), notes)
    if not len(keep):
        raise DataError(f"no point files found in {root}: its .txt files hold no x y z rows")
    is_test = None if listing.is_test is None else listing.is_test[keep]
    return FolderListing([listing.files[k] for k in keep], listing.labels[keep],
                         listing.classes, is_test)  # fmt: skip


def load_point_folder(
    root: str | Path, num_points: int, seed: int
) -> tuple[np.ndarray, FolderListing]:
    """Every point file under ``root``: points (n, P, 3) float32 and the folder's listing
    (labels (n,) int64, classes, and its own train/test split where it has one).

    One sub-folder per class (sorted names give label ids 0..K-1; class folders without
    supported files are skipped with a warning). A flat folder of files is read as unlabeled:
    labels are all -1 and the class list is empty. Each file's sampling is seeded by ``seed``
    and its path relative to ``root``, so results do not depend on the other files.
    """
    root = Path(root).expanduser()
    listing = scan_point_folder(root)
    points = np.empty((len(listing.files), num_points, 3), dtype=np.float32)
    sparse: list[tuple[str, int]] = []
    for i, path in enumerate(listing.files):
        key = zlib.crc32(path.relative_to(root).as_posix().encode())
        points[i] = load_point_file(path, num_points, np.random.default_rng([seed % 2**63, key]))
        distinct = len(np.unique(points[i], axis=0))
        if distinct < num_points:
            sparse.append((path.name, distinct))
    if sparse:
        name, k = sparse[0]
        warnings.warn(
            f"{root}: {len(sparse)} file(s) hold fewer than data.num_points={num_points} "
            f"distinct points (e.g. {name}: {k}) and repeat points to fill the cloud",
            stacklevel=2,
        )
    return points, listing
