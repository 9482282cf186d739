"""Part-built shape classes (``part_shapes``), the SHAPE_SETS registry and ``data.shape_set``."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

import numpy as np
import pytest

from omnijepa.config import load_config
from omnijepa.data.part_shapes import PART_SHAPE_CLASSES
from omnijepa.data.point_data import PointDataConfig, load_point_data
from omnijepa.data.point_shapes import (
    ALL_PRIMITIVE_SHAPE_CLASSES,
    DEFAULT_SHAPE_CLASSES,
    SHAPE_CLASSES,
    SHAPE_SETS,
    make_shape_dataset,
    make_shape_mesh,
    sample_shape_cloud,
)
from omnijepa.errors import ConfigError


@dataclass
class _Config:
    data: PointDataConfig = field(default_factory=PointDataConfig)


def test_shape_sets_are_registered_and_disjoint() -> None:
    assert set(SHAPE_SETS.names()) >= {"primitives", "all_primitives", "parts"}
    assert SHAPE_SETS.get("primitives") == DEFAULT_SHAPE_CLASSES
    assert SHAPE_SETS.get("all_primitives") == ALL_PRIMITIVE_SHAPE_CLASSES
    assert len(ALL_PRIMITIVE_SHAPE_CLASSES) == 16
    assert set(DEFAULT_SHAPE_CLASSES) <= set(ALL_PRIMITIVE_SHAPE_CLASSES)
    parts = SHAPE_SETS.get("parts")
    assert parts == PART_SHAPE_CLASSES and len(parts) >= 24
    assert len(set(parts)) == len(parts)
    assert not set(parts) & set(ALL_PRIMITIVE_SHAPE_CLASSES)
    assert all(name in SHAPE_CLASSES for name in parts)
    for name in parts:
        assert SHAPE_CLASSES.get(name).__doc__  # a one-line description


@pytest.mark.parametrize("name", PART_SHAPE_CLASSES)
def test_part_class_builds_a_unit_centred_y_up_mesh(name: str) -> None:
    mesh = make_shape_mesh(name, np.random.default_rng(0))
    assert len(mesh.faces) > 0 and mesh.area > 1e-3 and np.isfinite(mesh.vertices).all()
    assert np.linalg.norm(mesh.vertices, axis=1).max() == pytest.approx(1.0)
    np.testing.assert_allclose(mesh.bounds.mean(axis=0), 0.0, atol=1e-9)  # box-centred
    extents = mesh.bounds[1] - mesh.bounds[0]
    assert extents.max() > 0.5 and extents.min() > 0.01
    # y-up: the builder's z (up) extent became the registered mesh's y extent
    builder = SHAPE_CLASSES.get(name)
    raw = getattr(import_module(builder.__module__), builder.__name__)(np.random.default_rng(0))
    raw_extents = raw.bounds[1] - raw.bounds[0]
    assert extents[1] / extents.max() == pytest.approx(raw_extents[2] / raw_extents.max())


@pytest.mark.parametrize("name", PART_SHAPE_CLASSES)
def test_part_class_clouds_are_seeded(name: str) -> None:
    def cloud(seed: int) -> np.ndarray:
        return sample_shape_cloud(name, np.random.default_rng(seed), 64)

    a, b, c = cloud(3), cloud(3), cloud(4)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (64, 3) and a.dtype == np.float32 and np.isfinite(a).all()
    assert not np.allclose(a, c, atol=1e-3)


def test_tall_and_long_classes_keep_their_up_axis_along_y() -> None:
    rng = np.random.default_rng(0)
    for _ in range(5):
        extents = np.ptp(make_shape_mesh("rocket", rng).vertices, axis=0)
        assert extents[1] > max(extents[0], extents[2])
        for name in ("car", "truck", "airplane"):
            extents = np.ptp(make_shape_mesh(name, rng).vertices, axis=0)
            assert extents[1] < max(extents[0], extents[2]), name


def test_make_shape_dataset_uses_the_shape_set() -> None:
    _, labels, names = make_shape_dataset(None, 1, 16, seed=0, shape_set="parts")
    assert names == list(PART_SHAPE_CLASSES) and labels.tolist() == list(range(len(names)))
    assert make_shape_dataset(None, 1, 16, seed=0)[2] == list(DEFAULT_SHAPE_CLASSES)
    # explicit classes win over the set
    assert make_shape_dataset(["cup"], 1, 16, seed=0, shape_set="parts")[2] == ["cup"]
    with pytest.raises(ConfigError, match="all_primitives"):
        make_shape_dataset(None, 1, 16, seed=0, shape_set="nope")


def test_shape_set_parts_loads_through_load_point_data() -> None:
    cfg = load_config(
        _Config(),
        None,
        ["data.shape_set=parts", "data.num_points=32", "data.train_per_class=2",
         "data.test_per_class=2"],
    ).data  # fmt: skip
    data = load_point_data(cfg, seed=0)
    n = len(PART_SHAPE_CLASSES)
    assert data.class_names == list(PART_SHAPE_CLASSES)
    assert tuple(data.train.points.shape) == (2 * n, 32, 3)
    assert len(data.test) == 2 * n
    assert sorted(set(data.train.labels.tolist())) == list(range(n))
    assert "set parts" in data.source


def test_default_shape_set_is_unchanged() -> None:
    assert PointDataConfig().shape_set == "primitives"
    cfg = PointDataConfig(num_points=16, train_per_class=1, test_per_class=1)
    data = load_point_data(cfg, seed=0)
    assert data.class_names == list(DEFAULT_SHAPE_CLASSES)
    assert "set " not in data.source


def test_unknown_shape_set_is_a_config_error_naming_the_valid_sets() -> None:
    cfg = PointDataConfig(shape_set="partz", num_points=16, train_per_class=1, test_per_class=1)
    with pytest.raises(ConfigError, match="partz") as err:
        load_point_data(cfg, seed=0)
    for name in SHAPE_SETS.names():
        assert name in str(err.value)
