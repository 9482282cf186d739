"""The ``isolated_queries`` predictor: a target's prediction depends on the context and its
own position only — not on which other tokens are targets — while the I-JEPA predictor's
mask tokens do read each other."""

from __future__ import annotations

import torch

from omnijepa.nn.predictors import PREDICTORS
from omnijepa.nn.tokens import grid_axes


def predict(kind: str, targets: torch.Tensor) -> torch.Tensor:
    torch.manual_seed(0)
    axes = grid_axes(("row", "col"), (4, 4))
    pred = PREDICTORS.get(kind)(16, 8, 2, 2, 2.0, "sincos", axes).eval()
    z = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(1))
    coords = torch.stack(torch.meshgrid(torch.arange(4), torch.arange(4), indexing="ij"), -1)
    context = torch.tensor([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]])
    with torch.no_grad():
        return pred(z, coords.reshape(16, 2).float(), context, targets)


def test_each_target_is_predicted_from_context_and_its_own_position() -> None:
    both = torch.tensor([[[10, 11], [12, 13]], [[0, 14], [15, 11]]])  # (B=2, M=2, Nt=2)
    alone = both[:, :1, :1]  # the first target of the first block, with no other target
    swapped = both.clone()
    swapped[:, 1] = torch.tensor([[14, 15], [12, 13]])  # other targets elsewhere
    iso = predict("isolated_queries", both)
    torch.testing.assert_close(iso[:, 0, 0], predict("isolated_queries", alone)[:, 0, 0])
    torch.testing.assert_close(iso[:, 0], predict("isolated_queries", swapped)[:, 0])
    joint = predict("mask_tokens", both)
    assert not torch.allclose(joint[:, 0, 0], predict("mask_tokens", alone)[:, 0, 0])
