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
Importing this package registers the classes in ``SHAPE_CLASSES`` and the ``"parts"`` entry of
``SHAPE_SETS`` (``point_shapes`` imports it, so both are always registered together; the
registries live in ``shape_registry``).
The parts are in ``parts``; the classes in ``furniture``, ``frames_poles`` and
``vessels_vehicles``.
"""

from __future__ import annotations

from omnijepa.data.part_shapes import frames_poles, furniture, vessels_vehicles
from omnijepa.data.shape_registry import SHAPE_SETS

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

__all__ = ["PART_SHAPE_CLASSES", "frames_poles", "furniture", "vessels_vehicles"]

SHAPE_SETS.add("parts", PART_SHAPE_CLASSES)
