"""Positional schemes for sequence attention: masks, biases, invariances, gradients."""

from __future__ import annotations

import math

import pytest
import torch

from omnijepa.errors import ConfigError
from omnijepa.nn.sequence_attention import (
    POSITION_SCHEMES,
    PositionalSelfAttention,
    alibi_slopes,
    build_scheme,
)
from omnijepa.nn.sequence_transformer import SequenceTransformer

SCHEMES = ["nope", "learned", "sincos", "rope", "alibi", "hard_alibi", "rpe_k", "rpe_kq"]
DIM, HEADS = 16, 4


def allowed(bias: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the keys a bias lets through."""
    return torch.isfinite(bias)


def sharpen(model: torch.nn.Module) -> torch.nn.Module:
    """Scale up q/k/v weights so attention is far from uniform (init makes it near uniform)."""
    with torch.no_grad():
        for block in model.blocks:
            block.attn.qkv.weight.mul_(50.0)
    return model


def test_all_schemes_registered() -> None:
    assert sorted(SCHEMES) == POSITION_SCHEMES.names()


# ---- Hard-ALiBi --------------------------------------------------------------------------------


@pytest.mark.parametrize("positions", [[0, 1, 2, 3, 4, 5], [0, 2, 5, 6], [3, 4, 9, 10, 11, 20]])
@pytest.mark.parametrize("causal", [True, False])
def test_hard_alibi_windows(positions: list[int], causal: bool) -> None:
    heads = 6
    scheme = build_scheme("hard_alibi", dim=24, heads=heads, causal=causal)
    pos = torch.tensor(positions)
    bias = scheme.attention_bias(pos)
    assert bias.shape[-3:] == (heads, len(positions), len(positions))
    mask = allowed(bias)[0]
    for h in range(heads):
        for i, pi in enumerate(positions):
            for j, pj in enumerate(positions):
                d = pi - pj
                if h < heads // 2:  # windowed head h: the last h + 1 positions
                    want = 0 <= d <= h if causal else abs(d) <= h
                else:  # NoPE head
                    want = d >= 0 if causal else True
                assert bool(mask[h, i, j]) == want, (h, pi, pj)
    finite = bias[torch.isfinite(bias)]
    assert torch.all(finite == 0)


def test_hard_alibi_explicit_windows_and_contiguous_rows() -> None:
    scheme = build_scheme("hard_alibi", dim=16, heads=4, causal=True, windows=[3, 1, 5])
    n = 8
    mask = allowed(scheme.attention_bias(torch.arange(n)))[0]
    for h, w in enumerate([3, 1, 5]):
        for i in range(n):
            assert mask[h, i].nonzero().flatten().tolist() == list(range(max(0, i - w + 1), i + 1))
    assert torch.equal(mask[3], torch.ones(n, n, dtype=torch.bool).tril())


def test_hard_alibi_bad_options() -> None:
    with pytest.raises(ConfigError):
        build_scheme("hard_alibi", dim=16, heads=4, causal=True, windows=[1, 2], hard_heads=3)
    with pytest.raises(ConfigError):
        build_scheme("hard_alibi", dim=16, heads=4, causal=True, hard_heads=5)
    with pytest.raises(ConfigError):
        build_scheme("hard_alibi", dim=16, heads=4, causal=True, windows=[0])


# ---- relative position embeddings --------------------------------------------------------------


def qk(b: int, heads: int, n: int, hd: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, heads, n, hd, generator=g), torch.randn(b, heads, n, hd, generator=g)


def test_rpe_k_matches_brute_force() -> None:
    m = 3
    scheme = build_scheme("rpe_k", dim=16, heads=2, causal=False, max_dist=m)
    torch.nn.init.normal_(scheme.rel_k)
    pos = torch.tensor([[0, 1, 4, 9, 10], [2, 3, 5, 6, 30]])
    q, k = qk(2, 2, 5, 8)
    bias = scheme.attention_bias(pos, q, k)
    want = torch.empty(2, 2, 5, 5)
    for b in range(2):
        for h in range(2):
            for i in range(5):
                for j in range(5):
                    r = max(-m, min(m, int(pos[b, j] - pos[b, i])))
                    want[b, h, i, j] = q[b, h, i] @ scheme.rel_k[r + m] / math.sqrt(8)
    torch.testing.assert_close(bias, want)


@pytest.mark.parametrize("name", ["rpe_k", "rpe_kq"])
def test_rpe_clipping_shares_boundary(name: str) -> None:
    m = 2
    scheme = build_scheme(name, dim=8, heads=1, causal=False, max_dist=m)
    torch.nn.init.normal_(scheme.rel_k)
    if name == "rpe_kq":
        torch.nn.init.normal_(scheme.rel_q)
    # Query at 10; keys at +2 / +15 (beyond) and -2 / -9 (beyond), plus one interior (+1).
    pos = torch.tensor([10, 12, 25, 8, 1, 11])
    q, k = qk(1, 1, 6, 8)
    k[:, :, 2] = k[:, :, 1]  # same key content so only the clipped distance matters
    k[:, :, 4] = k[:, :, 3]
    row = scheme.attention_bias(pos, q, k)[0, 0, 0]
    torch.testing.assert_close(row[2], row[1])
    torch.testing.assert_close(row[4], row[3])
    assert not torch.isclose(row[1], row[5])  # interior distance uses a different row
    assert not torch.isclose(row[1], row[3])  # the two signs use different rows


def test_rpe_kq_adds_only_the_query_term() -> None:
    m = 3
    kq = build_scheme("rpe_kq", dim=16, heads=2, causal=True, max_dist=m)
    torch.nn.init.normal_(kq.rel_q)
    k_only = build_scheme("rpe_k", dim=16, heads=2, causal=True, max_dist=m)
    k_only.rel_k.data.copy_(kq.rel_k.data)
    pos = torch.tensor([0, 2, 3, 7, 15])
    q, k = qk(1, 2, 5, 8, seed=1)
    b_kq, b_k = kq.attention_bias(pos, q, k), k_only.attention_bias(pos, q, k)
    assert torch.equal(allowed(b_kq), allowed(b_k))
    ok = allowed(b_k)
    diff = torch.where(ok, b_kq - b_k, torch.zeros(()))
    want = torch.zeros(1, 2, 5, 5)
    for h in range(2):
        for i in range(5):
            for j in range(i + 1):
                r = max(-m, min(m, int(pos[i] - pos[j])))
                want[0, h, i, j] = k[0, h, j] @ kq.rel_q[r + m] / math.sqrt(8)
    torch.testing.assert_close(diff, want)
    assert want.abs().sum() > 0


# ---- ALiBi -------------------------------------------------------------------------------------


def test_alibi_slopes() -> None:
    want = torch.tensor([2.0 ** (-8 * (h + 1) / 8) for h in range(8)], dtype=torch.float64)
    torch.testing.assert_close(alibi_slopes(8), want)
    assert alibi_slopes(8)[0] == 0.5 and alibi_slopes(8)[-1] == 2.0**-8


@pytest.mark.parametrize("causal", [True, False])
def test_alibi_bias_pattern(causal: bool) -> None:
    heads = 4
    scheme = build_scheme("alibi", dim=16, heads=heads, causal=causal)
    pos = torch.tensor([0, 2, 5, 6, 11])
    bias = scheme.attention_bias(pos)[0]
    slopes = [2.0 ** (-8 * (h + 1) / heads) for h in range(heads)]
    for h in range(heads):
        for i in range(5):
            for j in range(5):
                d = int(pos[i] - pos[j])
                if causal and d < 0:
                    assert bias[h, i, j] == float("-inf")
                else:
                    assert math.isclose(float(bias[h, i, j]), -slopes[h] * abs(d), rel_tol=1e-6)


# ---- causal masking through the full model -----------------------------------------------------


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_future_tokens_affect_past_only_when_bidirectional(scheme: str, causal: bool) -> None:
    torch.manual_seed(0)
    model = SequenceTransformer(DIM, 2, HEADS, causal=causal, position=scheme).eval()
    x = torch.randn(2, 6, DIM)
    pos = torch.tensor([0, 1, 3, 4, 7, 8])
    x2 = x.clone()
    x2[:, 4:] = torch.randn(2, 2, DIM)
    with torch.no_grad():
        y, y2 = model(x, pos), model(x2, pos)
    if causal:
        torch.testing.assert_close(y[:, :4], y2[:, :4], rtol=0, atol=1e-6)
    else:
        assert (y[:, :4] - y2[:, :4]).abs().max() > 1e-4
    assert (y[:, 4:] - y2[:, 4:]).abs().max() > 1e-4


def test_causal_order_follows_positions_not_index() -> None:
    """A token listed first but at a later position must not be seen by earlier positions."""
    torch.manual_seed(0)
    model = SequenceTransformer(DIM, 1, HEADS, causal=True, position="nope").eval()
    x = torch.randn(1, 3, DIM)
    pos = torch.tensor([5, 1, 2])
    x2 = x.clone()
    x2[:, 0] = torch.randn(DIM)
    with torch.no_grad():
        torch.testing.assert_close(model(x, pos)[:, 1:], model(x2, pos)[:, 1:])


# ---- shift invariance --------------------------------------------------------------------------


@pytest.mark.parametrize("options", [{}, {"rotary_fraction": 0.5}])
def test_rope_depends_only_on_position_differences(options: dict) -> None:
    torch.manual_seed(0)
    model = SequenceTransformer(DIM, 2, HEADS, causal=False, position="rope", **options)
    model = sharpen(model).eval()
    x = torch.randn(2, 5, DIM)
    pos = torch.tensor([[0, 2, 5, 6, 9], [1, 2, 3, 4, 5]])
    with torch.no_grad():
        y = model(x, pos)
        torch.testing.assert_close(model(x, pos + 37), y, rtol=0, atol=1e-5)
        other = model(x, torch.tensor([0, 1, 2, 3, 4]))  # different gaps -> different output
    assert (other[0] - y[0]).abs().max() > 1e-4


@pytest.mark.parametrize("scheme", ["alibi", "hard_alibi", "rpe_k", "rpe_kq"])
def test_relative_schemes_are_shift_invariant(scheme: str) -> None:
    torch.manual_seed(0)
    model = sharpen(SequenceTransformer(DIM, 1, HEADS, causal=True, position=scheme)).eval()
    x = torch.randn(1, 5, DIM)
    pos = torch.tensor([0, 2, 5, 6, 9])
    with torch.no_grad():
        torch.testing.assert_close(model(x, pos + 11), model(x, pos), rtol=0, atol=1e-5)


@pytest.mark.parametrize("scheme", ["learned", "sincos"])
def test_absolute_schemes_change_with_shift(scheme: str) -> None:
    torch.manual_seed(0)
    model = SequenceTransformer(DIM, 1, HEADS, causal=True, position=scheme).eval()
    x = torch.randn(1, 5, DIM)
    pos = torch.arange(5)
    with torch.no_grad():
        assert (model(x, pos + 3) - model(x, pos)).abs().max() > 1e-4


def test_learned_positions_beyond_max_len() -> None:
    model = SequenceTransformer(DIM, 1, HEADS, position="learned", max_len=8)
    model(torch.randn(1, 3, DIM), torch.tensor([0, 5, 7]))
    with pytest.raises(ValueError, match="max_len"):
        model(torch.randn(1, 3, DIM), torch.tensor([0, 5, 8]))


# ---- gradients, shapes, errors -----------------------------------------------------------------


@pytest.mark.parametrize("pos_kind", ["none", "shared", "batched"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_forward_backward_finite(scheme: str, pos_kind: str) -> None:
    torch.manual_seed(0)
    model = SequenceTransformer(DIM, 2, HEADS, causal=True, position=scheme)
    x = torch.randn(2, 5, DIM, requires_grad=True)
    positions = {
        "none": None,
        "shared": torch.tensor([0, 2, 5, 6, 9]),
        "batched": torch.tensor([[0, 2, 5, 6, 9], [3, 4, 5, 6, 7]]),
    }[pos_kind]
    y = model(x, positions)
    assert y.shape == x.shape and model.dim == DIM
    (y * torch.randn_like(y)).sum().backward()
    assert torch.isfinite(x.grad).all()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_attention_layer_is_usable_alone() -> None:
    attn = PositionalSelfAttention(DIM, HEADS, scheme="rpe_kq", causal=True, max_dist=4)
    y = attn(torch.randn(2, 5, DIM), torch.tensor([0, 3, 4, 8, 9]))
    assert y.shape == (2, 5, DIM) and torch.isfinite(y).all()


def test_unknown_scheme_and_options() -> None:
    with pytest.raises(ConfigError, match="rope"):
        SequenceTransformer(DIM, 1, HEADS, position="bogus")
    with pytest.raises(ConfigError, match="max_dist"):
        SequenceTransformer(DIM, 1, HEADS, position="rpe_k", windows=[1])
    with pytest.raises(ConfigError):
        SequenceTransformer(DIM, 1, HEADS, position="rope", rotary_fraction=0.0)
    with pytest.raises(ValueError):
        SequenceTransformer(DIM, 1, HEADS)(torch.randn(1, 3, DIM), torch.tensor([0.0, 1.0, 2.0]))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_scheme_moves_between_devices_and_dtypes(scheme: str) -> None:
    """``Module.to`` must work (a scheme method once shadowed ``nn.Module._apply``)."""
    model = SequenceTransformer(DIM, 1, HEADS, causal=True, position=scheme)
    model.to(torch.float64).to("cpu")
    assert model(torch.randn(1, 5, DIM, dtype=torch.float64)).dtype == torch.float64
