"""PWC-Net-style coarse-to-fine flow head over a feature pyramid (MC-JEPA's motion predictor).

At each level, from the coarsest: the previous level's flow is upsampled (vectors doubled),
the second frame's features are warped by it, a local cost volume (radius ``radius``) compares
them with the first frame's features, and a small convnet reads [cost, features, flow] and
outputs a residual: ``f_l = up(f_{l+1}) + delta_l``. Each level has its own estimator. As in
PWC-Net, the finest ``skip`` levels get no estimator (their flow is the upsampled one): the
finest level costs the most and adds little for smooth motion.
"""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.errors import ConfigError
from omnijepa.nn.flow_warp import correlation, upsample_flow, warp


class LevelEstimator(nn.Module):
    """[cost volume, first-frame features, flow] -> residual flow (2 channels)."""

    def __init__(self, in_channels: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, hidden, 3, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(hidden, hidden // 2, 3, padding=1),
            nn.LeakyReLU(0.1),
            nn.Conv2d(hidden // 2, 2, 3, padding=1),
        )
        last = self.net[-1]
        nn.init.zeros_(last.weight)  # start from "no residual": the upsampled flow
        nn.init.zeros_(last.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class FlowHead(nn.Module):
    """Flows at every pyramid level (finest first), each in pixels of its own level."""

    def __init__(
        self, widths: tuple[int, ...], radius: int = 2, hidden: int = 32, skip: int = 1
    ) -> None:
        super().__init__()
        if radius < 1:
            raise ConfigError(f"model.radius must be >= 1, got {radius}")
        if not 0 <= skip < len(widths):
            raise ConfigError(f"model.skip_levels must be in [0, {len(widths) - 1}], got {skip}")
        self.radius, self.skip = radius, skip
        cost = (2 * radius + 1) ** 2
        self.estimators = nn.ModuleList(LevelEstimator(cost + w + 2, hidden) for w in widths[skip:])

    def forward(self, first: list[torch.Tensor], second: list[torch.Tensor]) -> list[torch.Tensor]:
        flows: list[torch.Tensor] = []
        flow: torch.Tensor | None = None
        for level in reversed(range(len(first))):
            a, b = first[level], second[level]
            if flow is None:
                flow = a.new_zeros(a.shape[0], 2, *a.shape[-2:])
            else:
                flow = upsample_flow(flow, a.shape[-2:])
            if level >= self.skip:
                cost = correlation(a, warp(b, flow), self.radius)
                residual = self.estimators[level - self.skip](torch.cat([cost, a, flow], dim=1))
                flow = flow + residual
            flows.append(flow)
        return flows[::-1]
