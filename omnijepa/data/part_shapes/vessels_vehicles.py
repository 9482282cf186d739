"""Vessels (cup to rocket: a radius, height and wall envelope) and vehicles (car to airplane)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import trimesh

from omnijepa.data.part_shapes.parts import (
    Part,
    _arc,
    _ball,
    _capsule,
    _cone,
    _mesh,
    _post,
    _ring,
    _rod,
    _slab,
    _tube,
)
from omnijepa.data.shape_registry import register_shape as _register

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
