"""Paper-scale presets shipped with the package load into their recipe and build the paper's
architecture (on the meta device: no memory is allocated)."""

from __future__ import annotations

import pytest
import torch

from omnijepa.config import load_config, preset_names
from omnijepa.errors import ConfigError
from omnijepa.recipes import RECIPES
from omnijepa.recipes.ijepa import build_objective
from omnijepa.recipes.lejepa import build_objective as build_lejepa
from omnijepa.recipes.point_common import build_point_objective

# preset -> (recipe, its objective builder, encoder parameters in millions: low, high)
EXPECTED = {
    "ijepa_vith14_in1k": ("ijepa", build_objective, (625.0, 640.0)),  # ViT-H/14: 632M
    "ijepa_vitb16_in1k": ("ijepa", build_objective, (85.0, 87.5)),  # ViT-B/16: 86M
    "lejepa_vitb16_in1k": ("lejepa", build_lejepa, (85.0, 87.5)),
    "pointjepa_shapenet": ("pointjepa", build_point_objective, (20.0, 24.0)),  # 12 x 384
}


def test_every_preset_is_checked() -> None:
    assert preset_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_preset_builds_the_paper_architecture(name: str) -> None:
    recipe_name, build, (lo, hi) = EXPECTED[name]
    cfg = load_config(RECIPES.get(recipe_name).default_config(), name, [])
    assert cfg.train.steps > 10_000
    if recipe_name != "lejepa":  # no EMA in LeJEPA
        assert cfg.ema.max_init_weight == 0.0  # the paper's schedule
    with torch.device("meta"):
        objective = build(cfg)
    params = sum(p.numel() for p in objective.encoder.parameters()) / 1e6
    assert lo <= params <= hi, params


def test_unknown_config_names_the_presets() -> None:
    with pytest.raises(ConfigError, match="ijepa_vith14_in1k"):
        load_config(RECIPES.get("ijepa").default_config(), "no_such_preset", [])


def test_a_preset_is_refused_by_another_recipe(capsys, tmp_path) -> None:  # noqa: ANN001
    """3djepa shares Point-JEPA's keys, so its preset used to load silently."""
    from tests.test_cli import assert_one_line_error, run_cli

    code, _, err = run_cli(capsys, "train", "3djepa", "--config", "pointjepa_shapenet",
                           "--out", str(tmp_path / "r"))  # fmt: skip
    assert code == 2
    assert_one_line_error(err, "for the recipe 'pointjepa', not '3djepa'")
    assert not (tmp_path / "r").exists()
