"""Invariance to augmentation: C-JEPA's term (a second augmented view from the collator, and
the squared distance between the mean context embedding and the second view's mean
embedding), and the diagnostic that measures how much a turn of a point cloud moves the
features."""

from __future__ import annotations

import pytest
import torch

from omnijepa.config import load_config
from omnijepa.errors import ConfigError
from omnijepa.masks import MaskCollator, MultiBlockConfig, MultiBlockMaskSampler
from omnijepa.recipes import RECIPES


def noisy_prepare(x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, None]:
    return x + torch.randn(x.shape, generator=gen), None


def samples(n: int) -> list[tuple[torch.Tensor, int]]:
    return [(torch.full((1, 8, 8), float(i)), i) for i in range(n)]


def _objective_and_batch(recipe: str, tiny_overrides, *extra: str) -> tuple:
    """The tiny ``recipe``'s objective and its first batch, with ``extra`` overrides."""
    ov = tiny_overrides(recipe, *extra)
    cfg = load_config(RECIPES.get(recipe).default_config(), None, ov)
    built = RECIPES.get(recipe).build(cfg, torch.device("cpu"))
    ds, obj = built.parts.dataset, built.parts.objective
    return obj, built.parts.collate([ds[i] for i in range(cfg.train.batch_size)], 0)


def test_second_view_has_its_own_draws_and_leaves_the_first_alone() -> None:
    sampler = MultiBlockMaskSampler((8, 8), MultiBlockConfig())
    one = MaskCollator(sampler, 3, prepare=noisy_prepare)(samples(4), batch_index=5)
    two = MaskCollator(sampler, 3, prepare=noisy_prepare, views=2)(samples(4), batch_index=5)
    assert "x_view" not in one and two["x_view"].shape == two["x"].shape
    for key in ("x", "context", "targets"):  # the first view is a one-view run's
        assert torch.equal(one[key], two[key])
    assert not torch.allclose(two["x_view"], two["x"])
    again = MaskCollator(sampler, 3, prepare=noisy_prepare, views=2)(samples(4), batch_index=5)
    assert torch.equal(again["x_view"], two["x_view"])  # seeded like the masks
    plain = MaskCollator(sampler, 3, views=2)(samples(4), batch_index=5)
    assert torch.equal(plain["x_view"], plain["x"])  # no augmentation: the same input
    with pytest.raises(ConfigError, match="views"):
        MaskCollator(sampler, 3, views=3)


@pytest.mark.parametrize("recipe", ["pointjepa", "ijepa"])
def test_invariance_term_is_weighted_into_the_loss_and_trains_the_encoder(
    recipe: str, tiny_overrides
) -> None:
    ov = tiny_overrides(recipe, "anti_collapse.kind=vc", "anti_collapse.invariance=2")
    cfg = load_config(RECIPES.get(recipe).default_config(), None, ov)
    built = RECIPES.get(recipe).build(cfg, torch.device("cpu"))
    ds, obj = built.parts.dataset, built.parts.objective
    batch = built.parts.collate([ds[i] for i in range(cfg.train.batch_size)], 0)
    assert "x_view" in batch
    if recipe == "pointjepa":  # rotated and scaled again: another view of the same clouds
        assert not torch.allclose(batch["x_view"], batch["x"])
    terms, stats = obj.loss_terms(batch, 0)
    assert float(stats["invariance"]) > 0
    assert float(terms["invariance"].detach()) == pytest.approx(2 * float(stats["invariance"]))
    obj.zero_grad()
    terms["invariance"].backward()
    assert any(float(p.grad.abs().sum()) > 0 for p in obj.encoder.parameters()
               if p.grad is not None)  # fmt: skip


@pytest.mark.parametrize("recipe", ["pointjepa", "ijepa"])
def test_invariance_view_context_encodes_the_second_view_at_the_context(
    recipe: str, tiny_overrides
) -> None:
    """``invariance_view=context``: the second view's tokens at the context's indices, so the
    term is the distance between two context means (a second crop), cheaper than all tokens."""
    ov = tiny_overrides(recipe, "anti_collapse.kind=vc", "anti_collapse.invariance=1",
                        "anti_collapse.invariance_view=context")  # fmt: skip
    cfg = load_config(RECIPES.get(recipe).default_config(), None, ov)
    built = RECIPES.get(recipe).build(cfg, torch.device("cpu"))
    ds, obj = built.parts.dataset, built.parts.objective
    batch = built.parts.collate([ds[i] for i in range(cfg.train.batch_size)], 0)
    seen = []
    hook = obj.encoder.register_forward_hook(lambda m, i, o: seen.append(o.shape[1]))
    _, stats = obj.loss_terms(batch, 0)
    hook.remove()
    with torch.no_grad():
        z_ctx = obj.encoder(batch["x"], keep=batch["context"]).mean(1)
        z_view = obj.encoder(batch["x_view"], keep=batch["context"]).mean(1)
        expected = torch.nn.functional.mse_loss(z_ctx, z_view)
    assert seen == [batch["context"].shape[1]] * 2  # context, then the view at the context
    assert float(stats["invariance"]) == pytest.approx(float(expected), rel=1e-5)
    with pytest.raises(ConfigError, match="invariance_view"):
        load_config(RECIPES.get(recipe).default_config(), None,
                    ["anti_collapse.invariance_view=tokens"])  # fmt: skip


