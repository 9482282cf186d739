"""Building blocks: positional encodings, the token encoder, the predictor, attention."""

from __future__ import annotations

import math

import pytest
import torch

from omnijepa.errors import ConfigError
from omnijepa.modalities.image import PatchTokenizer
from omnijepa.nn.encoder import TokenEncoder
from omnijepa.nn.positional import (
    LearnedAxisPositional,
    build_positional,
    gather_tokens,
    sincos_embedding,
)
from omnijepa.nn.predictor import MaskTokenPredictor
from omnijepa.nn.tokens import Axis, grid_axes
from omnijepa.nn.transformer import SelfAttention, TransformerStack


def grid_coords(*sizes: int) -> torch.Tensor:
    """(N, A) integer coordinates of a grid in raster order, as floats."""
    mesh = torch.meshgrid(*[torch.arange(s) for s in sizes], indexing="ij")
    return torch.stack([m.reshape(-1) for m in mesh], dim=-1).float()


# ---- positional encodings -------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [(7,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("dim", [24, 32])
def test_sincos_shape_determinism_and_distinct_rows(sizes: tuple[int, ...], dim: int) -> None:
    coords = grid_coords(*sizes)
    emb = sincos_embedding(coords, dim)
    assert emb.shape == (coords.shape[0], dim)
    assert emb.dtype == torch.float32
    assert torch.isfinite(emb).all()
    assert torch.equal(emb, sincos_embedding(coords.clone(), dim))
    dist = torch.cdist(emb.double(), emb.double())
    off_diag = dist + torch.eye(len(coords), dtype=torch.float64) * 1e9
    assert off_diag.min() > 1e-3, "two different coordinates share an embedding"


