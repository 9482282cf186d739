"""TI-JEPA's "crosser": image tokens attend to each other, then to the caption's tokens.

TI-JEPA keeps a frozen image encoder and a frozen text encoder and trains only this module
(and a predictor): the image tokens, projected to the crosser's width and layer-normed, go
through ``depth`` blocks of self-attention over the image tokens followed by cross-attention
to the text tokens (whose padding is masked), each pre-norm with a residual, then an MLP. The
context crosser sees the visible image tokens, its EMA copy (the target) all of them.
"""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.nn.attention_kernel import attention
from omnijepa.nn.positional import init_weights, rescale_residual_projections
from omnijepa.nn.transformer import MLP, CheckpointableBlock, SelfAttention, key_padding_mask


class CrossAttention(nn.Module):
    """Queries from the image tokens, keys and values from the text tokens. A sample whose
    text is all padding gets zero (its image tokens pass through the residual unchanged)."""

    def __init__(self, dim: int, text_dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(text_dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, text: torch.Tensor, text_pad: torch.Tensor | None
                ) -> torch.Tensor:  # fmt: skip
        b, n, d = x.shape
        h = self.heads
        q = self.q(x).view(b, n, h, d // h).transpose(1, 2)
        k, v = self.kv(text).view(b, text.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4).unbind(0)
        mask = None
        if text_pad is not None:
            empty = text_pad.all(dim=1)
            mask = key_padding_mask(text_pad & ~empty[:, None])  # all-pad rows: keep finite
        out = attention(q, k, v, attn_mask=mask)
        out = self.proj(out.transpose(1, 2).reshape(b, n, d))
        if text_pad is not None:
            out = out.masked_fill(empty[:, None, None], 0.0)
        return out


class CrossBlock(CheckpointableBlock):
    """x + self_attn(norm(x)); x + cross_attn(norm(x), norm(text)); x + mlp(norm(x)). The
    text is layer-normed too (as Perceiver normalises its cross-attention inputs): frozen
    text encoders give L2-normalised tokens (MiniLM, gte), whose entries are ~20x smaller than
    the layer-normed image tokens', so the text branch would start almost silent."""

    def __init__(self, dim: int, text_dim: int, heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.norm_text = nn.LayerNorm(text_dim, eps=1e-6)
        self.cross = CrossAttention(dim, text_dim, heads)
        self.norm3 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MLP(dim, int(dim * mlp_ratio))

    def block_forward(  # type: ignore[override]
        self, x: torch.Tensor, text: torch.Tensor, text_pad: torch.Tensor | None
    ) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        x = x + self.cross(self.norm2(x), self.norm_text(text), text_pad)
        return x + self.mlp(self.norm3(x))


class Crosser(nn.Module):
    """(B, N, image_dim) image tokens + (B, L, text_dim) text tokens -> (B, N or K, dim)."""

    def __init__(self, image_dim: int, text_dim: int, dim: int, depth: int, heads: int,
                 mlp_ratio: float = 4.0) -> None:  # fmt: skip
        super().__init__()
        self.dim = dim
        self.embed = nn.Sequential(nn.Linear(image_dim, dim), nn.LayerNorm(dim, eps=1e-6))
        self.blocks = nn.ModuleList(
            [CrossBlock(dim, text_dim, heads, mlp_ratio) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.apply(init_weights)
        rescale_residual_projections(self.blocks)
        for layer_id, block in enumerate(self.blocks, start=1):  # the cross branch alike
            block.cross.proj.weight.data.div_((2.0 * layer_id) ** 0.5)

    def forward(self, image: torch.Tensor, text: torch.Tensor,
                text_pad: torch.Tensor | None = None,
                keep: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """``text_pad`` (B, L) True at padding; ``keep`` (B, K) the image tokens to use (the
        context), all when None."""
        if image.dim() != 3 or text.dim() != 3 or image.shape[0] != text.shape[0]:
            raise ValueError(f"image tokens {tuple(image.shape)} and text tokens "
                             f"{tuple(text.shape)} must be (B, N, D) and (B, L, D)")  # fmt: skip
        if keep is not None:
            image = torch.gather(image, 1, keep[..., None].expand(-1, -1, image.shape[-1]))
        x = self.embed(image)
        for block in self.blocks:
            x = block(x, text, text_pad)
        return self.norm(x)


__all__ = ["CrossAttention", "CrossBlock", "Crosser"]
