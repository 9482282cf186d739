"""Furniture (a top on supports, seats with a back) and cases: one envelope per family."""

from __future__ import annotations

import numpy as np
import trimesh

from omnijepa.data.part_shapes.parts import (
    Part,
    _ball,
    _legs,
    _mesh,
    _place,
    _post,
    _ratio,
    _rod,
    _slab,
    _splayed,
)
from omnijepa.data.shape_registry import register_shape as _register

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
