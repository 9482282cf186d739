"""The conv backbone's masked (sparse) pass: what a masked-token objective's context sees."""

from __future__ import annotations

import pytest
import torch

from omnijepa.nn.conv_backbone import ConvBackbone
from omnijepa.nn.masked_norm import hidden_parent_masks, masked_norm


def _keep(n_cells: int, k: int, batch: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.stack(
        [torch.randperm(n_cells, generator=g)[:k].sort().values for _ in range(batch)]
    )


def _pixel_mask(net: ConvBackbone, keep: torch.Tensor, side: int) -> torch.Tensor:
    sizes = net.level_sizes(side, side)
    cells = torch.zeros(keep.shape[0], sizes[-1][0] * sizes[-1][1]).scatter(1, keep, 1.0)
    return hidden_parent_masks(cells.view(keep.shape[0], 1, *sizes[-1]), sizes)[0]


@pytest.mark.parametrize("norm", ["batch", "group"])
@pytest.mark.parametrize("side", [32, 30, 21])  # odd sides: the last map rounds up
def test_hidden_cells_reach_no_visible_token(norm: str, side: int) -> None:
    torch.manual_seed(0)
    net = ConvBackbone(2, (8, 16, 16), norm, side).train()
    rows, cols = net.grid(side, side)
    keep = _keep(rows * cols, rows * cols // 2, 3)
    x = torch.randn(3, 2, side, side)
    hidden = 1 - _pixel_mask(net, keep, side)
    assert 0 < hidden.mean() < 1
    changed = x + 10 * torch.randn_like(x) * hidden  # rewrite only the hidden pixels
    with torch.no_grad():
        a, b = net(x, keep), net(changed, keep)
    assert a.shape == (3, keep.shape[1], 16)
    assert torch.equal(a, b)
    # a control that can fail: change one visible pixel and the tokens move
    visible = (1 - hidden)[0, 0].nonzero()[0]
    poked = x.clone()
    poked[0, :, visible[0], visible[1]] += 5.0
    with torch.no_grad():
        assert not torch.allclose(net(poked, keep)[0], a[0])


@pytest.mark.parametrize("norm", ["batch", "group"])
def test_every_cell_kept_is_the_plain_pass(norm: str) -> None:
    torch.manual_seed(1)
    net = ConvBackbone(1, (8, 16, 24), norm, 32).train()
    x = torch.randn(4, 1, 32, 32)
    n = net.grid(32, 32)[0] * net.grid(32, 32)[1]
    with torch.no_grad():
        full = net(x, torch.arange(n).expand(4, n))
        plain = net(x)
    torch.testing.assert_close(full, plain, atol=1e-5, rtol=1e-5)


def test_masked_batch_norm_reads_only_visible_positions() -> None:
    bn = torch.nn.BatchNorm2d(3).train()
    h = torch.randn(2, 3, 4, 4) * 2 + 5
    m = torch.zeros(2, 1, 4, 4)
    m[:, :, :2] = 1  # the top half visible
    out = masked_norm(bn, h, m)
    assert torch.equal(out[:, :, 2:], torch.zeros_like(out[:, :, 2:]))
    vis = out[:, :, :2].transpose(0, 1).reshape(3, -1)
    torch.testing.assert_close(vis.mean(1), torch.zeros(3), atol=1e-5, rtol=0)
    torch.testing.assert_close(vis.var(1, unbiased=False), torch.ones(3), atol=1e-3, rtol=0)
    expected = h[:, :, :2].transpose(0, 1).reshape(3, -1).mean(1)
    torch.testing.assert_close(bn.running_mean, 0.1 * expected)  # PyTorch's momentum update
    bn.eval()  # evaluation uses the running statistics, as an unmasked BatchNorm does
    torch.testing.assert_close(masked_norm(bn, h, m), bn(h) * m)


def test_masked_group_norm_matches_group_norm_on_the_visible_crop() -> None:
    gn = torch.nn.GroupNorm(2, 4)
    h = torch.randn(3, 4, 6, 6)
    m = torch.zeros(3, 1, 6, 6)
    m[..., :, :3] = 1  # the left half visible
    torch.testing.assert_close(masked_norm(gn, h, m)[..., :3], gn(h[..., :3].contiguous()))


def test_level_masks_follow_the_parent_cell() -> None:
    cells = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]]]])
    masks = hidden_parent_masks(cells, [(7, 7), (4, 4), (2, 2)])
    assert [tuple(m.shape[-2:]) for m in masks] == [(7, 7), (4, 4), (2, 2)]
    assert masks[1][0, 0].tolist() == [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]]
    assert masks[0][0, 0, 6].tolist() == [0, 0, 0, 0, 1, 1, 1]  # row 6 -> 3 -> 1
