"""A small convolutional feature pyramid (PWC-Net-style): one encoder for motion and content.

Images in [0, 1] are centred and scaled first, and the convolutions are Kaiming-initialised,
so every level starts with features of unit scale (a cost volume of tiny features is flat).
Level ``l`` (1-based) halves the resolution ``l`` times: two 3x3 convolutions, the first with
stride 2, each followed by a leaky ReLU. ``forward`` returns every level, finest first, so a
flow head can work coarse to fine and a dense probe can read all of them.
"""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.errors import ConfigError

FINEST_STRIDE = 2  # the first level halves the image; every later level halves again


class ConvPyramid(nn.Module):
    """Images (B, C, H, W) -> ``len(widths)`` feature maps at strides 2, 4, 8, ..."""

    def __init__(self, channels: int, widths: tuple[int, ...] = (16, 32, 64, 96)) -> None:
        super().__init__()
        if not widths or min(widths) < 1:
            raise ConfigError(f"model.widths must be positive channel counts, got {widths}")
        self.widths = tuple(int(w) for w in widths)
        levels, prev = [], channels
        for w in self.widths:
            levels.append(
                nn.Sequential(
                    nn.Conv2d(prev, w, 3, stride=2, padding=1),
                    nn.LeakyReLU(0.1),
                    nn.Conv2d(w, w, 3, padding=1),
                    nn.LeakyReLU(0.1),
                )
            )
            prev = w
        self.levels = nn.ModuleList(levels)
        for m in self.modules():  # variance-preserving: features keep unit scale at every level
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0.1, nonlinearity="leaky_relu")
                nn.init.zeros_(m.bias)

    @property
    def stride(self) -> int:
        """Down-sampling factor of the coarsest level: image sides must be multiples of it."""
        return FINEST_STRIDE ** len(self.widths)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - 0.5) / 0.25  # images in [0, 1] to roughly zero mean, unit scale
        feats = []
        for level in self.levels:
            x = level(x)
            feats.append(x)
        return feats


class PyramidTokens(nn.Module):
    """The pyramid's coarsest level as tokens (B, h*w, D): what the shared frozen-feature
    protocol pools (mean pooling = the global average)."""

    def __init__(self, pyramid: ConvPyramid) -> None:
        super().__init__()
        self.pyramid = pyramid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pyramid(x)[-1].flatten(2).transpose(1, 2)
