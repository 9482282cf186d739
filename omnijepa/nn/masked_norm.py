"""Normalisations that read only the visible positions of a masked feature map.

A sparse convolutional encoder (SparK, CNN-JEPA) zeroes the hidden positions after every
convolution so no hidden content reaches a visible output. Its normalisations must then take
their statistics over the visible positions only: counted in, the zeros would shift every
mean and variance by an amount that depends on how much of the image the mask hides, and the
features of the same image would differ between the masked (training) and the whole (target,
evaluation) pass. BatchNorm's running statistics are updated from the visible positions, as
PyTorch updates them (momentum, unbiased variance). A SyncBatchNorm (multi-GPU runs) takes its
masked statistics on each rank's own rows: the masked pass does not all-reduce them.
"""

from __future__ import annotations

import torch
from torch import nn


def _moments(
    h: torch.Tensor, m: torch.Tensor, dims: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n = m.expand_as(h).sum(dims, keepdim=True).clamp_min(1.0)
    mean = (h * m).sum(dims, keepdim=True) / n
    var = ((h - mean).square() * m).sum(dims, keepdim=True) / n
    return mean, var, n


def _masked_batch_norm(
    bn: nn.modules.batchnorm._BatchNorm, h: torch.Tensor, m: torch.Tensor
) -> torch.Tensor:
    if not bn.training:
        return bn(h)
    mean, var, n = _moments(h, m, (0, 2, 3))
    if bn.track_running_stats and bn.running_mean is not None:
        with torch.no_grad():
            unbiased = var * n / (n - 1).clamp_min(1.0)
            bn.running_mean.lerp_(mean.flatten(), bn.momentum)
            bn.running_var.lerp_(unbiased.flatten(), bn.momentum)
            bn.num_batches_tracked += 1
    out = (h - mean) * torch.rsqrt(var + bn.eps)
    return out * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)


def _masked_group_norm(gn: nn.GroupNorm, h: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    b, c, height, width = h.shape
    g = gn.num_groups
    hg = h.view(b, g, c // g, height, width)
    mean, var, _ = _moments(hg, m.unsqueeze(1), (2, 3, 4))
    out = ((hg - mean) * torch.rsqrt(var + gn.eps)).view_as(h)
    return out * gn.weight.view(1, -1, 1, 1) + gn.bias.view(1, -1, 1, 1)


def masked_norm(norm: nn.Module, h: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """``norm`` (BatchNorm2d or GroupNorm) of ``h`` (B, C, H, W) with statistics over the
    positions where ``m`` (B, 1, H, W) is 1; hidden positions come out as 0."""
    if isinstance(norm, nn.modules.batchnorm._BatchNorm):  # SyncBatchNorm too: per rank here
        return _masked_batch_norm(norm, h, m) * m
    if isinstance(norm, nn.GroupNorm):
        return _masked_group_norm(norm, h, m) * m
    raise TypeError(f"no masked form of {type(norm).__name__}")


def hidden_parent_masks(cells: torch.Tensor, sizes: list[tuple[int, int]]) -> list[torch.Tensor]:
    """Visibility masks at every resolution of a stride-2 pyramid, finest first.

    ``cells`` (B, 1, h, w) is 1 at the visible cells of the coarsest map, whose size is
    ``sizes[-1]``; a position at one level is visible exactly when the position it falls in
    one level down (index // 2) is. A stride-2 3x3 convolution's output j reads inputs
    2j-1 .. 2j+1, of which 2j and 2j+1 share its own visibility, so with hidden positions
    zeroed after every layer no hidden content reaches a visible output."""
    masks = [cells]
    for height, width in reversed(sizes[:-1]):
        up = masks[0].repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
        masks.insert(0, up[..., :height, :width])
    return masks
