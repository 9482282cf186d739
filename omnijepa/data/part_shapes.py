"""Harder procedural shape classes, each assembled from one shared vocabulary of parts.

Every class here composes the same few parts (slabs, posts and bars, discs, balls, cones, open
tubes, and tori used as handles, wheels and rims) and belongs to a *confusable family*: the
classes of a family draw their overall proportions from one shared envelope and differ only
in how the parts are arranged (four legs vs three vs a post; shelves vs drawers; rungs vs
posts; a drum vs a cone shade; a handle, a bail or a lid). Families are furniture (a top on
supports, seats with a back), cases, flat frames, a pole with something on top, vessels and
vehicles. Some nuisance parts are shared across a family at random (a lower shelf, cushions,
a plinth or legs, feet and a cap bar, a disc footing, a foot ring, a roof load), and the
tables' supports get a shared surface-area budget, so global statistics (size, aspect, radial
and height profiles) separate these classes far less than they do the primitives.

Builders are z-up (x: length, y: depth) like the primitives; ``_register`` turns them y-up,
centred and unit radius. Parts are transformed copies of cached unit trimesh primitives joined
into one mesh without boolean operations (a mesh builds in well under a millisecond or two).
Importing this module registers the classes in ``SHAPE_CLASSES`` and the ``"parts"`` entry of
``SHAPE_SETS`` (``point_shapes`` imports it, so both are always registered together).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import trimesh
from trimesh.creation import annulus, box, capsule, cone, cylinder, icosphere, torus

from omnijepa.data.point_shapes import SHAPE_SETS, _register

Part = tuple[np.ndarray, np.ndarray]  # vertices (V, 3) float64, faces (F, 3) int64
Vec = Sequence[float] | np.ndarray

PART_SHAPE_CLASSES = (
    # a top on supports
    "dining_table",
    "pedestal_table",
    "stool",
    "bar_stool",
    "bench",
    "desk",
    # seats with a back
    "chair",
    "armchair",
    "sofa",
    "bed",
    # cases
    "bookshelf",
    "cabinet",
    "chest_of_drawers",
    # flat frames of bars
    "ladder",
    "fence",
    "gate",
    "bicycle",
    # a pole with something on top
    "table_lamp",
    "floor_lamp",
    "umbrella",
    "pine_tree",
    "round_tree",
    "mushroom",
    # vessels
    "cup",
    "tankard",
    "bucket",
    "cooking_pot",
    "jar",
    "bottle",
    "vase",
    "rocket",
    # vehicles
    "car",
    "van",
    "truck",
    "tractor",
    "airplane",
)

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


# ---- furniture: one envelope (width, depth, height) for tables, stools, seats, beds --------


def _furniture_envelope(rng: np.random.Generator) -> tuple[float, float, float]:
    """Overall width (along x), depth and height shared by every furniture class."""
    w = rng.uniform(0.8, 1.8)
    return w, w * rng.uniform(0.4, 0.9), rng.uniform(0.45, 1.1)


def _top_envelope(rng: np.random.Generator) -> tuple[float, float, float, float, float]:
    """Width, depth, height and top thickness of a top on supports, and the surface area its
    supports should have (a share of the top's), so no support style stands out by its area."""
    w, d, h = _furniture_envelope(rng)
    return w, d, h, rng.uniform(0.03, 0.08), w * d * rng.uniform(0.15, 0.7)


def _oval(w: float, d: float, z0: float, z1: float) -> Part:
    """A flat elliptic disc of diameters ``w`` x ``d`` spanning heights ``z0`` to ``z1``."""
    return _place("cylinder", (w / 2, d / 2, z1 - z0), (0.0, 0.0, (z0 + z1) / 2))


def _lower_shelf(rng: np.random.Generator, w: float, d: float, z: float, oval: bool) -> list[Part]:
    """Sometimes (any top-on-supports class) a smaller shelf low under a top at height ``z``."""
    if rng.uniform() >= 0.4:
        return []
    k, at = rng.uniform(0.5, 0.8), rng.uniform(0.15, 0.35) * z
    if oval:
        return [_oval(k * w, k * d, at - 0.015, at + 0.015)]
    return [_slab((k * w, k * d, 0.03), (0, 0, at))]


@_register("dining_table")
def _dining_table(rng: np.random.Generator) -> trimesh.Trimesh:
    """A rectangular top with an apron frame on four corner legs."""
    w, d, h, t, area = _top_envelope(rng)
    z = h - t
    leg = float(np.clip(area / (16 * z), 0.03, 0.15))
    inset, apron = rng.uniform(leg / 2, leg + 0.1), rng.uniform(0.04, 0.1)
    parts = [_slab((w, d, t), (0, 0, h - t / 2)), *_legs(w, d, inset, 0, z, leg)]
    xi, yi, za = w / 2 - inset, d / 2 - inset, z - apron / 2
    parts += [_slab((2 * xi, 0.02, apron), (0, sy * yi, za)) for sy in (-1, 1)]
    parts += [_slab((0.02, 2 * yi, apron), (sx * xi, 0, za)) for sx in (-1, 1)]
    return _mesh(parts + _lower_shelf(rng, w - 2 * inset, d - 2 * inset, z, oval=False))


@_register("pedestal_table")
def _pedestal_table(rng: np.random.Generator) -> trimesh.Trimesh:
    """A round (oval) top on one central post standing on a disc foot."""
    w, d, h, t, area = _top_envelope(rng)
    share, foot_t = rng.uniform(0.3, 0.7), rng.uniform(0.03, 0.06)
    foot = float(np.clip(np.sqrt(share * area / (2 * np.pi)), 0.15 * d, 0.5 * d))
    post = float(np.clip((1 - share) * area / (2 * np.pi * (h - t)), 0.03, 0.2))
    parts = [_oval(w, d, h - t, h), _post(post, foot_t, h - t), _post(foot, 0.0, foot_t)]
    return _mesh(parts + _lower_shelf(rng, w, d, h - t, oval=True))


@_register("stool")
def _stool(rng: np.random.Generator) -> trimesh.Trimesh:
    """A round (oval) seat on three splayed legs."""
    w, d, h, t, area = _top_envelope(rng)
    foot, phase = rng.uniform(0.85, 1.1), rng.uniform(0, 2 * np.pi)
    r = float(np.clip(area / (6 * np.pi * (h - t)), 0.015, 0.08))
    legs = _splayed(3, 0.7, foot, h - t, r, phase, w / 2, d / 2)
    return _mesh([_oval(w, d, h - t, h), *legs, *_lower_shelf(rng, w, d, h - t, oval=True)])


@_register("bar_stool")
def _bar_stool(rng: np.random.Generator) -> trimesh.Trimesh:
    """A round (oval) seat on four splayed legs braced by a foot ring."""
    w, d, h, t, area = _top_envelope(rng)
    foot, z_ring = rng.uniform(0.85, 1.1), rng.uniform(0.25, 0.45) * (h - t)
    r, phase = float(np.clip(area / (10 * np.pi * (h - t)), 0.012, 0.06)), rng.uniform(0, 2 * np.pi)
    legs = _splayed(4, 0.7, foot, h - t, r, phase, w / 2, d / 2)
    k = foot + (0.7 - foot) * z_ring / (h - t)  # the legs' spread at the ring's height
    ring = _place("torus", (k * w / 2, k * d / 2, 1.0), (0, 0, z_ring), ratio=_ratio(r / 2))
    return _mesh([_oval(w, d, h - t, h), *legs, ring])


@_register("bench")
def _bench(rng: np.random.Generator) -> trimesh.Trimesh:
    """A rectangular top on two solid panel ends joined by a low stretcher."""
    w, d, h, t, area = _top_envelope(rng)
    panel, x, z = rng.uniform(0.02, 0.06), w / 2 - rng.uniform(0.05, 0.2), h - t
    depth = float(np.clip(area / (4 * z), 0.15 * d, 0.95 * d))
    parts = [_slab((w, d, t), (0, 0, h - t / 2))]
    parts += [_slab((panel, depth, z), (sx * x, 0, z / 2)) for sx in (-1, 1)]
    parts.append(_slab((2 * x, 0.05, 0.06), (0, 0, rng.uniform(0.15, 0.35) * h)))
    return _mesh(parts + _lower_shelf(rng, 2 * x, depth, z, oval=False))


@_register("desk")
def _desk(rng: np.random.Generator) -> trimesh.Trimesh:
    """A rectangular top on four legs with a drawer box hung under one end."""
    w, d, h, t, area = _top_envelope(rng)
    z, block = h - t, w * rng.uniform(0.2, 0.35)
    leg = float(np.clip(0.3 * area / (16 * z), 0.03, 0.1))
    drop = float(np.clip(0.7 * area / (2 * (block + d)), 0.1 * z, 0.9 * z))
    x_block = w / 2 - leg - block / 2
    parts = [
        _slab((w, d, t), (0, 0, h - t / 2)),
        *_legs(w, d, leg / 2, 0, z, leg),
        _slab((block, d - 2 * leg, drop), (x_block, 0, z - drop / 2)),
    ]
    n = int(rng.integers(1, 4))
    for zk in z - (np.arange(n) + 0.5) * drop / n:
        parts.append(_rod((x_block - 0.2 * block, d / 2 - leg, zk),
                          (x_block + 0.2 * block, d / 2 - leg, zk), 0.01))  # fmt: skip
    return _mesh(parts + _lower_shelf(rng, w - 2 * leg, d - 2 * leg, z, oval=False))


def _seat_envelope(rng: np.random.Generator) -> tuple[float, float, float, float]:
    """Width, depth, seat height and back height (above the seat) of a seat with a back."""
    w, d, h = _furniture_envelope(rng)
    seat = h * rng.uniform(0.35, 0.55)
    return w, d, seat, h - seat


def _cushions(rng: np.random.Generator, w: float, d: float, z: float) -> list[Part]:
    """Zero to two flattened balls (cushions, pillows) lying on a seat at height ``z``."""
    parts = []
    for _ in range(int(rng.integers(0, 3))):
        r, x = rng.uniform(0.1, 0.2) * w, rng.uniform(-0.3, 0.3) * w
        parts.append(_ball((r, 0.35 * d, 0.05), (x, rng.uniform(-0.2, 0.1) * d, z + 0.03)))
    return parts


@_register("chair")
def _chair(rng: np.random.Generator) -> trimesh.Trimesh:
    """A thin seat on four legs with a back slab rising from its long rear edge."""
    w, d, hs, hb = _seat_envelope(rng)
    t, leg, back = rng.uniform(0.03, 0.08), rng.uniform(0.03, 0.07), rng.uniform(0.03, 0.08)
    parts = [_slab((w, d, t), (0, 0, hs - t / 2)), *_legs(w, d, leg / 2, 0, hs - t, leg)]
    parts.append(_slab((w, back, hb), (0, -(d - back) / 2, hs + hb / 2)))
    return _mesh(parts + _cushions(rng, w, d, hs))


@_register("armchair")
def _armchair(rng: np.random.Generator) -> trimesh.Trimesh:
    """A thin seat on four legs with a back slab and two armrest bars on posts."""
    w, d, hs, hb = _seat_envelope(rng)
    t, leg, back = rng.uniform(0.03, 0.08), rng.uniform(0.03, 0.07), rng.uniform(0.03, 0.08)
    parts = [_slab((w, d, t), (0, 0, hs - t / 2)), *_legs(w, d, leg / 2, 0, hs - t, leg)]
    parts.append(_slab((w, back, hb), (0, -(d - back) / 2, hs + hb / 2)))
    z_arm, arm = hs + rng.uniform(0.4, 0.7) * hb, rng.uniform(0.04, 0.1)
    for sx in (-1, 1):
        x = sx * (w / 2 - arm / 2)
        parts.append(_slab((arm, d, 0.04), (x, 0, z_arm)))
        parts.append(_rod((x, d / 2 - 0.03, hs), (x, d / 2 - 0.03, z_arm), 0.02))
    return _mesh(parts + _cushions(rng, w, d, hs))


@_register("sofa")
def _sofa(rng: np.random.Generator) -> trimesh.Trimesh:
    """A thick seat block with a back block along its rear edge and two arm blocks."""
    w, d, hs, hb = _seat_envelope(rng)
    z0, back = rng.uniform(0.03, 0.1), rng.uniform(0.1, 0.25)
    arm_w, arm_h = rng.uniform(0.08, 0.2), hs + rng.uniform(0.4, 0.7) * hb
    parts = [
        _slab((w, d, hs - z0), (0, 0, (z0 + hs) / 2)),
        _slab((w, back, hs + hb - z0), (0, -(d - back) / 2, (z0 + hs + hb) / 2)),
        *_legs(w, d, 0.05, 0, z0, 0.05),
    ]
    parts += [
        _slab((arm_w, d, arm_h - z0), (sx * (w - arm_w) / 2, 0, (z0 + arm_h) / 2)) for sx in (-1, 1)
    ]
    return _mesh(parts + _cushions(rng, w - 2 * arm_w, d, hs))


@_register("bed")
def _bed(rng: np.random.Generator) -> trimesh.Trimesh:
    """A mattress block between a tall headboard and a low footboard at its two ends."""
    w, d, hs, hb = _seat_envelope(rng)
    z0, board = rng.uniform(0.03, 0.15), rng.uniform(0.03, 0.08)
    foot = hs + rng.uniform(0.1, 0.5) * hb
    parts = [
        _slab((w, d, hs - z0), (0, 0, (z0 + hs) / 2)),
        _slab((board, d, hs + hb), (-(w + board) / 2, 0, (hs + hb) / 2)),
        _slab((board, d, foot), ((w + board) / 2, 0, foot / 2)),
    ]
    return _mesh(parts + _cushions(rng, w, d, hs))


# ---- cases (one envelope: width, depth, height) ----------------------------------------------


def _case_envelope(rng: np.random.Generator) -> tuple[float, float, float]:
    """Width, depth and height shared by the case classes."""
    return rng.uniform(0.5, 1.2), rng.uniform(0.25, 0.6), rng.uniform(0.6, 1.8)


def _case_feet(rng: np.random.Generator, w: float, d: float) -> tuple[list[Part], float]:
    """What any case stands on (a recessed plinth, four short legs or nothing), and its height."""
    style, z = int(rng.integers(0, 3)), rng.uniform(0.04, 0.15)
    if style == 0:
        return [_slab((w - 0.06, d - 0.06, z), (0, 0, z / 2))], z
    if style == 1:
        return _legs(w, d, 0.04, 0.0, z, 0.05), z
    return [], 0.0


@_register("bookshelf")
def _bookshelf(rng: np.random.Generator) -> trimesh.Trimesh:
    """Two side panels and a back board holding evenly spaced open shelves."""
    w, d, h = _case_envelope(rng)
    t, n = rng.uniform(0.02, 0.04), int(rng.integers(3, 7))  # n boards, bottom and top included
    parts, z0 = _case_feet(rng, w, d)
    zc, hc = (z0 + h) / 2, h - z0
    parts += [_slab((t, d, hc), (sx * (w - t) / 2, 0, zc)) for sx in (-1, 1)]
    parts.append(_slab((w, 0.015, hc), (0, -(d - 0.015) / 2, zc)))
    parts += [_slab((w - 2 * t, d, t), (0, 0, z)) for z in np.linspace(z0 + t / 2, h - t / 2, n)]
    return _mesh(parts)


@_register("cabinet")
def _cabinet(rng: np.random.Generator) -> trimesh.Trimesh:
    """A closed box under an overhanging top, with two upright door handles."""
    w, d, h = _case_envelope(rng)
    top, over = rng.uniform(0.02, 0.05), rng.uniform(0.01, 0.05)
    parts, plinth = _case_feet(rng, w, d)
    parts += [
        _slab((w, d, h - plinth - top), (0, 0, (plinth + h - top) / 2)),
        _slab((w + 2 * over, d + 2 * over, top), (0, 0, h - top / 2)),
    ]
    z = plinth + rng.uniform(0.5, 0.7) * (h - plinth)
    parts += [_rod((sx * 0.06, d / 2, z - 0.08), (sx * 0.06, d / 2, z + 0.08), 0.012)
              for sx in (-1, 1)]  # fmt: skip
    return _mesh(parts)


@_register("chest_of_drawers")
def _chest_of_drawers(rng: np.random.Generator) -> trimesh.Trimesh:
    """A closed box whose front is a stack of proud drawer fronts with knobs."""
    w, d, h = _case_envelope(rng)
    parts, leg = _case_feet(rng, w, d)
    n = int(rng.integers(3, 7))
    parts.append(_slab((w, d, h - leg), (0, 0, (leg + h) / 2)))
    pitch = (h - leg) / n
    for k in range(n):
        z = leg + (k + 0.5) * pitch
        parts.append(_slab((w - 0.06, 0.02, pitch - 0.03), (0, d / 2 + 0.01, z)))
        parts.append(_ball((0.02, 0.02, 0.02), (0, d / 2 + 0.03, z)))
    return _mesh(parts)


# ---- flat frames of bars (one envelope: width, height, bar thickness) -----------------------


def _frame_envelope(rng: np.random.Generator) -> tuple[float, float, float]:
    """Width, height and bar thickness shared by the frame classes."""
    return rng.uniform(0.5, 1.6), rng.uniform(0.5, 1.6), rng.uniform(0.02, 0.05)


def _frame_extras(rng: np.random.Generator, w: float, h: float, bar: float) -> list[Part]:
    """Sometimes (any frame) two crosswise feet at the bottom ends and a cap bar on top."""
    parts = []
    if rng.uniform() < 0.5:
        foot = rng.uniform(0.15, 0.3) * h
        parts += [_slab((2 * bar, foot, bar), (sx * w / 2, 0, bar / 2)) for sx in (-1, 1)]
    if rng.uniform() < 0.4:
        parts.append(_slab((w + 2 * bar, 2 * bar, bar), (0, 0, h + bar / 2)))
    return parts


@_register("ladder")
def _ladder(rng: np.random.Generator) -> trimesh.Trimesh:
    """Two upright side rails joined by several evenly spaced round rungs."""
    w, h, bar = _frame_envelope(rng)
    n = int(rng.integers(3, 9))
    parts = [_slab((bar, 1.5 * bar, h), (sx * w / 2, 0, h / 2)) for sx in (-1, 1)]
    parts += [_rod((-w / 2, 0, z), (w / 2, 0, z), 0.5 * bar)
              for z in (np.arange(n) + 0.5) * h / n]  # fmt: skip
    return _mesh(parts + _frame_extras(rng, w, h, bar))


@_register("fence")
def _fence(rng: np.random.Generator) -> trimesh.Trimesh:
    """A row of evenly spaced posts joined by two long horizontal rails."""
    w, h, bar = _frame_envelope(rng)
    n = int(rng.integers(3, 9))
    parts = [_slab((bar, 1.5 * bar, h), (x, 0, h / 2)) for x in np.linspace(-w / 2, w / 2, n)]
    for z in (rng.uniform(0.15, 0.35) * h, rng.uniform(0.65, 0.85) * h):
        parts.append(_slab((w + bar, bar, rng.uniform(0.04, 0.08)), (0, 1.25 * bar, z)))
    return _mesh(parts + _frame_extras(rng, w, h, bar))


@_register("gate")
def _gate(rng: np.random.Generator) -> trimesh.Trimesh:
    """A rectangular frame of four bars braced by one diagonal bar."""
    w, h, bar = _frame_envelope(rng)
    parts = [_slab((bar, 1.5 * bar, h), (sx * w / 2, 0, h / 2)) for sx in (-1, 1)]
    parts += [_slab((w, 1.5 * bar, bar), (0, 0, z)) for z in (bar / 2, h - bar / 2)]
    sx = rng.choice([-1, 1])
    parts.append(_rod((-sx * w / 2, 0, bar), (sx * w / 2, 0, h - bar), 0.6 * bar))
    return _mesh(parts + _frame_extras(rng, w, h, bar))


@_register("bicycle")
def _bicycle(rng: np.random.Generator) -> trimesh.Trimesh:
    """Two thin wheels joined by a bar frame, with a seat and crosswise handlebars."""
    w, h, bar = _frame_envelope(rng)
    w = max(w, 1.2 * h)  # a bicycle is longer than tall
    r = w * rng.uniform(0.2, 0.24)
    rear, front = np.array([-w / 2 + r, 0, r]), np.array([w / 2 - r, 0, r])
    seat_z = float(np.clip(h, 2.2 * r, 3.0 * r))
    crank = np.array([rng.uniform(-0.1, 0.05) * w, 0, 0.8 * r])
    seat = np.array([-0.15 * w, 0, seat_z])
    head = np.array([0.25 * w, 0, seat_z + rng.uniform(-0.05, 0.1) * h])
    grip, handlebar = head + (0, 0, 0.05 * h), rng.uniform(0.3, 0.45) * w
    tube = 0.5 * bar
    parts = [_ring(r, rng.uniform(0.015, 0.03), c, (0, 1, 0)) for c in (rear, front)]
    for p0, p1 in ((rear, crank), (rear, seat), (crank, seat), (crank, head), (seat, head),
                   (front, grip)):  # fmt: skip
        parts.append(_rod(p0, p1, tube))
    parts.append(_rod(grip - (0, handlebar / 2, 0), grip + (0, handlebar / 2, 0), tube))
    parts.append(_slab((0.15 * w, 0.07 * w, 0.03 * w), seat + (0, 0, 0.015 * w)))
    return _mesh(parts)


# ---- a pole with something on top (one envelope: pole, top radius, top height) -------------


def _pole_envelope(rng: np.random.Generator) -> tuple[float, float, float]:
    """Pole length, top radius and top height shared by the pole-and-top classes."""
    return rng.uniform(0.4, 1.4), rng.uniform(0.2, 0.55), rng.uniform(0.2, 0.8)


def _footing(rng: np.random.Generator, r_top: float) -> tuple[list[Part], float]:
    """Half the time (any pole-and-top class) a thin disc foot (lamp base, planter, stand), and
    the height the pole starts at."""
    if rng.uniform() < 0.5:
        return [], 0.0
    t = rng.uniform(0.02, 0.05)
    return [_post(rng.uniform(0.35, 0.7) * r_top, 0.0, t)], t


@_register("table_lamp")
def _table_lamp(rng: np.random.Generator) -> trimesh.Trimesh:
    """A thin pole under an open drum shade."""
    pole, r, h = _pole_envelope(rng)
    parts, z0 = _footing(rng, r)
    z = z0 + pole
    shade = _tube(r, 0.01, z - 0.5 * h, z + 0.5 * h)
    return _mesh([*parts, _post(rng.uniform(0.01, 0.03), z0, z), shade])


@_register("floor_lamp")
def _floor_lamp(rng: np.random.Generator) -> trimesh.Trimesh:
    """A thin pole with a sideways arm at the top from which a cone shade hangs."""
    pole, r, h = _pole_envelope(rng)
    parts, z0 = _footing(rng, r)
    rod, reach = rng.uniform(0.01, 0.03), r * rng.uniform(0.8, 1.5)
    z = z0 + pole + 0.5 * h
    parts += [
        _post(rod, z0, z),
        _rod((0, 0, z), (reach, 0, z), rod),
        _cone(r, (reach, 0, z - h), (reach, 0, z)),
    ]
    return _mesh(parts)


@_register("umbrella")
def _umbrella(rng: np.random.Generator) -> trimesh.Trimesh:
    """A thin shaft with a hook at its foot and a shallow cone canopy on top."""
    pole, r, h = _pole_envelope(rng)
    parts, z0 = _footing(rng, r)
    h, rod = h * rng.uniform(0.3, 0.6), rng.uniform(0.01, 0.02)
    hook, z = rng.uniform(0.04, 0.08), z0 + pole
    parts += [
        _post(rod, z0, z + h + rng.uniform(0.04, 0.1)),  # the tip pokes out above the canopy
        _cone(r, (0, 0, z), (0, 0, z + h)),
        _arc(hook, rod, (hook, 0, z0 + 2 * hook), down=True),
    ]
    return _mesh(parts)


@_register("pine_tree")
def _pine_tree(rng: np.random.Generator) -> trimesh.Trimesh:
    """A trunk under two or three stacked cones of shrinking width."""
    pole, r, h = _pole_envelope(rng)
    parts, z0 = _footing(rng, r)
    n, z = int(rng.integers(2, 4)), z0 + pole
    step = h / (1 + 0.5 * (n - 1))  # each cone is ``step`` tall, the next starts half way up
    parts.append(_post(rng.uniform(0.02, 0.07), z0, z + 0.05))
    for k in range(n):
        parts.append(_cone(r * 0.75**k, (0, 0, z), (0, 0, z + step)))
        z += 0.5 * step
    return _mesh(parts)


@_register("round_tree")
def _round_tree(rng: np.random.Generator) -> trimesh.Trimesh:
    """A trunk with a ball crown sitting on top of it."""
    pole, r, h = _pole_envelope(rng)
    parts, z0 = _footing(rng, r)
    z = z0 + pole
    crown = _ball((r, r, h / 2), (0, 0, z + 0.4 * h))
    return _mesh([*parts, _post(rng.uniform(0.02, 0.07), z0, z + 0.1 * h), crown])


@_register("mushroom")
def _mushroom(rng: np.random.Generator) -> trimesh.Trimesh:
    """A thick stem with a flattened dome cap centred on its top."""
    pole, r, h = _pole_envelope(rng)
    parts, z0 = _footing(rng, r)
    stem = _post(rng.uniform(0.2, 0.4) * r, z0, z0 + pole)
    return _mesh([*parts, stem, _ball((r, r, h / 2), (0, 0, z0 + pole))])


# ---- vessels (one envelope: radius, height, wall) --------------------------------------------


def _vessel_envelope(rng: np.random.Generator) -> tuple[float, float, float]:
    """Radius, height and wall thickness shared by the vessel classes."""
    r = rng.uniform(0.2, 0.4)
    return r, r * rng.uniform(0.8, 3.0), rng.uniform(0.01, 0.04)


def _foot_ring(rng: np.random.Generator, r: float) -> list[Part]:
    """Half the time (any vessel) a thin ring round the bottom edge."""
    return [_ring(0.95 * r, rng.uniform(0.015, 0.03), (0, 0, 0.01))] if rng.uniform() < 0.5 else []


def _open_body(rng: np.random.Generator, r: float, h: float, wall: float) -> list[Part]:
    """An open tube with a floor (and sometimes a foot ring)."""
    return [_tube(r, wall, 0.0, h), _post(r - wall / 2, 0.0, wall), *_foot_ring(rng, r)]


@_register("cup")
def _cup(rng: np.random.Generator) -> trimesh.Trimesh:
    """An open round tube with a floor and nothing else."""
    return _mesh(_open_body(rng, *_vessel_envelope(rng)))


@_register("tankard")
def _tankard(rng: np.random.Generator) -> trimesh.Trimesh:
    """An open round tube with a floor and one upright loop handle on its side."""
    r, h, wall = _vessel_envelope(rng)
    loop = rng.uniform(0.2, 0.35) * h
    handle = _ring(loop, rng.uniform(0.015, 0.03), (r + 0.5 * loop, 0, 0.55 * h), (0, 1, 0))
    return _mesh([*_open_body(rng, r, h, wall), handle])


@_register("bucket")
def _bucket(rng: np.random.Generator) -> trimesh.Trimesh:
    """An open tube with a floor, a rolled rim and a half-ring handle arching over the top."""
    r, h, wall = _vessel_envelope(rng)
    rim, bail = _ring(r, rng.uniform(0.012, 0.025), (0, 0, h)), rng.uniform(0.008, 0.015)
    return _mesh(
        [*_open_body(rng, r, h, wall), rim, _arc(r, bail, (0, 0, h), rng.uniform(0, np.pi))]
    )


@_register("cooking_pot")
def _cooking_pot(rng: np.random.Generator) -> trimesh.Trimesh:
    """An open tube with a floor, a lid with a knob and two side loop handles."""
    r, h, wall = _vessel_envelope(rng)
    loop, lid = rng.uniform(0.05, 0.09), rng.uniform(0.015, 0.03)
    parts = [
        *_open_body(rng, r, h, wall),
        _post(r + 0.01, h, h + lid),
        _ball((0.04, 0.04, 0.03), (0, 0, h + lid + 0.02)),
    ]
    parts += [_ring(loop, 0.012, (sx * (r + 0.6 * loop), 0, 0.8 * h)) for sx in (-1, 1)]
    return _mesh(parts)


@_register("jar")
def _jar(rng: np.random.Generator) -> trimesh.Trimesh:
    """A closed round body under a short wider lid with a knob."""
    r, h, _ = _vessel_envelope(rng)
    lid = rng.uniform(0.05, 0.12) * h
    return _mesh(
        [
            _post(r, 0.0, h - lid),
            _post(r * rng.uniform(1.03, 1.1), h - lid, h),
            _ball((0.05, 0.05, 0.03), (0, 0, h + 0.01)),
            *_foot_ring(rng, r),
        ]
    )


@_register("bottle")
def _bottle(rng: np.random.Generator) -> trimesh.Trimesh:
    """A closed round body narrowing through a cone shoulder into a neck with a cap."""
    r, h, _ = _vessel_envelope(rng)
    shoulder, neck_r = rng.uniform(0.1, 0.2) * h, rng.uniform(0.2, 0.35) * r
    neck_h = rng.uniform(0.15, 0.3) * h
    body = h - shoulder - neck_h
    z_neck = body + shoulder * (1 - neck_r / r)
    return _mesh(
        [
            _post(r, 0.0, body),
            _cone(r, (0, 0, body), (0, 0, body + shoulder)),
            _post(neck_r, z_neck - 0.01, h),
            _post(neck_r * 1.15, h, h + rng.uniform(0.02, 0.05)),
            *_foot_ring(rng, r),
        ]
    )


@_register("vase")
def _vase(rng: np.random.Generator) -> trimesh.Trimesh:
    """A closed pill-shaped body (round shoulders) with an open neck tube and a rim ring."""
    r, h, _ = _vessel_envelope(rng)
    neck_r, neck_h = rng.uniform(0.3, 0.5) * r, rng.uniform(0.15, 0.35) * h
    body = h - neck_h  # the pill's overall height
    r = min(r, body / 2 - 0.01)
    return _mesh(
        [
            _capsule(r, (0, 0, r), (0, 0, body - r)),
            _tube(neck_r, 0.015, body - 0.05, h),
            _ring(neck_r * rng.uniform(1.1, 1.4), 0.02, (0, 0, h)),
            *_foot_ring(rng, 0.8 * r),
        ]
    )


@_register("rocket")
def _rocket(rng: np.random.Generator) -> trimesh.Trimesh:
    """An upright closed round body under a nose cone, with three or four fins and a nozzle."""
    r, h, _ = _vessel_envelope(rng)
    r = r * rng.uniform(0.5, 0.8)
    h = max(h, r * rng.uniform(5.0, 7.0))  # a rocket is slender, never a squat jar
    nose, z0 = h * rng.uniform(0.15, 0.3), h * rng.uniform(0.03, 0.08)
    n, fin, fin_h = int(rng.integers(3, 5)), r * rng.uniform(0.6, 1.1), h * rng.uniform(0.15, 0.3)
    parts = [
        _post(r, z0, h - nose),
        _cone(r, (0, 0, h - nose), (0, 0, h)),
        _cone(0.7 * r, (0, 0, 0), (0, 0, z0 + 0.05 * h)),
    ]
    for a in rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(n) / n:
        c, s = (r + fin / 2) * np.cos(a), (r + fin / 2) * np.sin(a)
        parts.append(_slab((fin, 0.02, fin_h), (c, s, z0 + fin_h / 2), a))
    return _mesh(parts)


# ---- vehicles (one envelope: length, width, height, wheel radius) ----------------------------


def _vehicle_envelope(rng: np.random.Generator) -> tuple[float, float, float, float]:
    """Length, width, body height and wheel radius shared by the road vehicles."""
    return (
        rng.uniform(1.4, 2.2),
        rng.uniform(0.55, 0.9),
        rng.uniform(0.45, 0.8),
        rng.uniform(0.1, 0.18),
    )


def _wheel(r: float, x: float, y: float) -> list[Part]:
    """A tyre ring on a hub disc, rolling along x."""
    hub = _rod((x, y - 0.02, r), (x, y + 0.02, r), 0.75 * r)
    return [_ring(0.8 * r, 0.25 * r, (x, y, r), (0, 1, 0)), hub]


def _roof_load(rng: np.random.Generator, x: float, z: float, length: float, w: float) -> list[Part]:
    """Sometimes (any vehicle) a flat box carried on the roof that ends at height ``z``."""
    if rng.uniform() >= 0.4:
        return []
    t = rng.uniform(0.04, 0.1)
    return [_slab((length * rng.uniform(0.5, 0.9), 0.7 * w, t), (x, 0, z + t / 2))]


def _axles(xs: Sequence[float], w: float, r: float) -> list[Part]:
    """A pair of wheels of radius ``r`` at each axle position."""
    return [p for x in xs for sy in (-1, 1) for p in _wheel(r, x, sy * w / 2)]


@_register("car")
def _car(rng: np.random.Generator) -> trimesh.Trimesh:
    """A low body box with a shorter cabin box on top and four wheels."""
    length, w, h, r = _vehicle_envelope(rng)
    z0, body = r, h * rng.uniform(0.4, 0.6)
    cabin_l, x_cabin = length * rng.uniform(0.4, 0.6), -rng.uniform(0.0, 0.15) * length
    axle = length * rng.uniform(0.28, 0.36)
    parts = [
        _slab((length, w, body), (0, 0, z0 + body / 2)),
        _slab((cabin_l, 0.9 * w, h - body), (x_cabin, 0, z0 + (body + h) / 2)),
        *_axles((-axle, axle), w, r),
        *_roof_load(rng, x_cabin, z0 + h, cabin_l, w),
    ]
    return _mesh(parts)


@_register("van")
def _van(rng: np.random.Generator) -> trimesh.Trimesh:
    """One tall box with a short low hood box in front, on four wheels."""
    length, w, h, r = _vehicle_envelope(rng)
    hood, hood_h = length * rng.uniform(0.12, 0.25), h * rng.uniform(0.35, 0.55)
    axle = length * rng.uniform(0.3, 0.38)
    parts = [
        _slab((length - hood, w, h), (-hood / 2, 0, r + h / 2)),
        _slab((hood, w, hood_h), ((length - hood) / 2, 0, r + hood_h / 2)),
        *_axles((-axle, axle), w, r),
        *_roof_load(rng, -hood / 2, r + h, length - hood, w),
    ]
    return _mesh(parts)


@_register("truck")
def _truck(rng: np.random.Generator) -> trimesh.Trimesh:
    """A cab box in front of a separate longer cargo box on a chassis, with three axles."""
    length, w, h, r = _vehicle_envelope(rng)
    cab_l, gap = length * rng.uniform(0.2, 0.3), 0.05
    cargo_l, cab_h = length - cab_l - gap, h * rng.uniform(0.7, 0.9)
    z0 = 1.5 * r
    x_cab, x_cargo = (length - cab_l) / 2, (cargo_l - length) / 2
    parts = [
        _slab((length, 0.8 * w, 0.06), (0, 0, z0 - 0.03)),
        _slab((cab_l, w, cab_h), (x_cab, 0, z0 + cab_h / 2)),
        _slab((cargo_l, w, h), (x_cargo, 0, z0 + h / 2)),
        *_axles((x_cab, x_cargo - 0.1 * cargo_l, x_cargo - 0.3 * cargo_l), w, r),
        *_roof_load(rng, x_cargo, z0 + h, cargo_l, w),
    ]
    return _mesh(parts)


@_register("tractor")
def _tractor(rng: np.random.Generator) -> trimesh.Trimesh:
    """A long low engine box, a cabin box over big rear wheels, and small front wheels."""
    length, w, h, r = _vehicle_envelope(rng)
    big, body = r * rng.uniform(1.8, 2.4), h * rng.uniform(0.3, 0.45)
    cabin_l = length * rng.uniform(0.25, 0.35)
    x_rear, x_front = -length / 2 + big, length / 2 - r * 1.5
    z_cabin = r + 0.5 * body  # the cabin box stands on the engine box's mid-height
    parts = [
        _slab((length, 0.6 * w, body), (0, 0, r + body / 2)),
        _slab((cabin_l, 0.8 * w, h), (x_rear, 0, z_cabin + h / 2)),
        *_roof_load(rng, x_rear, z_cabin + h, cabin_l, w),
        *[p for sy in (-1, 1) for p in _wheel(big, x_rear, sy * w / 2)],
        *_axles((x_front,), w, r),
    ]
    return _mesh(parts)


@_register("airplane")
def _airplane(rng: np.random.Generator) -> trimesh.Trimesh:
    """A pill fuselage with long thin wings, a tailplane and an upright tail fin."""
    length, w, h, _ = _vehicle_envelope(rng)
    r, span, chord = h * rng.uniform(0.15, 0.25), length * rng.uniform(0.75, 1.05), w * 0.4
    x_wing, x_tail, fin_h = rng.uniform(-0.05, 0.15) * length, -0.42 * length, h * 0.6
    return _mesh(
        [
            _capsule(r, (-length / 2 + r, 0, 0), (length / 2 - r, 0, 0)),
            _slab((chord, span, 0.03), (x_wing, 0, -0.3 * r)),
            _slab((0.6 * chord, 0.35 * span, 0.025), (x_tail, 0, 0)),
            _slab((0.7 * chord, 0.025, fin_h), (x_tail, 0, r + fin_h / 2 - 0.02)),
        ]
    )


SHAPE_SETS.add("parts", PART_SHAPE_CLASSES)
