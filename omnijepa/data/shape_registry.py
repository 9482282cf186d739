"""Registries of procedural 3-D shapes: classes, named class sets, and random rotations.

``register_shape(name)`` turns a z-up mesh builder ``(rng) -> trimesh.Trimesh`` into a registered
class that returns y-up, bounding-box-centred, unit-radius meshes. ``point_shapes`` (the
primitives) and ``part_shapes`` (classes built from shared parts) both register here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import trimesh

from omnijepa.registry import Registry

ShapeBuilder = Callable[[np.random.Generator], trimesh.Trimesh]

SHAPE_CLASSES: Registry[ShapeBuilder] = Registry("shape class")
SHAPE_SETS: Registry[tuple[str, ...]] = Registry("shape set")
ROTATIONS: Registry[Callable[[np.random.Generator], np.ndarray]] = Registry("point rotation")

_Z_TO_Y = trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0])  # z axis -> y axis


def register_shape(name: str) -> Callable[[ShapeBuilder], ShapeBuilder]:
    """Register a z-up builder under ``name``, wrapped to return a y-up, centred, unit mesh."""

    def add(build: ShapeBuilder) -> ShapeBuilder:
        def built(rng: np.random.Generator) -> trimesh.Trimesh:
            mesh = build(rng)
            mesh.apply_transform(_Z_TO_Y)
            mesh.apply_translation(-mesh.bounds.mean(axis=0))
            mesh.apply_scale(1.0 / float(np.linalg.norm(mesh.vertices, axis=1).max()))
            return mesh

        built.__name__, built.__module__ = build.__name__, build.__module__
        built.__doc__ = build.__doc__
        SHAPE_CLASSES.add(name, built)
        return build

    return add
