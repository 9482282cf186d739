"""``augment.rotate_axis=auto``: the turn augmentation follows the axis a user's clouds turn
about (shapes stood on z are not tumbled about y), read from the clouds themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from omnijepa.config import load_config
from omnijepa.data.point_shapes import make_shape_dataset
from omnijepa.errors import ConfigError
from omnijepa.modalities.point_collate import PointAugmentConfig, PointPatchPrepare
from omnijepa.modalities.point_turn_axis import detect_turn_axis, turn_uniformity
from omnijepa.recipes import RECIPES


def _clouds(rotation: str, n: int = 4) -> np.ndarray:
    points, _, _ = make_shape_dataset(None, n, 128, seed=0, rotation=rotation, shape_set="parts")
    return points  # y-up, 36 part-built classes


def _z_up(points: np.ndarray) -> np.ndarray:
    return points[..., [0, 2, 1]]  # the up axis (y) becomes z


def test_turn_axis_is_read_from_the_clouds() -> None:
    upright = _clouds("y")
    assert detect_turn_axis(upright).axis == 1
    assert detect_turn_axis(_z_up(upright)).axis == 2
    assert detect_turn_axis(upright[..., [1, 0, 2]]).axis == 0
    posed = detect_turn_axis(_clouds("none"))
    assert posed.axis is None and "share one pose" in posed.reason
    tumbled = detect_turn_axis(_clouds("so3"))
    assert tumbled.axis == "so3" and "every pose" in tumbled.reason
    few = detect_turn_axis(upright[:3])  # too few clouds to tell: the convention
    assert few.axis == 1 and "no clear turn axis in 3 clouds" in few.reason


def test_turn_uniformity_is_a_p_value_per_axis() -> None:
    p = turn_uniformity(torch.from_numpy(_clouds("y")))
    assert p.shape == (3,) and p[1] > 0.01 and p[0] < 1e-3 and p[2] < 1e-3
    assert np.all(turn_uniformity(np.zeros((4, 10, 3))) == 1.0)  # no shape, no evidence
    with pytest.raises(ValueError, match=r"\(N, P, 3\)"):
        turn_uniformity(np.zeros((4, 10)))


def test_rotate_axis_takes_names_auto_and_null() -> None:
    assert PointAugmentConfig(rotate_axis="z").rotate_axis == 2
    assert PointAugmentConfig(rotate_axis="X").rotate_axis == 0
    assert PointAugmentConfig(rotate_axis=None).rotate_axis is None
    assert PointAugmentConfig(rotate_axis="so3").rotate_axis == "so3"
    with pytest.raises(ValueError, match="x, y, z, so3, auto or null"):
        PointAugmentConfig(rotate_axis="w")
    auto = PointAugmentConfig()
    resolved, reason = auto.resolved(torch.from_numpy(_z_up(_clouds("y"))))
    assert resolved.rotate_axis == 2 and "about z" in reason
    assert PointAugmentConfig(rotate_axis=1).resolved(torch.zeros(1, 1, 3)) == (
        PointAugmentConfig(rotate_axis=1), None)  # fmt: skip
    with pytest.raises(ValueError, match="resolve it"):
        PointPatchPrepare(4, 4, "none", auto)
    recipe = RECIPES.get("pointjepa")
    with pytest.raises(ConfigError, match="rotate_axis"):
        load_config(recipe.default_config(), None, ["augment.rotate_axis=up"])


def test_pointjepa_turns_a_folder_of_z_up_shapes_about_z(tmp_path: Path) -> None:
    points, labels, names = make_shape_dataset(None, 6, 96, seed=1, shape_set="parts")
    for cloud, label in zip(_z_up(points), labels):
        folder = tmp_path / "data" / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / f"{len(list(folder.iterdir()))}.npy", cloud)
    recipe = RECIPES.get("pointjepa")
    overrides = [*recipe.quick_overrides(), f"data.path={tmp_path / 'data'}"]
    built = recipe.build(load_config(recipe.default_config(), None, overrides),
                         torch.device("cpu"))  # fmt: skip
    assert "augment turns clouds about z" in built.description
    assert built.parts.collate.prepare.augment.rotate_axis == 2


def test_a_large_set_is_read_from_a_spread_sample() -> None:
    clouds = np.repeat(_clouds("y", n=2), 70, axis=0)  # 5,040 clouds, each turned anew
    a = np.random.default_rng(0).uniform(0, 2 * np.pi, len(clouds))
    c, s = np.cos(a)[:, None], np.sin(a)[:, None]
    x, y, z = clouds[..., 0], clouds[..., 1], clouds[..., 2]
    turned = np.stack([c * x + s * z, y, -s * x + c * z], axis=-1).astype(np.float32)
    reading = detect_turn_axis(torch.from_numpy(_z_up(turned)))
    assert reading.axis == 2
