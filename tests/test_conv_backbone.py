"""The conv backbone LeJEPA trains by default, and the model.backbone choice."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from omnijepa.config import load_config
from omnijepa.errors import ConfigError
from omnijepa.nn.conv_backbone import ConvBackbone
from omnijepa.recipes import RECIPES
from omnijepa.recipes.image_backbones import warn_unused_keys
from omnijepa.recipes.lejepa import build_objective
from tests.test_cli import assert_one_line_error, run_cli


def test_tokens_are_the_last_feature_map() -> None:
    net = ConvBackbone(3, (8, 16, 24), "group")
    for side, grid in ((32, 8), (16, 4), (15, 4)):  # halved twice, rounded up
        x = torch.randn(2, 3, side, side)
        assert net(x).shape == (2, grid * grid, 24)
        coords = net.coords(x)  # the token contract: one (row, col) per token, raster order
        assert coords.shape == (grid * grid, 2) and coords[-1].tolist() == [grid - 1, grid - 1]
    assert net(torch.randn(1, 3, 20, 9)).shape[1] == len(net.coords(torch.randn(1, 3, 20, 9)))


def test_batch_norm_backbone_takes_a_batch_of_one() -> None:
    net = ConvBackbone(1, (8, 16), "batch").train()
    assert net(torch.randn(1, 1, 8, 8)).shape == (1, 16, 16)


def _lejepa(*overrides: str):
    recipe = RECIPES.get("lejepa")
    return load_config(recipe.default_config(), None, list(overrides), recipe="lejepa")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model.backbone=resnet"], "(model.backbone) 'resnet'; valid: conv, vit"),
        (["model.norm=layer"], "model.norm='layer' is not one of batch, group"),
        (["model.widths=[]"], "model.widths must be positive"),
        (["model.widths=[12,24]", "model.norm=group"], "must be multiples of 8"),
    ],
)
def test_bad_backbone_settings_are_named(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _lejepa(*overrides)


def test_projector_reads_the_backbone_width() -> None:
    conv = build_objective(_lejepa("model.widths=[8,8,16]"))
    vit = build_objective(_lejepa("model.backbone=vit", "model.dim=32", "model.heads=2"))
    x = torch.randn(2, 1, 32, 32)
    assert conv.encoder(x).shape[-1] == 16 and vit.encoder(x).shape[-1] == 32
    for objective in (conv, vit):
        assert objective.embedding_head()(x).shape == (2, 1, 64)


def test_builds_are_deterministic_so_the_twin_is_the_start() -> None:
    cfg = _lejepa("model.widths=[8,8,16]", "seed=3")
    a, b = build_objective(cfg).state_dict(), build_objective(cfg).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_layers_on_a_conv_backbone_refused_before_training(
    tmp_path: Path, capsys, tiny_overrides
) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "lejepa", *tiny_overrides("lejepa"),
                           "eval.layers=2", "--out", str(out))  # fmt: skip
    assert code != 0
    assert_one_line_error(err, "eval.layers=2", "model.backbone=conv", "model.backbone=vit")
    assert not (out / "metrics.jsonl").exists()


def test_vit_views_must_be_whole_patches(tmp_path: Path, capsys, tiny_overrides) -> None:
    code, _, err = run_cli(capsys, "train", "lejepa", *tiny_overrides("lejepa:vit"),
                           "views.local_size=6", "--out", str(tmp_path / "run"))  # fmt: skip
    assert code != 0
    assert_one_line_error(err, "views.local_size=6 is not divisible by model.patch=4")


def test_keys_of_the_other_backbone_are_named_as_unused() -> None:
    recipe = RECIPES.get("lejepa")
    with pytest.warns(UserWarning, match=r"model\.depth shapes another backbone: unused with "
                      r"model\.backbone=conv"):  # fmt: skip
        recipe.build(_lejepa("model.depth=8", "model.widths=[8,8,16]", "data.train_size=64",
                             "data.test_size=32"), torch.device("cpu"))  # fmt: skip
    # a ViT run read back from its config.yaml (lists, not tuples) warns about nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_unused_keys(_lejepa("model.backbone=vit", "model.widths=[32,64,128]").model,
                         recipe.default_config().model)  # fmt: skip


def test_the_backbone_runs_channels_last_and_a_checkpoint_keeps_the_layout() -> None:
    """The weights are channels-last (the faster CPU kernels); a contiguous tensor read from a
    checkpoint is put back in its parameter's layout (an optimizer moment of such a weight),
    so a resumed run rounds as the uninterrupted one (tests/test_training.py's resume test)."""
    from omnijepa.distributed import shard_like
    from omnijepa.nn.conv_backbone import ConvBackbone

    net = ConvBackbone(1, (8, 16))
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(c.weight.is_contiguous(memory_format=torch.channels_last) for c in convs)
    w = convs[-1].weight
    assert not w.is_contiguous()  # 16 input channels: the two layouts differ
    loaded = torch.randn(w.shape)  # what safetensors gives back: contiguous
    back = shard_like(loaded, w)
    assert back.stride() == w.stride() and torch.equal(back, loaded)
    assert shard_like(loaded, torch.zeros(w.shape)) is loaded  # same layout: no copy
    out = net(torch.randn(2, 1, 8, 8))
    assert out.shape == (2, 16, 16)
