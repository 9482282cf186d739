"""Contracts of the ``PREDICTORS`` and ``LATENT_LOSSES`` registries, checked for every entry
(padding equivalence for both lives in ``test_padding.py``)."""

from __future__ import annotations

import pytest
import torch

from omnijepa.nn.predictors import PREDICTORS
from omnijepa.nn.tokens import Axis, grid_axes
from omnijepa.objectives.latent_prediction import LATENT_LOSSES

AXES = {
    "grid": (grid_axes(("r", "c"), (4, 4)), "sincos", torch.stack(torch.meshgrid(
        torch.arange(4.0), torch.arange(4.0), indexing="ij"), -1).reshape(16, 2)),
    "points": (tuple(Axis(n, "continuous") for n in "xyz"), "mlp", torch.randn(3, 16, 3)),
}  # fmt: skip


@pytest.mark.parametrize("kind", PREDICTORS.names())
@pytest.mark.parametrize("space", sorted(AXES))
def test_predictor_contract(kind: str, space: str) -> None:
    torch.manual_seed(0)
    axes, pos, coords = AXES[space]
    pred = PREDICTORS.get(kind)(24, 12, 2, 2, 2.0, pos, axes)
    b, m, nt = 3, 2, 3
    z = torch.randn(b, 5, 24, requires_grad=True)
    context = torch.tensor([[0, 1, 2, 3, 4]] * b)
    t1 = torch.tensor([[[6, 7, 8], [10, 11, 12]]] * b)
    out = pred(z, coords, context, t1)
    assert out.shape == (b, m, nt, 24) and torch.isfinite(out).all()
    out.square().sum().backward()
    assert z.grad is not None and torch.isfinite(z.grad).all() and z.grad.abs().sum() > 0
    missing = [n for n, p in pred.named_parameters() if p.grad is None]
    assert not missing, f"parameters without a gradient: {missing}"
    with torch.no_grad():  # each target block is predicted on its own; positions matter
        t2 = t1.clone()
        t2[:, 1] = torch.tensor([13, 14, 15])
        o1, o2 = pred(z, coords, context, t1), pred(z, coords, context, t2)
        torch.testing.assert_close(o1[:, 0], o2[:, 0])
        assert not torch.allclose(o1[:, 1], o2[:, 1], atol=1e-5)


@pytest.mark.parametrize("name", LATENT_LOSSES.names())
def test_latent_loss_contract(name: str) -> None:
    loss = LATENT_LOSSES.get(name)
    torch.manual_seed(0)
    p = torch.randn(2, 3, 4, 8, requires_grad=True)
    t = torch.randn(2, 3, 4, 8)
    per_token = loss(p, t)
    assert per_token.shape == (2, 3, 4), "losses are per token (the caller masks and averages)"
    assert (per_token >= 0).all() and torch.isfinite(per_token).all()
    per_token.mean().backward()
    assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
    assert float(loss(t, t).abs().max()) < 1e-6  # zero at a perfect prediction
    assert (loss(t + 0.5, t) > 0).all()
