"""A small convolutional backbone whose last feature map is the token set.

LeJEPA's objective asks nothing of the backbone's form, and its paper trains ResNets and
ConvNeXts as well as ViTs. At CPU scale a convolution's locality and weight sharing are a prior
that a few hundred steps cannot learn into a ViT: on the canvas Fashion-MNIST task the same
LeJEPA objective lifts a small conv net's linear probe about 10 points above its random init
where the ViT gains 4 (README, LeJEPA). Output: ``(B, h*w, D)`` tokens, so mean pooling is the
global average pool and every probe of the shared protocol reads it unchanged.

Layout: a 3x3 stem at full resolution to ``widths[0]``, then for each further width a stride-2
3x3 convolution and a stride-1 3x3 convolution; every convolution is followed by a
normalisation and a ReLU. ``norm``: ``batch`` (as in ResNets; the random-init twin then reads
its initial running statistics, mean 0 and variance 1) or ``group`` (8 groups or fewer; no
batch statistics, so a batch of one or a multi-process run behaves like any other).

Masked input (``keep``: the visible cells of the last map, as a masked-token objective's
context indices): the net runs as a sparse convolutional encoder (SparK; CNN-JEPA, Kalapos &
Gyires-Tóth 2024): every position whose cell is hidden is zeroed at the input and after every
layer, and the normalisations take their statistics over the visible positions only
(``nn.masked_norm``), so a visible token carries nothing of the hidden cells, as a ViT's
context tokens do when the targets are left out of its input.
"""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.errors import ConfigError
from omnijepa.nn.masked_norm import hidden_parent_masks, masked_norm
from omnijepa.nn.positional import gather_tokens
from omnijepa.nn.tokens import Axis, grid_axes, raster_coords


def _batch_norm(width: int) -> nn.Module:
    return nn.BatchNorm2d(width)


def _group_norm(width: int) -> nn.Module:
    return nn.GroupNorm(min(8, width), width)


NORMS = {"batch": _batch_norm, "group": _group_norm}


def check_widths(widths: tuple[int, ...], norm: str) -> None:
    """Raise ConfigError for widths or a norm the backbone cannot be built with."""
    if not widths or min(widths) < 1:
        raise ConfigError(f"model.widths must be positive channel counts, got {list(widths)}")
    if norm not in NORMS:
        raise ConfigError(f"model.norm={norm!r} is not one of {', '.join(sorted(NORMS))}")
    if norm == "group" and any(w % min(8, w) for w in widths):
        raise ConfigError(
            f"model.norm=group splits each width into 8 groups: model.widths {list(widths)} "
            "must be multiples of 8 (or below 8)"
        )


def level_sizes(height: int, width: int, halvings: int) -> list[tuple[int, int]]:
    """Map sizes of a pyramid with ``halvings`` stride-2 3x3 convolutions (padding 1, so a
    side s becomes (s - 1) // 2 + 1), the input's first."""
    sizes = [(height, width)]
    for _ in range(halvings):
        sizes.append(((sizes[-1][0] - 1) // 2 + 1, (sizes[-1][1] - 1) // 2 + 1))
    return sizes


def _conv(cin: int, cout: int, stride: int, norm: str) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
        NORMS[norm](cout),
        nn.ReLU(inplace=True),
    ]


class ConvBackbone(nn.Module):
    """Images (B, C, H, W) -> tokens (B, h*w, widths[-1]) of the last feature map, whose side
    is the image's halved ``len(widths) - 1`` times (rounded up)."""

    def __init__(
        self,
        channels: int,
        widths: tuple[int, ...],
        norm: str = "batch",
        image_size: tuple[int, int] | int = 32,
    ) -> None:
        super().__init__()
        check_widths(widths, norm)
        self.channels = channels
        self.widths = tuple(int(w) for w in widths)
        self.dim = self.widths[-1]
        layers = _conv(channels, self.widths[0], 1, norm)
        for prev, w in zip(self.widths, self.widths[1:]):
            layers += _conv(prev, w, 2, norm) + _conv(w, w, 1, norm)
        # channels-last weights and activations: mkldnn's convolutions run 15-25 % faster so
        # on a CPU (the ijepa step 20 %, lejepa's 13 %). The kernels' rounding depends on the
        # weights' layout, which ``load_state_dict`` (a copy into these tensors), ``.to()`` and
        # ``deepcopy`` keep; a checkpoint's optimizer moments are put back in it on loading
        # (``distributed.shard_like``), so a resumed run stays bit-identical
        self.net = nn.Sequential(*layers).to(memory_format=torch.channels_last)
        size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        # the token grid of the configured image size, for positional encodings downstream
        self.axes: tuple[Axis, ...] = grid_axes(("row", "col"), self.grid(*size))

    def grid(self, height: int, width: int) -> tuple[int, int]:
        """Side lengths of the last feature map for ``height`` x ``width`` images."""
        return self.level_sizes(height, width)[-1]

    def level_sizes(self, height: int, width: int) -> list[tuple[int, int]]:
        """Map sizes at every resolution, the input's first."""
        return level_sizes(height, width, len(self.widths) - 1)

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2) float (row, col) of every output token, in raster order: the token contract's
        coordinates, on the feature map's own grid."""
        return raster_coords(*self.grid(x.shape[-2], x.shape[-1])).to(x.device)

    def padding(self, x: torch.Tensor) -> None:
        """Images are never padded: no padding mask (the token contract's method)."""
        return None

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, h*w, D)`` tokens of images ``x``; with ``keep`` (B, K) flat indices of visible
        cells of the last map, ``(B, K, D)`` tokens of the sparse (masked) pass."""
        x = x.contiguous(memory_format=torch.channels_last)
        if keep is None:
            return self.net(x).flatten(2).transpose(1, 2)
        sizes = self.level_sizes(x.shape[-2], x.shape[-1])
        cells = torch.zeros(x.shape[0], sizes[-1][0] * sizes[-1][1], device=x.device)
        cells = cells.scatter(1, keep, 1.0).view(x.shape[0], 1, *sizes[-1]).to(x.dtype)
        masks = hidden_parent_masks(cells, sizes)
        h, level = x * masks[0], 0
        layers = list(self.net)
        for conv, norm, act in zip(layers[0::3], layers[1::3], layers[2::3]):
            level += conv.stride[0] == 2
            h = act(masked_norm(norm, conv(h), masks[level])) * masks[level]
        return gather_tokens(h.flatten(2).transpose(1, 2), keep)