def test_invariance_stop_grad_makes_the_second_view_a_fixed_target(tiny_overrides) -> None:
    """``invariance_stop_grad``: no graph through the second view, and the anti-collapse
    term is the context's alone."""
    obj, batch = _objective_and_batch("pointjepa", tiny_overrides, "anti_collapse.kind=vc",
                                      "anti_collapse.invariance=1",
                                      "anti_collapse.invariance_stop_grad=true")  # fmt: skip
    graphs = []
    hook = obj.encoder.register_forward_hook(lambda m, i, o: graphs.append(o.requires_grad))
    terms, stats = obj.loss_terms(batch, 0)
    hook.remove()
    assert graphs == [True, False]  # the context with a graph, the view without
    with torch.no_grad():
        z = obj.encoder(batch["x"], keep=batch["context"])
    assert float(stats["anti_collapse"]) == pytest.approx(float(obj.penalty(z, 0, None)), rel=1e-5)


def test_invariance_target_teacher_reads_the_second_view_with_the_target_encoder(
    tiny_overrides,
) -> None:
    """``invariance_target=teacher``: the second view goes through the EMA target encoder
    without a graph, so the term is the distance to the teacher's mean embedding, and the
    anti-collapse term is the context's alone."""
    obj, batch = _objective_and_batch("pointjepa", tiny_overrides, "anti_collapse.kind=vc",
                                      "anti_collapse.invariance=1",
                                      "anti_collapse.invariance_target=teacher")  # fmt: skip
    with torch.no_grad():  # a target unlike the online encoder, so the two readings differ
        for p in obj.target_encoder.parameters():
            p.add_(0.3 * torch.randn_like(p))
    online, teacher = [], []
    hooks = [
        obj.encoder.register_forward_hook(lambda m, i, o: online.append(o.requires_grad)),
        obj.target_encoder.register_forward_hook(lambda m, i, o: teacher.append(o)),
    ]
    terms, stats = obj.loss_terms(batch, 0)
    for h in hooks:
        h.remove()
    assert online == [True]  # the context alone goes through the online encoder
    assert len(teacher) == 2 and not teacher[1].requires_grad  # the targets, then the view
    with torch.no_grad():
        z = obj.encoder(batch["x"], keep=batch["context"])
        expected = torch.nn.functional.mse_loss(z.mean(1), teacher[1].mean(1))
        assert float(stats["anti_collapse"]) == pytest.approx(float(obj.penalty(z, 0, None)),
                                                              rel=1e-5)  # fmt: skip
    assert float(stats["invariance"]) == pytest.approx(float(expected), rel=1e-5)
    obj.zero_grad()
    terms["invariance"].backward()
    assert all(p.grad is None for p in obj.target_encoder.parameters())
    assert any(p.grad is not None and float(p.grad.abs().sum()) > 0
               for p in obj.encoder.parameters())  # fmt: skip
    with pytest.raises(ConfigError, match="invariance_target"):
        load_config(RECIPES.get("pointjepa").default_config(), None,
                    ["anti_collapse.invariance_target=student"])  # fmt: skip


def test_invariance_needs_a_variance_covariance_term() -> None:
    with pytest.raises(ConfigError, match="invariance"):
        load_config(RECIPES.get("ijepa").default_config(), None,
                    ["anti_collapse.kind=none", "anti_collapse.invariance=1"])  # fmt: skip
    with pytest.raises(ConfigError, match="invariance"):
        load_config(RECIPES.get("ijepa").default_config(), None,
                    ["anti_collapse.invariance=-1"])  # fmt: skip


class CentreTokens(torch.nn.Module):
    """Tokens = the patch centres (turn-sensitive) or their norms (turn-invariant)."""

    def __init__(self, invariant: bool) -> None:
        super().__init__()
        self.invariant = invariant

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centres = x[:, :, 0, :]
        return centres.norm(dim=-1, keepdim=True) if self.invariant else centres


def test_turn_variance_share_tells_a_turn_blind_encoder_from_a_turn_bound_one() -> None:
    from omnijepa.eval.turn_sensitivity import turn_variance_share, turned

    gen = torch.Generator().manual_seed(0)
    clouds = torch.randn(24, 64, 3, generator=gen) * torch.tensor([1.0, 0.5, 0.3])
    back = turned(turned(clouds, 1.0, 1), -1.0, 1)
    torch.testing.assert_close(back, clouds, atol=1e-5, rtol=0)
    cpu = torch.device("cpu")
    blind = turn_variance_share(CentreTokens(True), clouds, 8, 8, axis=1, device=cpu)
    bound = turn_variance_share(CentreTokens(False), clouds, 8, 8, axis=1, device=cpu)
    assert blind < 1e-3 < 0.3 < bound <= 1.0
    with pytest.raises(ValueError, match="turns"):
        turn_variance_share(CentreTokens(True), clouds, 8, 8, axis=1, device=cpu, turns=1)


def test_turn_share_is_a_diagnostic_without_a_twin_gap() -> None:
    from omnijepa.recipes.paired_checks import twin_gaps

    share = {"jepa": 0.4, "random_init": 0.3}
    runs = [
        {"svm": {"jepa": a, "random_init": 0.5}, "turn_variance_share": share} for a in (0.6, 1)
    ]
    assert set(twin_gaps(runs)) == {"svm"}
