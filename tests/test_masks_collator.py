"""The mask collator: stacking, masks as a function of (seed, batch index), DataLoader workers."""

from __future__ import annotations

import multiprocessing

import pytest
import torch
from torch.utils.data import DataLoader

from omnijepa.masks import MaskCollator, MultiBlockConfig, MultiBlockMaskSampler
from omnijepa.masks import collator as collator_mod


# --- collator ---------------------------------------------------------------------------------
def make_samples(n: int, offset: int = 0) -> list[tuple[torch.Tensor, int]]:
    return [(torch.full((3, 8, 8), float(i + offset)), i + offset) for i in range(n)]


def same_masks(a: dict, b: dict) -> bool:
    return torch.equal(a["context"], b["context"]) and torch.equal(a["targets"], b["targets"])


def test_collator_shapes_and_types():
    coll = MaskCollator(MultiBlockMaskSampler((8, 8), MultiBlockConfig()), seed=0)
    out = coll(make_samples(5))
    assert set(out) == {"x", "y", "context", "targets"}
    assert out["x"].shape == (5, 3, 8, 8) and out["y"].dtype == torch.long
    assert out["y"].tolist() == [0, 1, 2, 3, 4]
    assert out["context"].shape[0] == 5 and out["targets"].shape[:2] == (5, 4)


def test_collator_is_a_function_of_seed_and_batch_index():
    sampler = MultiBlockMaskSampler((14, 14), MultiBlockConfig())
    coll = MaskCollator(sampler, seed=7)
    counted = [coll(make_samples(4)) for _ in range(5)]
    fresh = MaskCollator(sampler, seed=7)
    for k in (3, 0, 4):
        assert same_masks(counted[k], fresh(make_samples(4), batch_index=k))
    assert not same_masks(counted[0], counted[1])
    assert not same_masks(counted[0], MaskCollator(sampler, seed=8)(make_samples(4), 0))
    # Resume: restore the counter, get the same following masks.
    state = coll.state_dict()
    assert state == {"seed": 7, "next_batch": 5}
    nxt = coll(make_samples(4))
    resumed = MaskCollator(sampler, seed=0)
    resumed.load_state_dict(state)
    assert same_masks(nxt, resumed(make_samples(4)))
    assert same_masks(nxt, fresh(make_samples(4), batch_index=5))


def test_collator_worker_round_robin(monkeypatch):
    sampler = MultiBlockMaskSampler((8, 8), MultiBlockConfig())
    ref = MaskCollator(sampler, seed=3)
    workers = [MaskCollator(sampler, seed=3) for _ in range(3)]
    for k in range(7):  # batch k goes to worker k % 3, as its (k // 3)-th call
        w = k % 3
        info = type("Info", (), {"id": w, "num_workers": 3})()
        monkeypatch.setattr(collator_mod, "get_worker_info", lambda info=info: info)
        got = workers[w](make_samples(2))
        assert same_masks(got, ref(make_samples(2), batch_index=k)), k


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork workers"
)
def test_collator_with_real_dataloader_workers():
    sampler = MultiBlockMaskSampler((8, 8), MultiBlockConfig())
    data = make_samples(10)
    ref = MaskCollator(sampler, seed=11)
    expected = [ref(data[i : i + 2], batch_index=k) for k, i in enumerate(range(0, 10, 2))]
    for workers in (0, 2):
        coll = MaskCollator(sampler, seed=11)
        loader = DataLoader(
            data,
            batch_size=2,
            collate_fn=coll,
            num_workers=workers,
            multiprocessing_context="fork" if workers else None,
        )
        batches = list(loader)
        assert len(batches) == 5
        for k, (got, exp) in enumerate(zip(batches, expected)):
            assert same_masks(got, exp), (workers, k)
            assert torch.equal(got["x"], exp["x"])


def test_crop_prepare_is_seeded_shape_preserving_and_off_by_default():
    from omnijepa.masks.collator import batch_generator
    from omnijepa.modalities.image_views import CropConfig, CropPrepare

    assert not CropConfig().active
    crop = CropPrepare(CropConfig(scale=(0.3, 1.0)))
    x = torch.randn(4, 1, 16, 16)
    a, coords = crop(x, batch_generator(0, 3))
    b, _ = crop(x, batch_generator(0, 3))
    c, _ = crop(x, batch_generator(0, 4))
    assert coords is None and a.shape == x.shape
    assert torch.equal(a, b) and not torch.equal(a, c)
    # a full-size crop with no flip reproduces the image (bilinear at pixel centres)
    same, _ = CropPrepare(CropConfig(scale=(1.0, 1.0), ratio=(1.0, 1.0)))(x, batch_generator(0, 0))
    assert torch.allclose(same, x, atol=1e-5)
    with pytest.raises(ValueError, match="crop.scale"):
        CropConfig(scale=(0.5, 1.5))


@pytest.mark.parametrize(("rows", "cols"), [(224, 224), (96, 96), (7, 5), (1, 1)])
def test_crop_grid_is_affine_grid_of_an_axis_aligned_map(rows: int, cols: int) -> None:
    """The crops' sampling grid, built from its two axes, is ``F.affine_grid``'s (to float
    rounding), flips and off-centre crops included."""
    import torch.nn.functional as F

    from omnijepa.modalities.image_views import crop_grid

    g = torch.Generator().manual_seed(rows)
    b = 16
    sx = torch.rand(b, generator=g) * torch.where(torch.rand(b, generator=g) < 0.5, -1.0, 1.0)
    sy, cx, cy = torch.rand(b, generator=g), *(torch.rand(2, b, generator=g) - 0.5)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = sx, cx, sy, cy
    ref = F.affine_grid(theta, [b, 3, rows, cols], align_corners=False)
    torch.testing.assert_close(crop_grid(sx, cx, sy, cy, rows, cols), ref, atol=1e-6, rtol=0)
