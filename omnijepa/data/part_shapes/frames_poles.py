"""Flat frames of bars (ladder, fence, gate, bicycle) and a pole with something on top
(lamps, umbrella, trees, mushroom)."""

from __future__ import annotations

import numpy as np
import trimesh

from omnijepa.data.part_shapes.parts import (
    Part,
    _arc,
    _ball,
    _cone,
    _mesh,
    _post,
    _ring,
    _rod,
    _slab,
    _tube,
)
from omnijepa.data.shape_registry import register_shape as _register

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
