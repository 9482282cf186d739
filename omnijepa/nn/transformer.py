"""Pre-norm transformer blocks on ``(B, N, D)`` token tensors, using PyTorch's SDPA kernel."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from omnijepa.nn.attention_kernel import attention
from omnijepa.nn.positional import init_weights, rescale_residual_projections


def key_padding_mask(padding: torch.Tensor | None) -> torch.Tensor | None:
    """SDPA boolean mask (B, 1, 1, N), True = may attend, from ``padding`` (B, N), True = pad.

    Only keys are masked: a padded query still attends to the real tokens, so its (ignored)
    output stays finite.
    """
    return None if padding is None else ~padding[:, None, None, :]


class SelfAttention(nn.Module):
    """Multi-head self-attention through ``scaled_dot_product_attention``."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(
        self, x: torch.Tensor, attn_mask: torch.Tensor | None = None, n_out: int | None = None
    ) -> torch.Tensor:
        """(B, N, D) -> (B, N, D); with ``n_out`` only the last ``n_out`` tokens are queries
        (every token is still a key), so (B, n_out, D) comes out for less work."""
        b, n, d = x.shape
        if n_out is None or n_out >= n:
            # unbind, not qkv[0..2]: indexing backpropagates as three zero-filled copies of
            # the whole qkv tensor summed together; unbind's backward is one stack (~10 %
            # of an attention layer's forward + backward on a CPU, same values)
            q, k, v = (
                self.qkv(x)
                .view(b, n, 3, self.heads, d // self.heads)
                .permute(2, 0, 3, 1, 4)
                .unbind(0)
            )
            out = attention(q, k, v, attn_mask=attn_mask)
            return self.proj(out.transpose(1, 2).reshape(b, n, d))
        w, bias = self.qkv.weight, self.qkv.bias
        q = F.linear(x[:, n - n_out :], w[:d], bias[:d])
        kv = F.linear(x, w[d:], bias[d:]).view(b, n, 2, self.heads, d // self.heads)
        k, v = kv.permute(2, 0, 3, 1, 4).unbind(0)
        q = q.view(b, n_out, self.heads, d // self.heads).transpose(1, 2)
        if attn_mask is not None and attn_mask.shape[-2] > 1:  # a full (.., N, N) mask
            attn_mask = attn_mask[..., n - n_out :, :]
        out = attention(q, k, v, attn_mask=attn_mask)
        return self.proj(out.transpose(1, 2).reshape(b, n_out, d))


class MLP(nn.Module):
    """Two-layer GELU MLP."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class CheckpointableBlock(nn.Module):
    """A repeated block of a deep network; subclasses implement ``block_forward``.

    ``activation_checkpoint = True`` (set by the trainer's ``train.activation_checkpointing``)
    recomputes the block's activations in the backward pass instead of storing them: less
    memory for about a third more compute. The attribute also marks the block as one FSDP
    shard unit (``train.strategy``).
    """

    activation_checkpoint: bool = False

    def forward(self, *args: torch.Tensor | None) -> torch.Tensor:
        if self.activation_checkpoint and torch.is_grad_enabled():
            return checkpoint(self.block_forward, *args, use_reentrant=False)
        return self.block_forward(*args)

    def block_forward(self, *args: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError


class Block(CheckpointableBlock):
    """Pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MLP(dim, int(dim * mlp_ratio))

    def block_forward(  # type: ignore[override]
        self, x: torch.Tensor, attn_mask: torch.Tensor | None = None, n_out: int | None = None
    ) -> torch.Tensor:
        """(B, N, D) -> (B, N, D), or only the last ``n_out`` tokens' outputs (the others
        still serve as keys and values)."""
        out = x if n_out is None else x[:, x.shape[1] - n_out :]
        out = out + self.attn(self.norm1(x), attn_mask, n_out)
        return out + self.mlp(self.norm2(out))


class TransformerStack(nn.Module):
    """``depth`` blocks followed by a final LayerNorm, with I-JEPA's initialisation."""

    def __init__(self, dim: int, depth: int, heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([Block(dim, heads, mlp_ratio) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.apply(init_weights)
        rescale_residual_projections(self.blocks)

    def forward(
        self,
        x: torch.Tensor,
        attn_mask: torch.Tensor | None = None,
        layers: int = 1,
        n_out: int | None = None,
    ) -> torch.Tensor:
        """Final-normed output; with ``layers=k`` > 1 the last k blocks' outputs, each through
        the final norm, concatenated on the channel axis (ijepa#47's probe features). With
        ``n_out`` only the last ``n_out`` tokens come out: the last block computes nothing
        else (a predictor reads only its mask tokens), the same values for less work."""
        if not 1 <= layers <= max(1, len(self.blocks)):
            raise ValueError(f"layers={layers} must be in 1..{len(self.blocks)} (the depth)")
        if n_out is not None and layers > 1:
            raise ValueError("n_out reads the last block only; it does not combine with layers")
        outs = []
        for i, block in enumerate(self.blocks):
            last = i == len(self.blocks) - 1
            x = block(x, attn_mask, n_out) if last and n_out is not None else block(x, attn_mask)
            if layers > 1 and i >= len(self.blocks) - layers:
                outs.append(self.norm(x))
        return torch.cat(outs, dim=-1) if layers > 1 else self.norm(x)


def stack_depth(encoder: nn.Module) -> int | None:
    """Blocks of ``encoder``'s transformer stack (``encoder.stack``), or None without one:
    what ``layers=k`` options are checked against."""
    blocks = getattr(getattr(encoder, "stack", None), "blocks", None)
    return None if blocks is None else len(blocks)