@pytest.mark.parametrize("axes", [1, 2, 3])
def test_sincos_values_follow_the_formula(axes: int) -> None:
    dim = 26  # not a multiple of 2 * axes for axes=2,3: padding must be zeros
    share = (dim // (2 * axes)) * 2
    half = share // 2
    coords = torch.rand(5, axes) * 10
    emb = sincos_embedding(coords, dim)
    omega = 1.0 / 10000.0 ** (torch.arange(half, dtype=torch.float64) / half)
    for a in range(axes):
        angles = coords[:, a].double()[:, None] * omega
        block = emb[:, a * share : (a + 1) * share].double()
        torch.testing.assert_close(block[:, :half], torch.sin(angles), atol=1e-6, rtol=0)
        torch.testing.assert_close(block[:, half:], torch.cos(angles), atol=1e-6, rtol=0)
    assert torch.count_nonzero(emb[:, axes * share :]) == 0


def test_sincos_zero_coordinate_is_sin0_cos1() -> None:
    emb = sincos_embedding(torch.zeros(1, 1), 8)
    assert torch.equal(emb, torch.tensor([[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]]))


def test_sincos_batched_coords_match_shared_coords() -> None:
    coords = grid_coords(3, 3)
    batched = torch.stack([coords, coords.flip(0)])
    emb = sincos_embedding(batched, 16)
    assert emb.shape == (2, 9, 16)
    assert torch.equal(emb[0], sincos_embedding(coords, 16))
    assert torch.equal(emb[1], sincos_embedding(coords, 16).flip(0))


def test_sincos_dim_too_small_for_axes() -> None:
    with pytest.raises(ValueError, match="too small"):
        sincos_embedding(grid_coords(2, 2, 2), 4)


def test_learned_positional_sums_per_axis_tables() -> None:
    torch.manual_seed(0)
    pos = LearnedAxisPositional(8, grid_axes(("row", "col"), (3, 4)))
    assert sum(p.numel() for p in pos.parameters()) == (3 + 4) * 8
    coords = grid_coords(3, 4)
    out = pos(coords)
    assert out.shape == (12, 8)
    for i, (r, c) in enumerate(coords.long().tolist()):
        torch.testing.assert_close(out[i], pos.tables[0][r] + pos.tables[1][c])
    # float coordinates are rounded; a coordinate outside its table is an error, not a clamp
    near = pos(torch.tensor([[0.9, 1.2], [2.0, 3.0]]))
    torch.testing.assert_close(near[0], pos.tables[0][1] + pos.tables[1][1])
    torch.testing.assert_close(near[1], pos.tables[0][2] + pos.tables[1][3])
    for outside in ([[5.0, 0.0]], [[0.0, -1.0]]):
        with pytest.raises(RuntimeError, match="outside"):
            pos(torch.tensor(outside))
    out.sum().backward()
    assert all(t.grad is not None and t.grad.abs().sum() > 0 for t in pos.tables)


def test_learned_positional_needs_grid_axes() -> None:
    with pytest.raises(ConfigError, match="axes"):
        LearnedAxisPositional(8, ())
    with pytest.raises(ConfigError, match="'x'"):
        LearnedAxisPositional(8, (Axis("x", "continuous"),))


def test_positional_registry() -> None:
    axes = grid_axes(("a", "b"), (2, 2))
    assert isinstance(build_positional("learned", 8, axes), LearnedAxisPositional)
    assert sum(p.numel() for p in build_positional("sincos", 8, axes).parameters()) == 0
    with pytest.raises(ConfigError, match="learned"):
        build_positional("rope", 8, axes)


@pytest.mark.parametrize("arity", [1, 2, 3, 4, 5])
def test_mlp_positions_take_any_number_of_axes(arity: int) -> None:
    axes = tuple(Axis(f"a{i}", "continuous") for i in range(arity))
    pos = build_positional("mlp", 16, axes)
    assert pos(torch.randn(2, 7, arity)).shape == (2, 7, 16)
    with pytest.raises(ValueError, match="axes"):
        pos(torch.randn(2, 7, arity + 1))


def test_gather_tokens() -> None:
    x = torch.arange(2 * 5 * 3).view(2, 5, 3)
    idx = torch.tensor([[4, 0], [1, 1]])
    out = gather_tokens(x, idx)
    assert out.shape == (2, 2, 3)
    assert torch.equal(out[0, 0], x[0, 4]) and torch.equal(out[0, 1], x[0, 0])
    assert torch.equal(out[1, 0], x[1, 1]) and torch.equal(out[1, 1], x[1, 1])


# ---- encoder ----------------------------------------------------------------------------


def make_encoder(pos: str = "sincos", depth: int = 2) -> TokenEncoder:
    torch.manual_seed(0)
    tok = PatchTokenizer(channels=1, patch=4, dim=32, image_size=16)
    return TokenEncoder(tok, depth=depth, heads=2, pos=pos).eval()


@pytest.mark.parametrize("pos", ["sincos", "learned"])
def test_encoder_keep_shapes_and_all_indices_equal_no_keep(pos: str) -> None:
    enc = make_encoder(pos)
    x = torch.randn(3, 1, 16, 16)
    full = enc(x)
    assert full.shape == (3, 16, 32)
    keep = torch.stack([torch.randperm(16)[:5].sort().values for _ in range(3)])
    assert enc(x, keep=keep).shape == (3, 5, 32)
    all_idx = torch.arange(16).expand(3, -1)
    torch.testing.assert_close(enc(x, keep=all_idx), full, rtol=1e-5, atol=1e-6)


def test_encoder_is_equivariant_to_token_order() -> None:
    """Positions are added before selection, so a permuted keep permutes the output."""
    enc = make_encoder()
    x = torch.randn(2, 1, 16, 16)
    full = enc(x)
    perm = torch.stack([torch.randperm(16), torch.randperm(16)])
    torch.testing.assert_close(enc(x, keep=perm), gather_tokens(full, perm), rtol=1e-5, atol=1e-5)


def test_kept_tokens_know_their_position() -> None:
    """On a constant image every patch is identical; only the position tells them apart."""
    enc = make_encoder()
    x = torch.ones(1, 1, 16, 16)
    outs = [enc(x, keep=torch.tensor([[i]]))[0, 0] for i in (0, 5, 15)]
    assert not torch.allclose(outs[0], outs[1], atol=1e-4)
    assert not torch.allclose(outs[1], outs[2], atol=1e-4)


def test_encoder_subset_depends_only_on_kept_tokens() -> None:
    enc = make_encoder()
    x = torch.randn(1, 1, 16, 16)
    keep = torch.tensor([[0, 1, 4, 5]])  # the top-left 8x8 pixels
    y = x.clone()
    y[..., 8:, 8:] = torch.randn(1, 1, 8, 8)  # change pixels outside the kept patches
    torch.testing.assert_close(enc(x, keep=keep), enc(y, keep=keep))
    assert not torch.allclose(enc(x), enc(y))


# ---- predictor --------------------------------------------------------------------------


def make_predictor(depth: int = 1) -> MaskTokenPredictor:
    torch.manual_seed(0)
    return MaskTokenPredictor(
        enc_dim=32, dim=16, depth=depth, heads=2, axes=grid_axes(("r", "c"), (4, 4))
    ).eval()


def test_predictor_output_shape() -> None:
    pred = make_predictor()
    b, nc, m, nt = 3, 6, 4, 2
    context = torch.stack([torch.randperm(16)[:nc] for _ in range(b)])
    targets = torch.randint(0, 16, (b, m, nt))
    out = pred(torch.randn(b, nc, 32), grid_coords(4, 4), context, targets)
    assert out.shape == (b, m, nt, 32)
    assert torch.isfinite(out).all()


def test_predictor_target_blocks_are_independent_and_position_aware() -> None:
    pred = make_predictor(depth=2)
    coords = grid_coords(4, 4)
    z = torch.randn(1, 4, 32)
    context = torch.tensor([[0, 1, 2, 3]])
    t1 = torch.tensor([[[8, 9], [12, 13]]])
    t2 = torch.tensor([[[8, 9], [14, 15]]])  # only the second block differs
    o1, o2 = pred(z, coords, context, t1), pred(z, coords, context, t2)
    torch.testing.assert_close(o1[:, 0], o2[:, 0])  # the first block is predicted on its own
    assert not torch.allclose(o1[:, 1], o2[:, 1], atol=1e-5)  # positions matter
    assert not torch.allclose(o1[0, 0, 0], o1[0, 0, 1], atol=1e-5)


# ---- attention --------------------------------------------------------------------------


def naive_attention(attn: SelfAttention, x: torch.Tensor, mask: torch.Tensor | None = None):
    b, n, d = x.shape
    h = attn.heads
    q, k, v = (x @ attn.qkv.weight.T + attn.qkv.bias).split(d, dim=-1)

    def heads(t: torch.Tensor) -> torch.Tensor:
        return t.view(b, n, h, d // h).transpose(1, 2)

    q, k, v = heads(q), heads(k), heads(v)
    scores = q @ k.transpose(-1, -2) / math.sqrt(d // h)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    out = torch.softmax(scores, dim=-1) @ v
    out = out.transpose(1, 2).reshape(b, n, d)
    return out @ attn.proj.weight.T + attn.proj.bias


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_self_attention_matches_naive_softmax_attention(heads: int) -> None:
    torch.manual_seed(0)
    attn = SelfAttention(16, heads).double()
    torch.nn.init.normal_(attn.qkv.bias)  # non-zero biases so they are checked too
    x = torch.randn(2, 7, 16, dtype=torch.float64)
    torch.testing.assert_close(attn(x), naive_attention(attn, x), rtol=1e-10, atol=1e-10)
    mask = torch.rand(7, 7) > 0.3
    mask.fill_diagonal_(True)
    torch.testing.assert_close(
        attn(x, mask), naive_attention(attn, x, mask), rtol=1e-10, atol=1e-10
    )


def test_self_attention_rejects_indivisible_width() -> None:
    with pytest.raises(ValueError, match="divisible"):
        SelfAttention(10, 3)


def test_transformer_stack_residual_rescaling() -> None:
    torch.manual_seed(0)
    stack = TransformerStack(64, depth=3, heads=4)
    stds = [b.attn.proj.weight.std().item() for b in stack.blocks]
    # trunc_normal(0.02) divided by sqrt(2 * layer_id)
    for layer_id, s in enumerate(stds, start=1):
        assert s == pytest.approx(0.02 / math.sqrt(2 * layer_id), rel=0.15)


@pytest.mark.parametrize("mask_kind", ["none", "keys", "full"])
def test_stack_with_n_out_computes_the_same_tail_and_gradients(mask_kind: str) -> None:
    """The last block skips the tokens nobody reads (a predictor reads its mask tokens)."""
    torch.manual_seed(0)
    stack = TransformerStack(32, 3, 4)
    x = torch.randn(5, 20, 32, requires_grad=True)
    mask = None
    if mask_kind == "keys":
        pad = torch.zeros(5, 20, dtype=torch.bool)
        pad[1, :3] = True
        mask = ~pad[:, None, None, :]
    elif mask_kind == "full":
        mask = torch.rand(5, 1, 20, 20) > 0.3
        mask[..., torch.arange(20), torch.arange(20)] = True
    full = stack(x, mask)[:, -7:]
    (g_full,) = torch.autograd.grad(full.square().sum(), x)
    tail = stack(x, mask, n_out=7)
    (g_tail,) = torch.autograd.grad(tail.square().sum(), x)
    assert tail.shape == (5, 7, 32)
    torch.testing.assert_close(tail, full, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(g_tail, g_full, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="n_out"):
        stack(x, mask, layers=2, n_out=7)
