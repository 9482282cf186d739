"""Image tokenizer: non-overlapping p×p patches with (row, col) coordinates."""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.errors import DataError


class PatchTokenizer(nn.Module):
    """Embeds ``(B, C, H, W)`` images as ``(B, H/p * W/p, dim)`` patch tokens (raster order).

    ``coords`` gives each patch's (row, col) in patch units, so masks and positional
    encodings work on the patch grid; any image size divisible by ``patch`` is accepted.
    """

    def __init__(self, channels: int, patch: int, dim: int, image_size: int) -> None:
        super().__init__()
        self.channels, self.patch, self.dim = channels, patch, dim
        if image_size % patch:
            raise DataError(f"image size {image_size} is not divisible by patch size {patch}")
        side = image_size // patch
        self.axis_sizes = (side, side)
        self.proj = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)

    def grid(self, sample_shape: tuple[int, ...] | torch.Size) -> tuple[int, int]:
        """Patch grid (rows, cols) for one sample of shape (C, H, W)."""
        c, h, w = sample_shape[-3:]
        if c != self.channels or h % self.patch or w % self.patch:
            raise DataError(
                f"image of shape {tuple(sample_shape)} does not fit the tokenizer "
                f"({self.channels} channels, sides divisible by patch {self.patch})"
            )
        return h // self.patch, w // self.patch

    def coords(self, sample_shape: tuple[int, ...] | torch.Size) -> torch.Tensor:
        """(N, 2) float (row, col) of every patch, in raster order."""
        rows, cols = self.grid(sample_shape)
        r, c = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")
        return torch.stack([r.reshape(-1), c.reshape(-1)], dim=-1).float()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.grid(x.shape[1:])
        return self.proj(x).flatten(2).transpose(1, 2)
