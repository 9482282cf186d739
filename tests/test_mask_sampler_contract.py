"""The mask-sampler contract (``masks.mask_batch``), checked over the whole ``MASK_SAMPLERS``
registry: disjoint, never empty, sizes within the configured shares, terminates on tiny
grids, deterministic in the generator, and runs on coordinates of any arity."""

from __future__ import annotations

import math

import pytest
import torch

from omnijepa.config import load_config
from omnijepa.errors import ConfigError
from omnijepa.masks import MASK_SAMPLERS, batch_generator, build_mask_sampler
from omnijepa.recipes import RECIPES
from omnijepa.recipes.point_common import build_point_collate

# the config fields holding each sampler's per-target and context shares of the tokens
SHARES = {
    "multiblock": ("target_scale", "context_scale"),
    "feature_subsets": ("target_share", "context_share"),
    "sequence_runs": ("target_ratio", None),  # context: a share of what the targets leave
    "point_blocks": ("target_ratio", "context_ratio"),
    "random_tokens": ("target_ratio", None),
    "stripes": ("target_scale", None),
    "tf_curriculum": (None, None),  # either family: checked through its two samplers
    "spatial_radius": (None, None),  # a share set by the radius: tests/test_eeg.py
    "tubes": (None, None),  # either kind: multi-block shares, tests/test_video.py
    "roi_time": (None, None),  # unions of blocks of drawn shares: tests/test_brainjepa.py
    "frames_and_tubes": (None, None),  # tubes or whole time steps: tests/test_uijepa.py
}
GRIDS = [(16,), (6, 6), (2, 4, 4)]
TINY = [(2,), (1, 2), (3,), (2, 1, 1)]


def test_every_sampler_states_its_shares() -> None:
    assert sorted(SHARES) == MASK_SAMPLERS.names()


def draw(name: str, grid: tuple[int, ...], b: int, seed: int, arity: int = 3, shared=False):
    sampler = build_mask_sampler(name, grid)
    n = math.prod(grid)
    g = torch.Generator().manual_seed(1000 + seed)
    coords = torch.randn((n, arity) if shared else (b, n, arity), generator=g)
    return sampler, sampler.sample(b, batch_generator(seed, 0), coords=coords, progress=0.5)


def check_batch(masks, b: int, n: int) -> None:
    ctx, tgt = masks.context, masks.targets
    assert ctx.dtype == torch.int64 and tgt.dtype == torch.int64
    assert ctx.dim() == 2 and tgt.dim() == 3 and ctx.shape[0] == tgt.shape[0] == b
    assert ctx.shape[1] >= 1 and tgt.shape[1] >= 1 and tgt.shape[2] >= 1
    assert int(ctx.min()) >= 0 and int(ctx.max()) < n and int(tgt.min()) >= 0 and int(tgt.max()) < n
    assert torch.equal(ctx, ctx.sort(dim=1).values) and torch.equal(tgt, tgt.sort(dim=2).values)
    for i in range(b):
        assert len(set(ctx[i].tolist())) == ctx.shape[1]
        assert not set(ctx[i].tolist()) & set(tgt[i].flatten().tolist()), "context meets target"


@pytest.mark.parametrize("name", MASK_SAMPLERS.names())
@pytest.mark.parametrize("grid", GRIDS)
def test_sampler_contract(name: str, grid: tuple[int, ...]) -> None:
    n, b = math.prod(grid), 8
    for seed in range(5):
        sampler, masks = draw(name, grid, b, seed)
        check_batch(masks, b, n)
        t_attr, c_attr = SHARES[name]
        share = masks.targets.shape[2] / n
        if t_attr is not None:
            lo, hi = getattr(sampler.cfg, t_attr)
            # blocks on a plane round both sides: up to half a row and half a column of slack;
            # a stripe is whole rows or columns: at least one
            plane = grid[-2:] if name == "multiblock" and len(grid) > 1 else (0,)
            tol = (1.5 + 0.5 * sum(plane)) / n
            if name == "stripes":
                lo, hi = lo - 0.5 / min(grid), max(hi + 0.5 / min(grid), 1 / min(grid))
            assert lo - tol <= share <= hi + tol, (share, lo, hi)
        if c_attr is not None:
            assert masks.context.shape[1] / n <= getattr(sampler.cfg, c_attr)[1] + 1.5 / n
        again = build_mask_sampler(name, grid)
        _, same = draw(name, grid, b, seed)
        assert torch.equal(masks.context, same.context) and torch.equal(masks.targets, same.targets)
        assert again.grid == sampler.grid


@pytest.mark.parametrize("name", MASK_SAMPLERS.names())
@pytest.mark.parametrize("grid", TINY)
def test_sampler_terminates_on_tiny_grids(name: str, grid: tuple[int, ...]) -> None:
    for seed in range(10):
        _, masks = draw(name, grid, 4, seed)
        check_batch(masks, 4, math.prod(grid))


@pytest.mark.parametrize("name", MASK_SAMPLERS.names())
@pytest.mark.parametrize("arity", [1, 2, 4])
@pytest.mark.parametrize("shared", [False, True])
def test_sampler_runs_on_coordinates_of_any_arity(name: str, arity: int, shared: bool) -> None:
    _, masks = draw(name, (5, 5), 3, 0, arity, shared)
    check_batch(masks, 3, 25)


@pytest.mark.parametrize("name", MASK_SAMPLERS.names())
def test_sampler_takes_progress(name: str) -> None:
    sampler = build_mask_sampler(name, (6, 6))
    coords = torch.randn(36, 2)
    for progress in (None, 0.0, 0.5, 1.0):
        masks = sampler.sample(2, batch_generator(0, 1), coords=coords, progress=progress)
        check_batch(masks, 2, 36)


@pytest.mark.parametrize("recipe", ["pointjepa", "3djepa"])
@pytest.mark.parametrize("name", MASK_SAMPLERS.names())
def test_every_sampler_serves_the_point_recipes(recipe: str, name: str) -> None:
    overrides = [f"mask.sampler={name}", "augment.rotate_axis=y"]  # auto is read from data
    cfg = load_config(RECIPES.get(recipe).default_config(), None, overrides)
    collate = build_point_collate(cfg)
    batch = collate([(torch.randn(256, 3), 0)] * 4, 0)
    check_batch_dict = {k: batch[k] for k in ("context", "targets")}
    assert check_batch_dict["targets"].shape[0] == 4
    assert int(batch["context"].max()) < cfg.model.num_groups


def test_a_point_recipe_refuses_a_sampler_name_that_is_not_one() -> None:
    cfg = load_config(RECIPES.get("pointjepa").default_config(), None, ["mask.sampler=order"])
    with pytest.raises(ConfigError, match="unknown mask sampler 'order'"):
        build_point_collate(cfg)


@pytest.mark.parametrize("recipe", RECIPES.names())
@pytest.mark.parametrize("name", MASK_SAMPLERS.names())
def test_every_recipe_takes_a_sampler_or_says_why_in_one_line(
    recipe: str, name: str, capsys: pytest.CaptureFixture[str], tmp_path, tiny_overrides
) -> None:  # noqa: ANN001
    """``mask.sampler=NAME`` either draws masks or is one ``omnijepa: error:`` line."""
    from tests.test_cli import assert_one_line_error, run_cli

    ov = tiny_overrides(recipe, f"mask.sampler={name}")
    code, _, err = run_cli(capsys, "masks", recipe, *ov, "--n", "2", "--out", tmp_path / "m.png")
    if code == 0:
        assert (tmp_path / "m.png").stat().st_size > 0
    else:
        assert_one_line_error(err, "mask")
