"""Tabular tokenizer, T-JEPA regularization tokens and the feature-subset mask sampler."""

from __future__ import annotations

import math

import pytest
import torch

from omnijepa.errors import ConfigError, DataError
from omnijepa.masks import (
    MASK_SAMPLERS,
    FeatureSubsetConfig,
    FeatureSubsetMaskSampler,
    build_mask_sampler,
)
from omnijepa.modalities.tabular import RegularizationTokens, TabularTokenizer


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def make_tok(dim: int = 8) -> TabularTokenizer:
    torch.manual_seed(0)
    # columns 0, 2, 4 numerical; 1 (3 categories) and 3 (5 categories) categorical
    return TabularTokenizer(5, categorical=[3, 1], cardinalities=[5, 3], dim=dim)


# -- tokenizer ------------------------------------------------------------------------------
def test_tokenizer_shapes_and_coords() -> None:
    tok = make_tok()
    x = torch.tensor([[0.5, 2.0, -1.0, 4.0, 0.0], [1.0, 0.0, 0.0, 0.0, 3.0]])
    out = tok(x)
    assert out.shape == (2, 5, 8) and tok.dim == 8 and [a.size for a in tok.axes] == [5]
    c = tok.coords(x)
    assert c.shape == (5, 1) and c.dtype == torch.float32
    assert torch.equal(c[:, 0], torch.arange(5.0))
    with pytest.raises(DataError):
        tok(torch.zeros(2, 4))
    with pytest.raises(DataError):
        tok.coords(torch.zeros(2, 4))


def test_numerical_is_per_feature_affine() -> None:
    tok = make_tok()
    x = torch.zeros(3, 5)
    x[:, 0] = torch.tensor([0.0, 1.0, 2.0])
    x[:, 2] = torch.tensor([0.0, 1.0, 2.0])
    out = tok(x)
    w0, w2 = out[1, 0] - out[0, 0], out[1, 2] - out[0, 2]
    torch.testing.assert_close(out[2, 0] - out[0, 0], 2 * w0)  # linear in the value
    assert not torch.allclose(w0, w2)  # distinct weight per feature
    assert not torch.allclose(out[0, 0], out[0, 2])  # distinct bias per feature


def test_categorical_lookup() -> None:
    tok = make_tok()
    x = torch.zeros(3, 5)
    x[:, 1] = torch.tensor([0.0, 2.0, 2.0])
    x[:, 3] = torch.tensor([4.0, 4.0, 1.0])
    out = tok(x)
    torch.testing.assert_close(out[1, 1], out[2, 1])
    assert not torch.allclose(out[0, 1], out[1, 1])
    torch.testing.assert_close(out[0, 3], out[1, 3])
    assert not torch.allclose(out[1, 3], out[2, 3])
    # code 0 in column 1 and code 0 in column 3 use different tables
    y = torch.zeros(1, 5)
    assert not torch.allclose(tok(y)[0, 1], tok(y)[0, 3])
    for bad in (3.0, -1.0, 0.5):
        with pytest.raises(DataError):
            tok(torch.tensor([[0.0, bad, 0.0, 0.0, 0.0]]))


def test_missing_uses_learned_embedding() -> None:
    tok = make_tok()
    nan = float("nan")
    x = torch.tensor([[nan, nan, 1.0, nan, 0.5], [2.0, 1.0, nan, 2.0, nan]])
    out = tok(x)
    assert torch.isfinite(out).all()
    for row, col in [(0, 0), (0, 1), (0, 3), (1, 2), (1, 4)]:
        torch.testing.assert_close(out[row, col], tok.missing[col])
        assert out[row, col].abs().sum() > 0  # not a silent zero
    # Missing is decided by NaN, not by a stored number: present values differ from missing.
    assert not torch.allclose(out[1, 0], tok.missing[0])
    out.sum().backward()
    assert tok.missing.grad is not None
    assert tok.missing.grad[[0, 1, 2, 3, 4]].abs().sum(1).gt(0).all()
    for p in tok.parameters():
        assert torch.isfinite(p.grad).all()


def test_missing_token_ignores_other_columns_values() -> None:
    tok = make_tok()
    nan = float("nan")
    a = tok(torch.tensor([[nan, 0.0, 1.0, 2.0, 0.5]]))
    b = tok(torch.tensor([[nan, 2.0, -7.0, 4.0, 9.0]]))
    torch.testing.assert_close(a[0, 0], b[0, 0])


def test_tokenizer_config_errors() -> None:
    with pytest.raises(ConfigError, match="cardinalities"):
        TabularTokenizer(4, [1], [3, 4], 8)
    with pytest.raises(ConfigError, match="categorical"):
        TabularTokenizer(4, [4], [3], 8)
    with pytest.raises(ConfigError, match="categorical"):
        TabularTokenizer(4, [1, 1], [3, 3], 8)
    with pytest.raises(ConfigError, match="cardinalities"):
        TabularTokenizer(4, [1], [0], 8)


# -- regularization tokens ------------------------------------------------------------------
def test_reg_tokens_prepend_and_strip() -> None:
    torch.manual_seed(0)
    reg = RegularizationTokens(3, 8)
    feats = torch.randn(2, 4, 8)
    out = reg.prepend(feats)
    assert out.shape == (2, 7, 8)
    torch.testing.assert_close(out[0, :3], reg.tokens)
    torch.testing.assert_close(out[1, :3], reg.tokens)  # constant across rows
    torch.testing.assert_close(reg.strip(out), feats)
    out.sum().backward()
    assert reg.tokens.grad is not None and reg.tokens.grad.abs().sum() > 0


