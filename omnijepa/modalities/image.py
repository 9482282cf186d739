"""Image tokenizer: non-overlapping p×p patches with (row, col) coordinates."""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.errors import DataError
from omnijepa.nn.tokens import TOKENIZERS, Tokenizer, grid_axes, raster_coords


def image_sides(image_size: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """``(height, width)`` of an image size given as one side or as (height, width)."""
    sides = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(sides) != 2 or any(
        isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sides
    ):
        raise DataError(
            f"image size must be an int or (height, width) ints >= 1, got {image_size!r}"
        )
    return int(sides[0]), int(sides[1])


@TOKENIZERS.register("patch")
class PatchTokenizer(Tokenizer):
    """Embeds ``(B, C, H, W)`` images as ``(B, H/p * W/p, dim)`` patch tokens (raster order).

    ``coords`` gives each patch's (row, col) in patch units, so masks and positional
    encodings work on the patch grid. ``image_size`` (one side, or (height, width)) sets the
    declared grid; other sizes divisible by ``patch`` are accepted too (sin-cos positions
    extend to them; learned positions raise outside the declared grid).
    """

    def __init__(
        self, channels: int, patch: int, dim: int, image_size: int | tuple[int, int]
    ) -> None:
        super().__init__()
        self.channels, self.patch, self.dim = channels, patch, dim
        h, w = image_sides(image_size)
        if h % patch or w % patch:
            raise DataError(f"image size {h}x{w} is not divisible by patch size {patch}")
        self.axes = grid_axes(("row", "col"), (h // patch, w // patch))
        self.proj = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)
        self._coords: dict[tuple, torch.Tensor] = {}

    def grid(self, sample_shape: tuple[int, ...] | torch.Size) -> tuple[int, int]:
        """Patch grid (rows, cols) for one sample of shape (C, H, W)."""
        if len(sample_shape) < 3:
            raise DataError(f"images must be (C, H, W) per sample, got {tuple(sample_shape)}")
        c, h, w = sample_shape[-3:]
        if c != self.channels or h % self.patch or w % self.patch:
            raise DataError(
                f"image of shape {tuple(sample_shape)} does not fit the tokenizer "
                f"({self.channels} channels, sides divisible by patch {self.patch})"
            )
        return h // self.patch, w // self.patch

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2) float (row, col) of every patch, in raster order; one tensor per grid/device."""
        rows, cols = self.grid(x.shape[1:])
        key = (rows, cols, x.device)
        if key not in self._coords:
            self._coords[key] = raster_coords(rows, cols).to(x.device)
        return self._coords[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.grid(x.shape[1:])
        return self.proj(x).flatten(2).transpose(1, 2)
