"""The shared vocabulary of parts: transformed copies of cached unit trimesh primitives (slabs,
posts, rods, balls, cones, tubes, tori), joined into one mesh without boolean operations."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import trimesh
from trimesh.creation import annulus, box, capsule, cone, cylinder, icosphere, torus

Part = tuple[np.ndarray, np.ndarray]  # vertices (V, 3) float64, faces (F, 3) int64
Vec = Sequence[float] | np.ndarray


# ---- parts: transformed copies of cached unit primitives ------------------------------------


def _ratio(x: float) -> float:
    """Round a shape ratio so a handful of cached templates cover every draw."""
    return max(0.02, round(float(x), 2))


@cache
def _template(kind: str, ratio: float = 0.0) -> Part:
    """Vertices and faces of one unit-size trimesh primitive (cached; never modified)."""
    if kind == "box":  # side 1, centred
        mesh = box(extents=(1.0, 1.0, 1.0))
    elif kind == "cylinder":  # radius 1, z in [-0.5, 0.5]
        mesh = cylinder(radius=1.0, height=1.0, sections=16)
    elif kind == "cone":  # base radius 1 at z = 0, apex at z = 1
        mesh = cone(radius=1.0, height=1.0, sections=24)
    elif kind == "ball":
        mesh = icosphere(subdivisions=2, radius=1.0)
    elif kind == "tube":  # open tube: outer radius 1, inner ``ratio``, z in [-0.5, 0.5]
        mesh = annulus(r_min=ratio, r_max=1.0, height=1.0, sections=24)
    elif kind == "capsule":  # radius ``ratio``, straight part z in [-0.5, 0.5]
        mesh = capsule(height=1.0, radius=ratio, count=[12, 12])
    elif kind in ("torus", "arc"):  # major radius 1 about z, minor ``ratio``
        mesh = torus(1.0, ratio, major_sections=24, minor_sections=8)
    else:
        raise ValueError(f"unknown part template {kind!r}")
    vertices, faces = np.asarray(mesh.vertices, float), np.asarray(mesh.faces, np.int64)
    if kind == "arc":  # keep the y >= 0 half, then stand it up: a half ring over the x axis
        faces = faces[(vertices[faces, 1] >= -1e-9).all(axis=1)]
        used, faces = np.unique(faces, return_inverse=True)
        vertices, faces = vertices[used] @ _rotation([1.0, 0.0, 0.0], np.pi / 2).T, faces
        faces = faces.reshape(-1, 3)
    vertices.flags.writeable = False
    faces.flags.writeable = False
    return vertices, faces


def _rotation(axis: Vec, angle: float) -> np.ndarray:
    """The 3x3 rotation by ``angle`` about ``axis``."""
    return trimesh.transformations.rotation_matrix(angle, axis)[:3, :3]


def _align(direction: Vec) -> np.ndarray:
    """A rotation taking +z onto ``direction``."""
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    c = float(d[2])
    if c < -1.0 + 1e-9:
        return np.diag([1.0, -1.0, -1.0])
    v = np.array([-d[1], d[0], 0.0])  # z x d
    k = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + k + k @ k / (1.0 + c)


def _place(
    kind: str,
    scale: Vec,
    at: Vec = (0.0, 0.0, 0.0),
    rot: np.ndarray | None = None,
    ratio: float = 0.0,
) -> Part:
    """A template scaled per axis, then rotated, then moved to ``at``."""
    vertices, faces = _template(kind, ratio)
    vertices = vertices * np.asarray(scale, float)
    if rot is not None:
        vertices = vertices @ rot.T
    return vertices + np.asarray(at, float), faces


def _slab(size: Vec, at: Vec, yaw: float = 0.0) -> Part:
    """A box of extents ``size`` centred at ``at``, turned by ``yaw`` about the vertical."""
    return _place("box", size, at, _rotation([0, 0, 1], yaw) if yaw else None)


def _rod(p0: Vec, p1: Vec, r: float) -> Part:
    """A round bar of radius ``r`` from ``p0`` to ``p1`` (legs, posts, rungs, discs)."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    return _place("cylinder", (r, r, np.linalg.norm(d)), (p0 + p1) / 2, _align(d))


