"""Procedural 3-D shape classes and seeded point clouds sampled from their surfaces.

Every class in ``SHAPE_CLASSES`` is a function ``(rng) -> trimesh.Trimesh`` that builds one
mesh from trimesh primitives (or several of them concatenated), with proportions drawn from
``rng`` so instances of a class vary while classes stay distinct. Registered meshes are y-up
(the convention the point augmentations use), centred on their bounding box and scaled to
unit radius. ``sample_shape_cloud`` turns one into a (P, 3) float32 cloud: anisotropic scale
jitter, a random rotation (``ROTATIONS``), area-weighted surface sampling and Gaussian noise.
Everything is deterministic given the generator; ``make_shape_dataset`` with a ``cache_dir``
stores each configuration's clouds on disk, keyed by a hash of this generator's source.

``SHAPE_SETS`` names class lists: ``"primitives"`` (the 10 defaults), ``"all_primitives"`` (the
16 classes defined here) and ``"parts"`` (the harder classes built from shared parts in
``part_shapes``, which this module imports so they are always registered).
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path

import numpy as np
import trimesh
from trimesh.creation import annulus, box, capsule, cone, cylinder, icosphere, torus

from omnijepa.data import part_shapes as _part_shapes  # noqa: F401  (registers the parts set)
from omnijepa.data.npz_cache import cached_arrays, code_digest
from omnijepa.data.shape_registry import (
    ROTATIONS,
    SHAPE_CLASSES,
    SHAPE_SETS,
)
from omnijepa.data.shape_registry import register_shape as _register
from omnijepa.errors import ConfigError
from omnijepa.modalities.point_cloud import quaternion_rotation_entries

# The default 10 classes (what an empty ``classes`` list means): mutually distinct shapes.
DEFAULT_SHAPE_CLASSES = (
    "sphere",
    "box",
    "cylinder",
    "cone",
    "torus",
    "plate",
    "table",
    "mug",
    "dumbbell",
    "l_shape",
)


def _at(mesh: trimesh.Trimesh, x: float = 0.0, y: float = 0.0, z: float = 0.0) -> trimesh.Trimesh:
    mesh.apply_translation((x, y, z))
    return mesh


def _join(*meshes: trimesh.Trimesh) -> trimesh.Trimesh:
    return trimesh.util.concatenate(list(meshes))


# ---- primitives (built z-up; the registry wrapper turns them y-up) --------------------------


@_register("sphere")
def _sphere(rng: np.random.Generator) -> trimesh.Trimesh:
    """A round ball."""
    return icosphere(subdivisions=2, radius=1.0)


@_register("ellipsoid")
def _ellipsoid(rng: np.random.Generator) -> trimesh.Trimesh:
    """A sphere squashed clearly unequally along its three axes."""
    axes = rng.permutation([1.0, rng.uniform(0.45, 0.65), rng.uniform(0.2, 0.35)])
    mesh = icosphere(subdivisions=2, radius=1.0)
    mesh.apply_transform(np.diag([*axes, 1.0]))
    return mesh


@_register("box")
def _box(rng: np.random.Generator) -> trimesh.Trimesh:
    """A roughly cubic box."""
    return box(extents=rng.uniform(0.75, 1.25, 3))


@_register("plate")
def _plate(rng: np.random.Generator) -> trimesh.Trimesh:
    """A thin flat slab lying horizontally."""
    return box(extents=(1.0, rng.uniform(0.6, 1.0), rng.uniform(0.03, 0.08)))


@_register("cylinder")
def _cylinder(rng: np.random.Generator) -> trimesh.Trimesh:
    """An upright closed cylinder, taller than wide."""
    return cylinder(radius=rng.uniform(0.3, 0.45), height=rng.uniform(1.3, 2.0), sections=32)


@_register("cone")
def _cone(rng: np.random.Generator) -> trimesh.Trimesh:
    """An upright round cone."""
    return cone(radius=rng.uniform(0.5, 0.75), height=rng.uniform(1.1, 1.6), sections=32)


@_register("pyramid")
def _pyramid(rng: np.random.Generator) -> trimesh.Trimesh:
    """A square-based pyramid (a four-sided cone)."""
    return cone(radius=rng.uniform(0.6, 0.85), height=rng.uniform(0.9, 1.4), sections=4)


@_register("torus")
def _torus(rng: np.random.Generator) -> trimesh.Trimesh:
    """A horizontal doughnut."""
    return torus(1.0, rng.uniform(0.15, 0.3), major_sections=32, minor_sections=16)


@_register("capsule")
def _capsule(rng: np.random.Generator) -> trimesh.Trimesh:
    """An upright pill: a cylinder with hemispherical caps."""
    return capsule(height=rng.uniform(1.0, 1.8), radius=rng.uniform(0.25, 0.4), count=[16, 16])


@_register("ring")
def _ring(rng: np.random.Generator) -> trimesh.Trimesh:
    """A flat washer: an annulus with square edges."""
    r_min, height = rng.uniform(0.6, 0.8), rng.uniform(0.1, 0.3)
    return annulus(r_min=r_min, r_max=1.0, height=height, sections=32)


# ---- composites -------------------------------------------------------------------------------


@_register("table")
def _table(rng: np.random.Generator) -> trimesh.Trimesh:
    """A rectangular top on four legs."""
    w, d, h = rng.uniform(1.2, 1.6), rng.uniform(0.7, 1.0), rng.uniform(0.6, 0.9)
    top_t, leg = rng.uniform(0.04, 0.08), rng.uniform(0.06, 0.1)
    parts = [_at(box(extents=(w, d, top_t)), z=h + top_t / 2)]
    for sx in (-1, 1):
        for sy in (-1, 1):
            x, y = sx * (w / 2 - leg), sy * (d / 2 - leg)
            parts.append(_at(box(extents=(leg, leg, h)), x, y, h / 2))
    return _join(*parts)


@_register("mug")
def _mug(rng: np.random.Generator) -> trimesh.Trimesh:
    """An upright cylinder with a ring handle on one side."""
    r, h = rng.uniform(0.35, 0.45), rng.uniform(0.8, 1.1)
    handle = torus(rng.uniform(0.22, 0.3) * h, rng.uniform(0.03, 0.05), 24, 8)
    handle.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
    return _join(cylinder(radius=r, height=h, sections=32), _at(handle, x=r))


@_register("dumbbell")
def _dumbbell(rng: np.random.Generator) -> trimesh.Trimesh:
    """Two balls joined by a thin bar."""
    r, length = rng.uniform(0.3, 0.45), rng.uniform(1.4, 2.0)
    bar = cylinder(radius=rng.uniform(0.05, 0.09), height=length - 1.8 * r, sections=16)
    ends = [_at(icosphere(subdivisions=2, radius=r), z=s * length / 2) for s in (-1, 1)]
    return _join(bar, *ends)


@_register("l_shape")
def _l_shape(rng: np.random.Generator) -> trimesh.Trimesh:
    """An upright bar with a horizontal foot: an L."""
    t, tall, foot = rng.uniform(0.2, 0.3), rng.uniform(1.2, 1.6), rng.uniform(0.8, 1.2)
    upright = _at(box(extents=(t, t, tall)), z=tall / 2)
    base = _at(box(extents=(foot, t, t)), x=(foot - t) / 2, z=t / 2)
    return _join(upright, base)


@_register("cross")
def _cross(rng: np.random.Generator) -> trimesh.Trimesh:
    """A plus sign standing upright: two crossing square bars."""
    t, a, b = rng.uniform(0.15, 0.25), rng.uniform(1.4, 1.8), rng.uniform(1.0, 1.4)
    return _join(box(extents=(t, t, a)), _at(box(extents=(b, t, t)), z=rng.uniform(0.0, 0.25)))


@_register("hourglass")
def _hourglass(rng: np.random.Generator) -> trimesh.Trimesh:
    """Two cones meeting at their tips."""
    r, h = rng.uniform(0.5, 0.8), rng.uniform(0.7, 1.0)
    lower = _at(cone(radius=r, height=h, sections=32), z=-h)  # apex at the origin
    upper = lower.copy()
    upper.apply_transform(trimesh.transformations.rotation_matrix(np.pi, [1, 0, 0]))
    return _join(lower, upper)


# The 16 classes above (sorted), without the ones ``part_shapes`` adds.
ALL_PRIMITIVE_SHAPE_CLASSES = tuple(
    sorted(set(SHAPE_CLASSES.names()) - set(_part_shapes.PART_SHAPE_CLASSES))
)
SHAPE_SETS.add("primitives", DEFAULT_SHAPE_CLASSES)
SHAPE_SETS.add("all_primitives", ALL_PRIMITIVE_SHAPE_CLASSES)


# ---- rotations ------------------------------------------------------------------------------


@ROTATIONS.register("none")
def _no_rotation(rng: np.random.Generator) -> np.ndarray:
    """Identity: keep the canonical pose."""
    return np.eye(3)


@ROTATIONS.register("y")
def _y_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniform random turn about the vertical (y) axis."""
    a = rng.uniform(0.0, 2.0 * np.pi)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


