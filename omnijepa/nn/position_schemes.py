"""Positional schemes for 1-D token sequences: the base class, absolute schemes and RoPE.

Every scheme works from integer ``positions`` (the tokens' indices in the full sequence, which
need not be contiguous when a JEPA context keeps only some tokens), never from ``arange(N)``.
A scheme may add an embedding at the model input (absolute schemes), rotate q and k (RoPE),
and/or contribute an additive attention bias of shape ``(B or 1, H or 1, N, N)``; causal
masking (key j allowed iff ``pos_j <= pos_i``) is folded into that bias as ``-inf``. The
diagonal is always allowed, so no softmax row is empty. Bias-based schemes (ALiBi, hard ALiBi,
relative position embeddings) are in ``bias_schemes``; ``sequence_attention`` builds any of
them by name.
"""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.errors import ConfigError
from omnijepa.nn.positional import sincos_embedding
from omnijepa.registry import Registry

POSITION_SCHEMES: Registry[type[PositionScheme]] = Registry("position scheme")

SCHEME_BASE_ARGS = ("self", "dim", "heads", "causal")


def as_batch_positions(
    positions: torch.Tensor | None, n: int, device: torch.device | None = None
) -> torch.Tensor:
    """Normalise ``positions`` (None, (N,) or (B, N) integers) to a long ``(B or 1, N)``."""
    if positions is None:
        return torch.arange(n, device=device).unsqueeze(0)
    if positions.is_floating_point() or positions.is_complex():
        raise ValueError(f"positions must be an integer tensor, got {positions.dtype}")
    if positions.dim() == 1:
        positions = positions.unsqueeze(0)
    if positions.dim() != 2 or positions.shape[-1] != n:
        raise ValueError(
            f"positions must have shape ({n},) or (B, {n}), got {tuple(positions.shape)}"
        )
    return positions.to(device=device, dtype=torch.long)


def relative_positions(positions: torch.Tensor) -> torch.Tensor:
    """``d[b, i, j] = pos_i - pos_j`` for positions ``(B or 1, N)``, shape ``(B or 1, N, N)``."""
    return positions[:, :, None] - positions[:, None, :]


def causal_mask(positions: torch.Tensor) -> torch.Tensor:
    """Additive mask ``(B or 1, 1, N, N)``: 0 where ``pos_j <= pos_i``, ``-inf`` elsewhere."""
    allowed = relative_positions(positions) >= 0
    return allowed_to_bias(allowed).unsqueeze(1)


def allowed_to_bias(allowed: torch.Tensor) -> torch.Tensor:
    bias = torch.zeros(allowed.shape, device=allowed.device)
    return bias.masked_fill(~allowed, float("-inf"))


def add_bias(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


class PositionScheme(nn.Module):
    """Base scheme: no positional information; applies only the causal mask when asked.

    Subclasses override ``input_embedding`` (absolute schemes, ``absolute = True``),
    ``rotate`` (rotary) and/or ``position_bias`` (additive logit bias, may use q and k).
    """

    absolute = False

    def __init__(self, dim: int, heads: int, causal: bool) -> None:
        super().__init__()
        if dim % heads:
            raise ConfigError(f"width {dim} is not divisible by {heads} heads")
        self.dim = dim
        self.heads = heads
        self.head_dim = dim // heads
        self.causal = causal

    def input_embedding(self, positions: torch.Tensor) -> torch.Tensor | None:
        """Embedding ``(…, N, D)`` to add to the first layer's input, or None."""
        return None

    def rotate(
        self, q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Transform q, k ``(B, H, N, hd)`` before the dot product (identity by default)."""
        return q, k

    def position_bias(
        self,
        positions: torch.Tensor,
        q: torch.Tensor | None = None,
        k: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """The scheme's own additive bias (without causal mask), or None."""
        return None

    def attention_bias(
        self,
        positions: torch.Tensor,
        q: torch.Tensor | None = None,
        k: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """Full additive bias ``(B or 1, H or 1, N, N)`` incl. the causal mask, or None.

        ``positions`` may be (N,) or (B, N); content-dependent schemes need q and k
        ``(B, H, N, hd)`` (already scaled so the bias matches the SDPA logit definition).
        """
        if positions.dim() == 1:
            positions = positions.unsqueeze(0)
        bias = self.position_bias(positions, q, k)
        if self.causal:
            bias = add_bias(bias, causal_mask(positions))
        return bias


@POSITION_SCHEMES.register("nope")
class NoPositionScheme(PositionScheme):
    """No positional information (causal order alone can still leak position)."""


@POSITION_SCHEMES.register("learned")
class LearnedAbsoluteScheme(PositionScheme):
    """Learned absolute table of ``max_len`` rows added to the input tokens."""

    absolute = True

    def __init__(self, dim: int, heads: int, causal: bool, max_len: int = 1024) -> None:
        super().__init__(dim, heads, causal)
        if int(max_len) < 1:
            raise ConfigError(f"learned positions need max_len >= 1, got {max_len}")
        self.max_len = int(max_len)
        self.table = nn.Parameter(torch.zeros(self.max_len, dim))
        nn.init.trunc_normal_(self.table, std=0.02)

    def input_embedding(self, positions: torch.Tensor) -> torch.Tensor:
        if positions.numel() and (positions.min() < 0 or positions.max() >= self.max_len):
            raise ValueError(
                f"learned positions must lie in [0, max_len={self.max_len}); got range "
                f"[{int(positions.min())}, {int(positions.max())}]; raise max_len"
            )
        return self.table[positions]


@POSITION_SCHEMES.register("sincos")
class SinCosAbsoluteScheme(PositionScheme):
    """Fixed sin-cos absolute embedding added to the input tokens (no parameters)."""

    absolute = True

    def input_embedding(self, positions: torch.Tensor) -> torch.Tensor:
        return sincos_embedding(positions[..., None], self.dim).to(positions.device)


@POSITION_SCHEMES.register("rope")
class RotaryScheme(PositionScheme):
    """Rotary embedding of q and k by angle ``pos * base^(-2k/r)`` on ``r`` head dims.

    ``rotary_fraction`` of each head's dims (rounded down to an even count) are rotated,
    in half-split pairs ``(x_k, x_{k + r/2})``; the rest pass through unchanged.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        causal: bool,
        rotary_fraction: float = 1.0,
        base: float = 10000.0,
    ) -> None:
        super().__init__(dim, heads, causal)
        if not 0.0 < float(rotary_fraction) <= 1.0:
            raise ConfigError(f"rotary_fraction must be in (0, 1], got {rotary_fraction}")
        rot = int(self.head_dim * float(rotary_fraction)) // 2 * 2
        if rot < 2:
            raise ConfigError(
                f"rotary_fraction={rotary_fraction} rotates fewer than 2 of "
                f"{self.head_dim} head dims"
            )
        self.rotary_dims = rot
        self.base = float(base)
        inv_freq = self.base ** (-torch.arange(0, rot, 2, dtype=torch.float64) / rot)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def rotate(
        self, q: torch.Tensor, k: torch.Tensor, positions: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        angles = positions.to(torch.float64)[..., None] * self.inv_freq  # (B|1, N, r/2)
        cos = angles.cos()[:, None].to(q.dtype)
        sin = angles.sin()[:, None].to(q.dtype)
        return self._rotate_pairs(q, cos, sin), self._rotate_pairs(k, cos, sin)

    def _rotate_pairs(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = self.rotary_dims // 2
        x1, x2, rest = x[..., :half], x[..., half : 2 * half], x[..., 2 * half :]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos, rest], dim=-1)
