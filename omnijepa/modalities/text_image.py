"""Image-caption pairs as one token encoder, so TI-JEPA runs on the library's latent-prediction
objective unchanged: frozen image tokens and frozen text tokens (computed once per pair) are
packed into one flat vector per sample (the collator stacks tensors), and
``TextImageEncoder`` unpacks them and runs the trainable crosser, keeping only the context's
image tokens when asked. Its coordinates are the image grid's, so masks, predictor and EMA
target are those of I-JEPA; the target is an EMA copy of the crosser, as in TI-JEPA.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from omnijepa.errors import DataError
from omnijepa.nn.crosser import Crosser
from omnijepa.nn.tokens import Axis, grid_axes, raster_coords


@dataclass(frozen=True)
class PairLayout:
    """Shapes of one packed pair: ``tokens`` x ``image_dim`` image tokens, ``text_len`` x
    ``text_dim`` text tokens and ``text_len`` padding flags."""

    tokens: int
    image_dim: int
    text_len: int
    text_dim: int

    @property
    def size(self) -> int:
        return self.tokens * self.image_dim + self.text_len * (self.text_dim + 1)

    def pack(self, image: torch.Tensor, text: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        """(B, N, Di), (B, L', Dt), (B, L') with L' <= text_len -> (B, size) floats."""
        b, ell = text.shape[:2]
        if tuple(image.shape[1:]) != (self.tokens, self.image_dim) or ell > self.text_len:
            raise DataError(f"pair shapes {tuple(image.shape)} / {tuple(text.shape)} do not fit "
                            f"{self}")  # fmt: skip
        t = text.new_zeros(b, self.text_len, self.text_dim)
        t[:, :ell] = text
        p = padding.new_ones(b, self.text_len)
        p[:, :ell] = padding
        return torch.cat([image.reshape(b, -1).float(), t.reshape(b, -1).float(),
                          p.float()], dim=1)  # fmt: skip

    def unpack(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, size) -> image (B, N, Di), text (B, L, Dt), padding (B, L) bool."""
        if x.dim() != 2 or x.shape[1] != self.size:
            raise DataError(f"packed pairs {tuple(x.shape)} do not fit {self} (size {self.size})")
        b, n_img = x.shape[0], self.tokens * self.image_dim
        n_txt = self.text_len * self.text_dim
        image = x[:, :n_img].view(b, self.tokens, self.image_dim)
        text = x[:, n_img : n_img + n_txt].view(b, self.text_len, self.text_dim)
        return image, text, x[:, n_img + n_txt :] > 0.5


@torch.no_grad()
def pack_pairs(
    images: torch.Tensor,
    captions: list[str],
    image_encoder: nn.Module,
    encode_text: Callable[[list[str]], tuple[torch.Tensor, torch.Tensor]],
    text_len: int,
    batch_size: int = 256,
) -> tuple[torch.Tensor, PairLayout]:
    """Frozen features of every (image, caption) pair, packed: (N, layout.size) and the
    layout. ``image_encoder`` maps (B, C, H, W) to tokens (B, P, Di); ``encode_text`` maps
    captions to tokens (B, L, Dt) and padding (B, L), cut to ``text_len`` tokens. Batches go
    to the image encoder's device; the packed pairs stay on the CPU."""
    if len(images) != len(captions):
        raise DataError(f"{len(images)} images but {len(captions)} captions")
    image_encoder.eval()
    first = next(image_encoder.parameters(), None)
    device = first.device if first is not None else torch.device("cpu")
    parts, layout = [], None
    for k in range(0, len(images), batch_size):
        img = image_encoder(images[k : k + batch_size].to(device)).float().cpu()
        txt, pad = encode_text(captions[k : k + batch_size])
        txt, pad = txt[:, :text_len].float().cpu(), pad[:, :text_len].cpu()
        if layout is None:
            layout = PairLayout(img.shape[1], img.shape[2], text_len, txt.shape[2])
        parts.append(layout.pack(img, txt, pad))
    if layout is None:
        raise DataError("no image-caption pairs to encode")
    return torch.cat(parts), layout


class TextImageEncoder(nn.Module):
    """Packed pairs -> crosser outputs at the (kept) image tokens, on a (rows, cols) grid."""

    def __init__(self, layout: PairLayout, grid: tuple[int, int], crosser: Crosser) -> None:
        super().__init__()
        if grid[0] * grid[1] != layout.tokens:
            raise DataError(f"image grid {grid} does not hold {layout.tokens} tokens")
        self.layout, self.grid, self.crosser, self.dim = layout, grid, crosser, crosser.dim
        self.axes: tuple[Axis, ...] = grid_axes(("row", "col"), grid)
        self.register_buffer("_coords", raster_coords(*grid), persistent=False)

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2) grid coordinates of the image tokens, shared by the batch."""
        return self._coords

    def padding(self, x: torch.Tensor) -> None:
        """Image tokens are never padding (the text's padding stays inside the crosser)."""
        return None

    def forward(
        self,
        x: torch.Tensor,
        keep: torch.Tensor | None = None,
        layers: int = 1,
        positions: bool = True,
        barred: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Crosser outputs (B, N or K, dim). The frozen image tokens already carry their
        positions, so ``positions`` changes nothing; ``layers`` and ``barred`` are not
        supported (one output layer, no barred keys)."""
        if layers != 1 or barred is not None:
            raise ValueError("the text-image encoder gives one layer and bars no tokens")
        image, text, pad = self.layout.unpack(x)
        return self.crosser(image, text, pad, keep)


__all__ = ["PairLayout", "TextImageEncoder", "pack_pairs"]
