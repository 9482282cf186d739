"""Video tokens: tubelets of ``tubelet`` frames x ``patch`` x ``patch`` pixels (V-JEPA's
2 x 16 x 16) embedded by one 3-D convolution, at grid coordinates (time, row, col) shared by
the batch."""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.errors import ConfigError, DataError
from omnijepa.nn.tokens import TOKENIZERS, Tokenizer, grid_axes


@TOKENIZERS.register("tubelet")
class TubeletTokenizer(Tokenizer):
    """``(B, C, T, H, W)`` clips -> ``(B, (T / t) (H / p) (W / p), dim)`` tokens, time-major."""

    def __init__(self, channels: int, frames: int, size: int, tubelet: int, patch: int,
                 dim: int) -> None:  # fmt: skip
        super().__init__()
        if min(channels, tubelet, patch, dim) < 1 or frames % tubelet or size % patch:
            raise ConfigError(
                f"tubelets of {tubelet} frames x {patch} px must tile clips of {frames} frames "
                f"x {size} px (model.tubelet divides data.frames, model.patch divides data.size)"
            )
        self.channels, self.frames, self.size, self.dim = channels, frames, size, dim
        self.grid = (frames // tubelet, size // patch, size // patch)
        self.axes = grid_axes(("time", "row", "col"), self.grid)
        kernel = (tubelet, patch, patch)
        self.proj = nn.Conv3d(channels, dim, kernel, stride=kernel)
        t, r, c = torch.meshgrid(*(torch.arange(n) for n in self.grid), indexing="ij")
        coords = torch.stack([t, r, c], -1).reshape(-1, 3).float()
        self.register_buffer("_coords", coords, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        want = (self.channels, self.frames, self.size, self.size)
        if x.dim() != 5 or tuple(x.shape[1:]) != want:
            raise DataError(f"video batch {tuple(x.shape)} does not fit: expected (B, *{want})")
        return self.proj(x.to(self.proj.weight.dtype)).flatten(2).transpose(1, 2)

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """((T/t)(H/p)(W/p), 3): (time, row, col) of every tubelet."""
        return self._coords


__all__ = ["TubeletTokenizer"]
