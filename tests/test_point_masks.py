"""Point-cloud mask samplers: Point-JEPA sequence runs, 3D-JEPA point blocks, random tokens."""

from __future__ import annotations

import pytest
import torch

from omnijepa.errors import ConfigError
from omnijepa.masks import MASK_SAMPLERS, MaskBatch, build_mask_sampler
from omnijepa.masks.point_blocks import (
    PointBlocksConfig,
    PointBlocksMaskSampler,
    SequenceRunsConfig,
    SequenceRunsMaskSampler,
)

NAMES = ("sequence_runs", "point_blocks", "random_tokens")


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _check_contract(mb: MaskBatch, b: int, g: int, m: int) -> None:
    """Shapes, dtype, sorted rows, range, non-empty, context disjoint from every target."""
    assert mb.context.dtype == torch.int64 and mb.targets.dtype == torch.int64
    assert mb.context.dim() == 2 and mb.context.shape[0] == b and mb.context.shape[1] >= 1
    assert mb.targets.dim() == 3 and mb.targets.shape[:2] == (b, m) and mb.targets.shape[2] >= 1
    assert torch.equal(mb.context, mb.context.sort(dim=1).values)
    assert torch.equal(mb.targets, mb.targets.sort(dim=2).values)
    assert int(mb.context.min()) >= 0 and int(mb.context.max()) < g
    assert int(mb.targets.min()) >= 0 and int(mb.targets.max()) < g
    for r in range(b):
        ctx = set(mb.context[r].tolist())
        assert len(ctx) == mb.context.shape[1]
        for t in mb.targets[r]:
            assert len(set(t.tolist())) == len(t)
            assert not ctx & set(t.tolist())


@pytest.mark.parametrize("name", NAMES)
def test_contract_all_samplers(name: str) -> None:
    g = 64
    sampler = build_mask_sampler(name, (g,))
    for seed in range(5):
        coords = torch.randn(8, g, 3, generator=_gen(100 + seed))
        mb = sampler.sample(8, _gen(seed), coords=coords)
        _check_contract(mb, 8, g, 4)
        again = sampler.sample(8, _gen(seed), coords=coords)
        assert torch.equal(mb.context, again.context) and torch.equal(mb.targets, again.targets)


@pytest.mark.parametrize("name", NAMES)
def test_tiny_grid_and_huge_targets_terminate(name: str) -> None:
    for g in (2, 3, 5):
        sampler = build_mask_sampler(name, (g,), num_targets=6, target_ratio=(0.9, 1.0))
        for seed in range(20):
            coords = torch.randn(4, g, 3, generator=_gen(seed))
            _check_contract(sampler.sample(4, _gen(seed), coords=coords), 4, g, 6)


def test_sequence_runs_are_contiguous_and_context_slices_remaining() -> None:
    g = 50
    sampler = SequenceRunsMaskSampler((g,), SequenceRunsConfig(target_ratio=(0.1, 0.3)))
    sizes = set()
    for seed in range(10):
        mb = sampler.sample(6, _gen(seed))
        k = mb.targets.shape[2]
        sizes.add(k)
        assert 5 <= k <= 15
        for r in range(6):
            for t in mb.targets[r]:
                assert t.tolist() == list(range(int(t[0]), int(t[0]) + k))
            covered = set(mb.targets[r].flatten().tolist())
            remaining = [i for i in range(g) if i not in covered]
            ctx = mb.context[r].tolist()
            s = remaining.index(ctx[0])
            assert remaining[s : s + len(ctx)] == ctx
    assert len(sizes) > 1  # the run length is drawn per batch


def test_sequence_runs_shared_start() -> None:
    shared = build_mask_sampler("sequence_runs", (40,), shared_start=True).sample(8, _gen(3))
    assert torch.equal(shared.targets[:, :, 0], shared.targets[:1, :, 0].expand(8, -1))
    own = build_mask_sampler("sequence_runs", (40,)).sample(8, _gen(3))
    assert not torch.equal(own.targets[:, :, 0], own.targets[:1, :, 0].expand(8, -1))


def test_sequence_runs_context_starts_vary() -> None:
    mb = build_mask_sampler("sequence_runs", (64,), num_targets=1).sample(16, _gen(0))
    assert len(set(mb.context[:, 0].tolist())) > 3


def test_point_blocks_are_nearest_neighbour_blocks() -> None:
    g = 48
    sampler = PointBlocksMaskSampler((g,), PointBlocksConfig(target_ratio=(0.1, 0.25)))
    coords = torch.rand(5, g, 3, generator=_gen(7))
    for seed in range(4):
        mb = sampler.sample(5, _gen(seed), coords=coords)
        k = mb.targets.shape[2]
        for r in range(5):
            c = coords[r]
            for t in mb.targets[r]:
                members = set(t.tolist())
                # some member is the seed: the block equals it plus its k - 1 nearest centres
                found = False
                for seed_idx in members:
                    d = ((c - c[seed_idx]) ** 2).sum(-1).tolist()
                    ref = sorted(range(g), key=lambda j: (j != seed_idx, d[j]))[:k]
                    found |= set(ref) == members
                assert found


def test_point_blocks_need_coords() -> None:
    sampler = build_mask_sampler("point_blocks", (16,))
    with pytest.raises(ValueError, match="coords"):
        sampler.sample(2, _gen())
    with pytest.raises(ValueError, match="coords"):
        sampler.sample(2, _gen(), coords=torch.zeros(2, 15, 3))


def test_point_blocks_duplicate_centres() -> None:
    coords = torch.zeros(3, 10, 3)  # all centres coincide: ties everywhere
    mb = build_mask_sampler("point_blocks", (10,)).sample(3, _gen(), coords=coords)
    _check_contract(mb, 3, 10, 4)


def test_random_tokens_not_contiguous() -> None:
    mb = build_mask_sampler("random_tokens", (64,), target_ratio=(0.2, 0.2)).sample(8, _gen(1))
    _check_contract(mb, 8, 64, 4)
    spans = (mb.targets[..., -1] - mb.targets[..., 0] + 1).flatten()
    assert bool((spans > mb.targets.shape[2]).any())


def test_registered_and_config_errors() -> None:
    for name in NAMES:
        assert name in MASK_SAMPLERS
    with pytest.raises(ConfigError, match="bogus"):
        build_mask_sampler("sequence_runs", (16,), bogus=1)
    with pytest.raises(ConfigError, match="target_ratio"):
        build_mask_sampler("point_blocks", (16,), target_ratio=(0.3, 0.1))
    with pytest.raises(ConfigError, match="context_ratio"):
        build_mask_sampler("random_tokens", (16,), context_ratio=(0.0, 0.5))
    with pytest.raises(ConfigError, match="num_targets"):
        build_mask_sampler("sequence_runs", (16,), num_targets=0)
    with pytest.raises(ConfigError, match="shared_start"):
        build_mask_sampler("sequence_runs", (16,), shared_start="yes")
    assert build_mask_sampler("sequence_runs", (4, 4)).num_tokens == 16  # any grid, raster
    with pytest.raises(ConfigError, match="grid"):
        build_mask_sampler("sequence_runs", (4, 0))
    with pytest.raises(ConfigError, match=">= 2"):
        build_mask_sampler("random_tokens", (1,))