@ROTATIONS.register("so3")
def _so3_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniform random rotation in SO(3) (from a normalised Gaussian quaternion)."""
    q = rng.standard_normal(4)
    return np.array(quaternion_rotation_entries(*(q / np.linalg.norm(q)))).reshape(3, 3)


# ---- sampling -------------------------------------------------------------------------------


def make_shape_mesh(name: str, rng: np.random.Generator) -> trimesh.Trimesh:
    """One random mesh of class ``name`` (y-up, centred, unit radius); ConfigError if unknown."""
    return SHAPE_CLASSES.get(name)(rng)


def sample_shape_cloud(
    name: str,
    rng: np.random.Generator,
    num_points: int,
    noise: float = 0.01,
    rotation: str = "y",
    scale_jitter: float = 0.2,
) -> np.ndarray:
    """A (num_points, 3) float32 cloud of one random ``name`` shape, deterministic given ``rng``.

    The mesh is stretched by a random factor in ``1 +- scale_jitter`` per axis, rotated per
    ``rotation`` ("y": about the vertical axis, "so3": any rotation, "none"), sampled
    uniformly by area, and perturbed with Gaussian noise of std ``noise`` (unit-radius units).
    """
    rotate = ROTATIONS.get(rotation)
    if num_points < 1:
        raise ConfigError(f"num_points must be >= 1, got {num_points}")
    mesh = make_shape_mesh(name, rng)
    points, _ = trimesh.sample.sample_surface(mesh, num_points, seed=rng)
    points = points * rng.uniform(1.0 - scale_jitter, 1.0 + scale_jitter, 3)
    points = points @ rotate(rng).T
    if noise > 0:
        points = points + rng.normal(0.0, noise, points.shape)
    return points.astype(np.float32)


def _class_rng(seed: int, name: str) -> np.random.Generator:
    """An independent generator per (seed, class), so a class's clouds do not depend on which
    other classes are asked for."""
    return np.random.default_rng([seed % 2**63, zlib.crc32(f"shape-{name}".encode())])


@functools.cache
def _generator_digest() -> str:
    """Source hash of everything that draws the shapes, plus the libraries it calls."""
    here = Path(__file__).parent
    files = [here / "point_shapes.py", here / "shape_registry.py", *here.glob("part_shapes/*.py")]
    return f"{code_digest(files)}-np{np.__version__}-trimesh{trimesh.__version__}"


def make_shape_dataset(
    classes: list[str] | None,
    n_per_class: int,
    num_points: int,
    seed: int,
    noise: float = 0.01,
    rotation: str = "y",
    shape_set: str = "primitives",
    cache_dir: str | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``n_per_class`` clouds per class: points (n, P, 3) float32, labels (n,) int64, names.
    With ``cache_dir`` (a folder, or "" for the default cache) they are generated once per
    machine and configuration and read back after (9 s to make the default 7,200 clouds, 0.3 s
    to read them; a repro's runs share their seed's clouds).

    ``classes`` None or empty means the ``SHAPE_SETS`` entry ``shape_set`` (by default
    ``DEFAULT_SHAPE_CLASSES``); labels index the list in the order given. Clouds are grouped
    by class (class-major order).
    """
    if cache_dir is not None:
        args = (list(classes or []), n_per_class, num_points, seed, noise, rotation, shape_set)

        def build() -> dict[str, np.ndarray]:
            points, labels, names = make_shape_dataset(*args)
            return {"points": points, "labels": labels, "names": np.array(names)}

        key = (_generator_digest(), args)
        z = cached_arrays("shapes", key, build, ("points", "labels", "names"), cache_dir)
        return z["points"], z["labels"], [str(n) for n in z["names"]]
    names = list(classes) if classes else list(SHAPE_SETS.get(shape_set))
    for name in names:
        SHAPE_CLASSES.get(name)  # unknown names -> ConfigError listing the valid ones
    ROTATIONS.get(rotation)
    if len(set(names)) != len(names):
        raise ConfigError(f"shape classes listed more than once: {names}")
    if n_per_class < 1:
        raise ConfigError(f"n_per_class must be >= 1, got {n_per_class}")
    points = np.empty((len(names) * n_per_class, num_points, 3), dtype=np.float32)
    for c, name in enumerate(names):
        rng = _class_rng(seed, name)
        for i in range(n_per_class):
            points[c * n_per_class + i] = sample_shape_cloud(
                name, rng, num_points, noise=noise, rotation=rotation
            )
    labels = np.repeat(np.arange(len(names), dtype=np.int64), n_per_class)
    return points, labels, names