def _post(r: float, z0: float, z1: float) -> Part:
    """An upright cylinder of radius ``r`` on the z axis from ``z0`` to ``z1`` (posts, discs)."""
    return _place("cylinder", (r, r, z1 - z0), (0.0, 0.0, (z0 + z1) / 2))


def _ball(radii: Vec, at: Vec) -> Part:
    """An axis-aligned ellipsoid."""
    return _place("ball", radii, at)


def _cone(r: float, base: Vec, apex: Vec) -> Part:
    """A cone of base radius ``r`` from the centre of its base to its apex."""
    base, apex = np.asarray(base, float), np.asarray(apex, float)
    d = apex - base
    return _place("cone", (r, r, np.linalg.norm(d)), base, _align(d))


def _tube(r_out: float, wall: float, z0: float, z1: float) -> Part:
    """An open upright tube (walls of thickness ``wall``) on the z axis from ``z0`` to ``z1``."""
    ratio = _ratio(1.0 - wall / r_out)
    return _place("tube", (r_out, r_out, z1 - z0), (0.0, 0.0, (z0 + z1) / 2), ratio=ratio)


def _ring(big: float, small: float, at: Vec, axis: Vec = (0.0, 0.0, 1.0)) -> Part:
    """A torus (rim, wheel, loop handle) of radii ``big``/``small`` about ``axis``."""
    return _place("torus", (big, big, big), at, _align(axis), _ratio(small / big))


def _arc(big: float, small: float, at: Vec, yaw: float = 0.0, down: bool = False) -> Part:
    """A half ring standing over ``at`` (hanging below it if ``down``), turned by ``yaw``."""
    rot = _rotation([0, 0, 1], yaw)
    if down:
        rot = rot @ np.diag([1.0, 1.0, -1.0])  # a mirror: fine for a surface to sample
    return _place("arc", (big, big, big), at, rot, _ratio(small / big))


def _capsule(r: float, p0: Vec, p1: Vec) -> Part:
    """A pill of radius ``r`` whose straight part runs from ``p0`` to ``p1``."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    length = float(np.linalg.norm(d))
    return _place("capsule", (length,) * 3, (p0 + p1) / 2, _align(d), _ratio(r / length))


def _mesh(parts: list[Part]) -> trimesh.Trimesh:
    """Concatenate parts into one (unprocessed) mesh."""
    offsets = np.cumsum([0] + [len(v) for v, _ in parts[:-1]])
    vertices = np.concatenate([v for v, _ in parts])
    faces = np.concatenate([f + o for (_, f), o in zip(parts, offsets)])
    return trimesh.Trimesh(vertices, faces, process=False)


def _legs(w: float, d: float, inset: float, z0: float, z1: float, r: float) -> list[Part]:
    """Four vertical square legs inset from the corners of a ``w`` x ``d`` rectangle."""
    return [
        _slab((r, r, z1 - z0), (sx * (w / 2 - inset), sy * (d / 2 - inset), (z0 + z1) / 2))
        for sx in (-1, 1)
        for sy in (-1, 1)
    ]


def _splayed(
    n: int, top: float, foot: float, z: float, r: float, phase: float, a: float, b: float
) -> list[Part]:
    """``n`` round legs of radius ``r`` from ``top`` times the ``a`` x ``b`` half-axes at height
    ``z`` out to ``foot`` times them on the floor."""
    legs = []
    for angle in phase + 2 * np.pi * np.arange(n) / n:
        c, s = a * np.cos(angle), b * np.sin(angle)
        legs.append(_rod((foot * c, foot * s, 0.0), (top * c, top * s, z), r))
    return legs
