"""Point-cloud tokenisation: FPS, kNN grouping, sequencers, augmentation, tokenizer, MLP pos."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omnijepa.errors import ConfigError
from omnijepa.modalities.point_cloud import (
    PATCH_ORDERS,
    PointPatchTokenizer,
    augment_points,
    farthest_point_sample,
    group_patches,
    knn_indices,
    normalize_unit_sphere,
    order_patches,
    pack_patches,
    permute_patches,
    random_rotations,
    unpack_patches,
)
from omnijepa.nn.encoder import TokenEncoder
from omnijepa.nn.positional import POSITIONAL_ENCODINGS, build_positional, gather_tokens
from omnijepa.nn.tokens import Axis


def _cloud(b: int, p: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(b, p, 3, generator=torch.Generator().manual_seed(seed))


def _coverage_radius(points: np.ndarray, idx: np.ndarray) -> float:
    """Max over points of the distance to the nearest selected point."""
    d = np.linalg.norm(points[:, None, :] - points[None, idx, :], axis=-1)
    return float(d.min(axis=1).max())


def test_fps_distinct_and_covers_better_than_random() -> None:
    pts = _cloud(3, 400)
    idx = farthest_point_sample(pts, 32)
    assert idx.shape == (3, 32) and idx.dtype == torch.long
    rng = np.random.default_rng(0)
    for b in range(3):
        assert len(set(idx[b].tolist())) == 32
        p = pts[b].numpy()
        fps_r = _coverage_radius(p, idx[b].numpy())
        rand_r = np.mean(
            [_coverage_radius(p, rng.choice(400, 32, replace=False)) for _ in range(8)]
        )
        assert fps_r < 0.8 * rand_r
        # per sample: same as running FPS on that cloud alone
        assert torch.equal(idx[b], farthest_point_sample(pts[b : b + 1], 32)[0])


def test_fps_duplicates_start_and_errors() -> None:
    pts = torch.zeros(2, 10, 3)  # all duplicates: indices must still be distinct
    idx = farthest_point_sample(pts, 10)
    assert sorted(idx[0].tolist()) == list(range(10))
    g = torch.Generator().manual_seed(1)
    idx = farthest_point_sample(_cloud(4, 50), 5, start="random", generator=g)
    assert idx.shape == (4, 5)
    assert farthest_point_sample(_cloud(1, 50), 3, start=7)[0, 0] == 7
    with pytest.raises(ValueError, match="distinct"):
        farthest_point_sample(_cloud(1, 5), 6)
    with pytest.raises(ValueError, match="start"):
        farthest_point_sample(_cloud(1, 5), 2, start="middle")


def test_knn_matches_brute_force() -> None:
    pts = _cloud(2, 120, seed=3)
    query = pts[:, :10]
    nbr = knn_indices(query, pts, 7)
    for b in range(2):
        for gi in range(10):
            d = [float(((pts[b, j] - query[b, gi]) ** 2).sum()) for j in range(120)]
            ref = sorted(range(120), key=lambda j: d[j])[:7]
            assert nbr[b, gi].tolist() == ref
            assert nbr[b, gi, 0] == gi  # the centre is its own nearest neighbour


def test_group_patches_and_packing() -> None:
    pts = _cloud(2, 200, seed=4)
    centres, patches = group_patches(pts, 16, 8)
    assert centres.shape == (2, 16, 3) and patches.shape == (2, 16, 8, 3)
    assert torch.allclose(patches[:, :, 0], torch.zeros(2, 16, 3))  # the centre itself
    idx = farthest_point_sample(pts, 16)
    assert torch.equal(centres, torch.stack([pts[b, idx[b]] for b in range(2)]))
    x = pack_patches(centres, patches)
    assert x.shape == (2, 16, 9, 3)
    c2, p2 = unpack_patches(x)
    assert torch.equal(c2, centres) and torch.equal(p2, patches)


def test_normalize_unit_sphere() -> None:
    pts = _cloud(3, 64) * 5 + 2
    out = normalize_unit_sphere(pts)
    assert torch.allclose(out.mean(dim=1), torch.zeros(3, 3), atol=1e-5)
    assert torch.allclose(out.norm(dim=-1).amax(dim=1), torch.ones(3))


def _nn_chain_reference(c: np.ndarray) -> list[int]:
    cur = int(np.argmin(c.sum(-1)))
    order, left = [cur], set(range(len(c))) - {cur}
    while left:
        cur = min(left, key=lambda j: float(((c[j] - c[cur]) ** 2).sum()))
        order.append(cur)
        left.remove(cur)
    return order


def _mean_step(c: torch.Tensor, perm: torch.Tensor) -> float:
    seq = c[perm]
    return float((seq[1:] - seq[:-1]).norm(dim=-1).mean())


def test_nn_chain_order() -> None:
    centres, _ = group_patches(_cloud(3, 300, seed=5), 40, 4)
    perm = PATCH_ORDERS.get("nn_chain")(centres, None)
    g = torch.Generator().manual_seed(0)
    for b in range(3):
        assert sorted(perm[b].tolist()) == list(range(40))
        assert perm[b, 0] == centres[b].sum(-1).argmin()
        assert perm[b].tolist() == _nn_chain_reference(centres[b].numpy())
        rand = torch.randperm(40, generator=g)
        assert _mean_step(centres[b], perm[b]) < 0.6 * _mean_step(centres[b], rand)


def test_other_orders_are_permutations() -> None:
    centres = _cloud(2, 50, seed=6)
    g = torch.Generator().manual_seed(0)
    for name in ("morton", "random", "none"):
        perm = order_patches(name, centres, g)
        assert perm.shape == (2, 50) and perm.dtype == torch.long
        for b in range(2):
            assert sorted(perm[b].tolist()) == list(range(50))
    assert torch.equal(order_patches("none", centres)[0], torch.arange(50))
    rand = order_patches("random", centres, torch.Generator().manual_seed(1))
    assert not torch.equal(rand[0], rand[1])
    # z-order: points in the low octant of the bounding box come before the high octant
    corners = torch.tensor([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.1, 0.0, 0.0]]])
    assert order_patches("morton", corners)[0, 0] == 1
    assert order_patches("morton", corners)[0, -1] == 0
    with pytest.raises(ConfigError, match="nn_chain"):
        order_patches("hilbert", centres)


def test_permute_patches() -> None:
    x = torch.arange(2 * 5 * 3 * 3, dtype=torch.float32).reshape(2, 5, 3, 3)
    perm = torch.tensor([[4, 3, 2, 1, 0], [0, 2, 4, 1, 3]])
    out = permute_patches(x, perm)
    for b in range(2):
        assert torch.equal(out[b], x[b, perm[b]])


def test_augment_per_sample_and_deterministic() -> None:
    pts = _cloud(1, 64).expand(6, -1, -1).contiguous()  # the same cloud 6 times
    a = augment_points(pts, torch.Generator().manual_seed(0))
    b = augment_points(pts, torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    for i in range(1, 6):
        assert not torch.allclose(a[0], a[i])  # each sample gets its own scale and angle
    c = augment_points(pts, torch.Generator().manual_seed(1))
    assert not torch.allclose(a, c)


def test_rotation_preserves_norms_about_axis() -> None:
    pts = _cloud(5, 64, seed=2)
    for axis in (0, 1, 2):
        out = augment_points(pts, torch.Generator().manual_seed(3), scale=None, rotate_axis=axis)
        assert torch.allclose(out[..., axis], pts[..., axis], atol=1e-6)
        assert torch.allclose(out.norm(dim=-1), pts.norm(dim=-1), atol=1e-5)
        assert not torch.allclose(out, pts, atol=1e-3)
    scaled = augment_points(pts, torch.Generator().manual_seed(3), rotate_axis=None)
    ratio = scaled / pts
    assert torch.all((ratio >= 0.8 - 1e-5) & (ratio <= 1.2 + 1e-5))
    jit = augment_points(pts, torch.Generator(), scale=None, rotate_axis=None, jitter=0.01)
    assert 0 < float((jit - pts).abs().max()) < 0.1


def test_so3_augmentation_draws_proper_rotations_in_every_direction() -> None:
    rot = random_rotations(2000, torch.Generator().manual_seed(0))
    eye = torch.eye(3, dtype=torch.float64).expand(2000, 3, 3)
    assert torch.allclose(rot @ rot.transpose(1, 2), eye, atol=1e-12)
    assert torch.allclose(torch.linalg.det(rot), torch.ones(2000, dtype=torch.float64))
    up = rot[:, :, 1]  # where the y axis goes: uniform on the sphere
    assert float(up.mean(0).abs().max()) < 0.06
    pts = _cloud(4, 64, seed=2)
    out = augment_points(pts, torch.Generator().manual_seed(3), scale=None, rotate_axis="so3")
    assert torch.allclose(out.norm(dim=-1), pts.norm(dim=-1), atol=1e-5)
    for axis in range(3):  # no coordinate is kept, as a turn about one axis would keep it
        assert not torch.allclose(out[..., axis], pts[..., axis], atol=1e-3)


def test_tokenizer_shapes_and_coords() -> None:
    centres, patches = group_patches(_cloud(2, 128, seed=7), 8, 16)
    x = pack_patches(centres, patches).requires_grad_(True)
    tok = PointPatchTokenizer(dim=32, group_size=16, hidden=(16, 32, 64))
    assert tok.dim == 32 and [a.kind for a in tok.axes] == ["continuous"] * 3
    assert not tok.shared_coords
    out = tok(x)
    assert out.shape == (2, 8, 32)
    out.sum().backward()
    assert x.grad is not None and all(p.grad is not None for p in tok.parameters())
    assert torch.equal(tok.coords(x), centres)
    # a sample's tokens do not depend on the other samples (no BatchNorm)
    assert torch.allclose(tok(x[:1]), out[:1], atol=1e-6)
    with pytest.raises(ValueError, match="17"):
        tok.coords(torch.zeros(2, 8, 5, 3))
    with pytest.raises(ValueError, match="17"):
        tok(torch.zeros(2, 8, 5, 3))


def test_tokenizer_is_point_maes_concatenated_mlp() -> None:
    """The split product in forward is the same map as Point-MAE's second MLP applied to
    [patch max ‖ point feature] at every point."""
    centres, patches = group_patches(_cloud(3, 128, seed=3), 8, 16)
    x = pack_patches(centres, patches)
    torch.manual_seed(0)
    tok = PointPatchTokenizer(dim=32, group_size=16, hidden=(16, 32, 64))
    with torch.no_grad():
        feat = tok.first(x[:, :, 1:])
        pooled = feat.amax(dim=2, keepdim=True).expand_as(feat)
        reference = tok.second(torch.cat([pooled, feat], dim=-1)).amax(dim=2)
        assert torch.allclose(tok(x), reference, atol=1e-5)


def test_encoder_tokenizes_only_the_kept_patches() -> None:
    """Patch tokens read only their patch, so the encoder gathers the kept patches before
    the mini-PointNet: the same context outputs (and gradients) as tokenizing all of them."""
    centres, patches = group_patches(_cloud(3, 128, seed=5), 8, 16)
    x = pack_patches(centres, patches)
    torch.manual_seed(0)
    enc = TokenEncoder(PointPatchTokenizer(32, 16, (16, 32, 64)), 1, 2, pos="mlp")
    keep = torch.stack([torch.randperm(8, generator=torch.Generator().manual_seed(i))[:5]
                        for i in range(3)])  # fmt: skip
    assert enc.tokenizer.per_token_input
    sparse = enc(x, keep)
    sparse.square().sum().backward()
    grads = [p.grad.clone() for p in enc.parameters()]
    enc.zero_grad()
    enc.tokenizer.per_token_input = False  # every patch tokenized, then the kept gathered
    dense = enc(x, keep)
    dense.square().sum().backward()
    assert torch.allclose(sparse, dense, atol=1e-6)
    assert all(torch.allclose(g, p.grad, atol=1e-6) for g, p in zip(grads, enc.parameters()))
    assert torch.equal(gather_tokens(x, keep)[:, :, 0], torch.gather(
        centres, 1, keep[..., None].expand(-1, -1, 3)))  # fmt: skip
    barred = torch.zeros(3, 8, dtype=torch.bool)
    barred[torch.arange(3), keep[:, 0]] = True  # one kept token is no attention key
    with torch.no_grad():
        dense = enc(x, keep, barred=barred)
        enc.tokenizer.per_token_input = True
        assert torch.allclose(enc(x, keep, barred=barred), dense, atol=1e-6)


def test_positional_mlp() -> None:
    assert "mlp" in POSITIONAL_ENCODINGS
    xyz = tuple(Axis(n, "continuous") for n in "xyz")
    pos = build_positional("mlp", 24, xyz)
    per_sample = pos(torch.randn(2, 10, 3))
    shared = pos(torch.randn(10, 3))
    assert per_sample.shape == (2, 10, 24) and shared.shape == (10, 24)
    c = torch.randn(10, 3)
    assert torch.allclose(pos(c.expand(2, -1, -1))[1], pos(c))
    pos2 = POSITIONAL_ENCODINGS.get("mlp")(16, xyz[:2], hidden=8)
    assert pos2(torch.randn(4, 2)).shape == (4, 16)
    with pytest.raises(ValueError, match="axes"):
        pos2(torch.randn(4, 3))
