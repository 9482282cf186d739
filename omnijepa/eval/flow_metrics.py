"""Optical-flow evaluation: end-point error against exact flow, OpenCV's Farnebäck flow as the
classical baseline, and the flow-colour picture (``flow.png``).

Flows follow ``nn.flow_warp``'s convention (frame1(p) = frame2(p + f(p)), channels dx, dy),
which is also what ``cv2.calcOpticalFlowFarneback(prev, next)`` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import hsv_to_rgb  # noqa: E402

FlowFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (first, second) -> flow


def end_point_error(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Per-pair mean end-point error (N,) of flows (N, 2, H, W), in pixels."""
    return (pred - truth).norm(dim=1).flatten(1).mean(dim=1)


def _grey_uint8(x: torch.Tensor) -> np.ndarray:
    """(C, H, W) float in [0, 1] -> (H, W) uint8 grey."""
    return (x.float().mean(dim=0).clamp(0, 1).numpy() * 255).round().astype(np.uint8)


def farneback(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """OpenCV's Farnebäck dense flow for every pair (N, C, H, W) -> (N, 2, H, W); the
    parameters of OpenCV's own dense-flow sample (pyramid 0.5 x 3 levels, window 15)."""
    import cv2

    out = []
    for a, b in zip(first, second):
        f = cv2.calcOpticalFlowFarneback(_grey_uint8(a), _grey_uint8(b), None,
                                         0.5, 3, 15, 3, 5, 1.2, 0)  # fmt: skip
        out.append(torch.from_numpy(f).permute(2, 0, 1))
    return torch.stack(out).float()


@torch.no_grad()
def batched_flow(fn: FlowFn, first: torch.Tensor, second: torch.Tensor, device: torch.device,
                 batch: int = 64) -> torch.Tensor:  # fmt: skip
    """``fn`` over the pairs in batches on ``device``; flows back on the CPU."""
    out = [fn(first[i : i + batch].to(device), second[i : i + batch].to(device)).float().cpu()
           for i in range(0, len(first), batch)]  # fmt: skip
    return torch.cat(out)


def flow_colours(flow: torch.Tensor, scale: float) -> np.ndarray:
    """A flow (2, H, W) as an RGB image: hue = direction, saturation = speed / ``scale``."""
    fx, fy = flow[0].numpy(), flow[1].numpy()
    hue = (np.arctan2(-fy, -fx) / (2 * np.pi) + 0.5) % 1.0
    sat = np.clip(np.hypot(fx, fy) / max(scale, 1e-6), 0, 1)
    return hsv_to_rgb(np.stack([hue, sat, np.ones_like(hue)], axis=-1))


def draw_flow_figure(path: Path, first: torch.Tensor, columns: dict[str, torch.Tensor],
                     title: str, scale: float | None = None) -> None:  # fmt: skip
    """One row per pair: the first frame, then each named column: a flow (N, 2, H, W) in colour
    on one shared speed scale (by default the largest speed shown), or an image (N, C, H, W)."""
    n = first.shape[0]
    flows = [f for f in columns.values() if f.shape[1] == 2]
    if scale is None:
        scale = max([float(f.norm(dim=1).max()) for f in flows] + [1e-6])
    cols = 1 + len(columns)
    fig, axes = plt.subplots(n, cols, figsize=(2.0 * cols, 2.0 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(first[i].float().mean(dim=0).numpy(), cmap="gray", vmin=0, vmax=1)
        for j, (name, flow) in enumerate(columns.items(), start=1):
            if flow.shape[1] == 2:
                axes[i, j].imshow(flow_colours(flow[i], scale))
            else:
                axes[i, j].imshow(flow[i].float().mean(dim=0).numpy(), cmap="gray", vmin=0, vmax=1)
            if i == 0:
                axes[i, j].set_title(name, fontsize=9)
    axes[0, 0].set_title("first frame", fontsize=9)
    for ax in axes.flat:
        ax.set_axis_off()
    fig.suptitle(f"{title} (full saturation = {scale:.1f} px)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
