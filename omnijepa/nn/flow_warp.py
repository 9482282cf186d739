"""Warping by a dense flow field, and the correlation (cost) volume of PWC-Net-style heads.

Convention used everywhere in omnijepa: a flow ``f`` of shape (B, 2, H, W) holds, in pixels of
its own grid, the displacement (dx, dy) that carries a pixel ``p`` of the first frame to where
it is in the second: ``frame1(p) = frame2(p + f(p))``. ``warp(frame2, f)`` therefore resamples
the second frame (or its features) onto the first frame's grid. This is OpenCV's convention
for ``calcOpticalFlowFarneback(prev, next)``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _sample_grid(flow: torch.Tensor) -> torch.Tensor:
    """Normalised ``grid_sample`` coordinates of ``p + f(p)`` (align_corners=True)."""
    b, _, h, w = flow.shape
    ys = torch.arange(h, device=flow.device, dtype=flow.dtype)
    xs = torch.arange(w, device=flow.device, dtype=flow.dtype)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    x = gx + flow[:, 0]
    y = gy + flow[:, 1]
    x = 2.0 * x / max(w - 1, 1) - 1.0
    y = 2.0 * y / max(h - 1, 1) - 1.0
    return torch.stack([x, y], dim=-1)


def warp(x: torch.Tensor, flow: torch.Tensor, padding: str = "zeros") -> torch.Tensor:
    """``x`` (B, C, H, W) sampled at ``p + flow(p)`` (bilinear): the second frame brought onto
    the first frame's grid. ``padding``: ``zeros`` or ``border`` outside the image."""
    if x.shape[-2:] != flow.shape[-2:]:
        raise ValueError(
            f"warp: image {tuple(x.shape)} and flow {tuple(flow.shape)} differ in size"
        )
    # coordinates in float32 whatever ``x`` is: in bf16, pixel positions past 32 round to a
    # quarter pixel and sub-pixel flow would be lost
    grid = _sample_grid(flow.float())
    out = F.grid_sample(x.float(), grid, mode="bilinear", padding_mode=padding, align_corners=True)
    return out.to(x.dtype)


def inside(flow: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) float mask: 1 where ``p + flow(p)`` lands inside the image."""
    _, _, h, w = flow.shape
    grid = _sample_grid(flow.float())
    ok = (grid.abs() <= 1.0).all(dim=-1)
    return ok.unsqueeze(1).to(flow.dtype)


def upsample_flow(flow: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Flow resized to ``size`` with its vectors rescaled to the new pixel units."""
    h, w = flow.shape[-2:]
    up = F.interpolate(flow, size=size, mode="bilinear", align_corners=True)
    scale = torch.tensor([size[1] / w, size[0] / h], device=flow.device, dtype=flow.dtype)
    return up * scale.view(1, 2, 1, 1)


def correlation(a: torch.Tensor, b: torch.Tensor, radius: int) -> torch.Tensor:
    """Cost volume (B, (2r+1)^2, H, W): the mean over channels of ``a(p) * b(p + d)`` for every
    displacement ``d`` in [-r, r]^2 (zero outside ``b``)."""
    _, c, h, w = a.shape
    padded = F.pad(b, (radius, radius, radius, radius))
    k = 2 * radius + 1
    out = [
        (a * padded[:, :, dy : dy + h, dx : dx + w]).sum(dim=1)
        for dy in range(k)
        for dx in range(k)
    ]  # shifted products: cheaper on a CPU than one large im2col broadcast
    return torch.stack(out, dim=1) / c
