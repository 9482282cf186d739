"""Recipe-specific settings that cannot work are one ConfigError naming the key, raised when
the config is read (before any pre-training), not a traceback after it."""

from __future__ import annotations

from pathlib import Path

import pytest

from omnijepa.config import load_config
from omnijepa.errors import ConfigError
from omnijepa.recipes import RECIPES
from tests.conftest import tiny
from tests.test_cli import assert_one_line_error, run_cli

CASES = [
    ("vjepa", "data.items=0", "data.items"),  # blank clips: the label was not in the data
    ("vjepa", "data.test_size=0", "data.test_size"),  # crashed at the step-0 probe
    ("uijepa", "data.heldout_share=1.0", "data.heldout_share must be"),
    ("uijepa", "data.notify=2", "data.notify"),
    ("uijepa", "decoder.max_len=0", "decoder.max_len"),  # crashed after pre-training
    ("uijepa", "decoder.ensemble=0", "decoder.ensemble"),  # so did this
    ("uijepa", "decoder.dropout=1.5", "decoder.dropout"),  # and this
    ("uijepa", "decoder.steps=0", "decoder.steps"),  # an untrained decoder was scored
    ("tijepa", "text.max_len=0", "text.max_len"),  # captions became empty sequences
    ("tijepa", "text.kind=foo", "text.kind"),  # refused only after image pre-training
    ("tijepa", "text.dim=30", "text.dim=30"),  # heads 4: a traceback after pre-training
    ("tijepa", "text.mask_share=1.5", "text.mask_share"),
    ("tijepa", "text.corpus=-5", "text.corpus"),
    ("actjepa", "eval.episodes=0", "eval.episodes"),  # crashed after training
    ("actjepa", "data.heldout_episodes=0", "data.heldout_episodes"),
    ("actjepa", "data.steps=1", "data.steps"),
    ("actjepa", "model.predictor_dim=0", "model.predictor_dim"),  # a 0-wide predictor trained
    ("actjepa", "model.latent_weight=0", "nothing would train", "model.latent_only_share=0.5"),
    ("mcjepa", "views.scale=[0.9,0.2]", "views.scale"),
    ("mcjepa", "views.scale=[-0.5,0.5]", "views.scale"),  # NaN crops blamed on the lr
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_settings_that_cannot_work_fail_when_read(case: tuple[str, ...]) -> None:
    recipe, override, match, *more = case
    with pytest.raises(ConfigError, match=match):
        load_config(RECIPES.get(recipe).default_config(), None, [override, *more])


@pytest.mark.parametrize(
    ("override", "match"),
    [("model.widths=[]", "model.widths"), ("model.radius=-1", "model.radius"),
     ("model.skip_levels=10", "model.skip_levels")],
)  # fmt: skip
def test_mcjepa_model_settings_are_one_line(tmp_path: Path, capsys, override: str,
                                            match: str) -> None:  # fmt: skip
    code, _, err = run_cli(capsys, "train", "mcjepa", *tiny("mcjepa", override),
                           "--out", str(tmp_path / "run"))  # fmt: skip
    assert code == 2
    assert_one_line_error(err, match)


def test_temporal_masks_on_a_one_step_grid_say_they_do_nothing() -> None:
    from omnijepa.masks.frames import FramesAndTubesConfig, FramesAndTubesSampler

    with pytest.warns(UserWarning, match="temporal_share=1 does nothing"):
        FramesAndTubesSampler((1, 4, 4), FramesAndTubesConfig(temporal_share=1.0))


@pytest.mark.parametrize(
    ("recipe", "override", "match"),
    [("mcjepa", "objective.content_weight=-1", "objective.content_weight"),
     ("sjepa", "model.window=0", "model.window"),  # a ZeroDivisionError
     ("sjepa", "data.channels=[]", "data.channels is empty"),
     ("sjepa", "data.channels=[C3,C3,C4]", "C3 more than once"),
     ("tjepa", "model.reg_tokens=-1", "model.reg_tokens")],  # named an internal class
)  # fmt: skip
def test_more_settings_name_their_key(recipe: str, override: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        cfg = load_config(RECIPES.get(recipe).default_config(), None, [override])
        RECIPES.get(recipe).build(cfg, __import__("torch").device("cpu"))


@pytest.mark.parametrize(
    ("recipe", "override", "match"),
    [("3djepa", "augment.scale=[2,1]", "augment.scale"),  # failed at the first batch
     ("series_jepa", "model.window=0", "model.window"),  # a ZeroDivisionError
     ("series_jepa", "data.noise=-1", "data.noise"),  # numpy's "scale < 0"
     ("brainjepa", "data.noise=-1", "data.noise"),
     ("sjepa", "data.unknown_channels=foo", "data.unknown_channels")],
)  # fmt: skip
def test_generator_and_augment_settings_name_their_key(recipe: str, override: str,
                                                       match: str) -> None:  # fmt: skip
    with pytest.raises(ConfigError, match=match):
        load_config(RECIPES.get(recipe).default_config(), None, [override])