def test_reg_tokens_ablation_n0() -> None:
    reg = RegularizationTokens(0, 8)
    feats = torch.randn(2, 4, 8)
    assert reg.prepend(feats) is feats
    assert reg(2).shape == (2, 0, 8)
    assert torch.equal(reg.strip(feats), feats)
    with pytest.raises(ConfigError, match="model.reg_tokens"):
        RegularizationTokens(-1, 8)


# -- feature-subset sampler -----------------------------------------------------------------
def check(batch, f: int, b: int, sampler: FeatureSubsetMaskSampler) -> None:
    ctx, tgt = batch.context, batch.targets
    m = sampler.cfg.num_targets
    assert ctx.dtype == tgt.dtype == torch.int64
    assert ctx.dim() == 2 and ctx.shape[0] == b
    assert tgt.dim() == 3 and tgt.shape[:2] == (b, m)
    kc, kt = ctx.shape[1], tgt.shape[2]
    assert sampler.context_range[0] <= kc <= sampler.context_range[1]
    assert sampler.target_range[0] <= kt <= sampler.target_range[1]
    assert ((ctx >= 0) & (ctx < f)).all() and ((tgt >= 0) & (tgt < f)).all()
    assert (ctx[:, 1:] > ctx[:, :-1]).all()  # sorted, unique
    assert (tgt[..., 1:] > tgt[..., :-1]).all()
    for r in range(b):
        cs = set(ctx[r].tolist())
        for j in range(m):
            assert not cs & set(tgt[r, j].tolist()), "context and target overlap"


@pytest.mark.parametrize("f", list(range(2, 41)))
def test_sampler_invariants_all_small_f(f: int) -> None:
    sampler = FeatureSubsetMaskSampler((f,), FeatureSubsetConfig())
    g = gen(f)
    for _ in range(5):
        check(sampler.sample(6, g), f, 6, sampler)


def test_sampler_share_ranges_match_config() -> None:
    cfg = FeatureSubsetConfig(context_share=(0.2, 0.4), target_share=(0.1, 0.3), num_targets=3)
    sampler = FeatureSubsetMaskSampler((50,), cfg)
    assert sampler.context_range == (10, 20) and sampler.target_range == (5, 15)
    seen_c, seen_t = set(), set()
    g = gen(1)
    for _ in range(300):
        mb = sampler.sample(2, g)
        seen_c.add(mb.context.shape[1])
        seen_t.add(mb.targets.shape[2])
    assert seen_c == set(range(10, 21)) and seen_t == set(range(5, 16))


def test_sampler_deterministic_and_varies() -> None:
    sampler = FeatureSubsetMaskSampler((12,), FeatureSubsetConfig())
    a, b = sampler.sample(8, gen(3)), sampler.sample(8, gen(3))
    assert torch.equal(a.context, b.context) and torch.equal(a.targets, b.targets)
    c = sampler.sample(8, gen(4))
    assert not (
        a.context.shape == c.context.shape
        and a.targets.shape == c.targets.shape
        and torch.equal(a.context, c.context)
        and torch.equal(a.targets, c.targets)
    )
    assert len({tuple(r) for r in a.context.tolist()}) > 1  # per-sample subsets


def test_sampler_disjoint_targets_and_overlap_flags() -> None:
    cfg = FeatureSubsetConfig(target_share=(0.1, 0.2), num_targets=3, disjoint_targets=True)
    sampler = FeatureSubsetMaskSampler((20,), cfg)
    g = gen(5)
    for _ in range(20):
        mb = sampler.sample(4, g)
        check(mb, 20, 4, sampler)
        for r in range(4):
            flat = mb.targets[r].reshape(-1).tolist()
            assert len(flat) == len(set(flat))
    over = FeatureSubsetMaskSampler((10,), FeatureSubsetConfig(allow_overlap=True))
    hits = 0
    for _ in range(20):
        mb = over.sample(4, g)
        ctx = mb.context[:, :, None, None]
        hits += int((ctx == mb.targets[:, None, :, :]).any())
    assert hits > 0  # overlap does happen when allowed


def test_sampler_config_errors() -> None:
    for kwargs, field in [
        ({"context_share": (0.5, 0.2)}, "context_share"),
        ({"context_share": (0.0, 0.2)}, "context_share"),
        ({"target_share": (0.2, 1.5)}, "target_share"),
        ({"target_share": 0.3}, "target_share"),
        ({"num_targets": 0}, "num_targets"),
        ({"num_targets": 2.0}, "num_targets"),
        ({"allow_overlap": 1}, "allow_overlap"),
        ({"disjoint_targets": "no"}, "disjoint_targets"),
    ]:
        with pytest.raises(ConfigError, match=f"mask.{field}"):
            FeatureSubsetConfig(**kwargs)
    with pytest.raises(ConfigError, match=">= 2 tokens"):
        FeatureSubsetMaskSampler((1,), FeatureSubsetConfig())
    with pytest.raises(ConfigError, match="context_share/target_share"):
        FeatureSubsetMaskSampler((4,), FeatureSubsetConfig(disjoint_targets=True))


def test_registry_lookup() -> None:
    cfg_cls, sampler_cls = MASK_SAMPLERS.get("feature_subsets")
    assert cfg_cls is FeatureSubsetConfig and sampler_cls is FeatureSubsetMaskSampler
    s = build_mask_sampler("feature_subsets", (7,), num_targets=2)
    mb = s.sample(3, gen())
    check(mb, 7, 3, s)
    with pytest.raises(ConfigError, match="unknown option"):
        build_mask_sampler("feature_subsets", (7,), ratio=0.5)
    assert math.prod(s.grid) == 7
