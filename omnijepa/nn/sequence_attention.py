"""Self-attention over 1-D token sequences with a selectable positional scheme.

Every scheme works from integer ``positions`` (the tokens' indices in the full sequence, which
need not be contiguous when a JEPA context keeps only some tokens), never from ``arange(N)``.
A scheme may add an embedding at the model input (absolute schemes), rotate q and k (RoPE),
and/or contribute an additive attention bias of shape ``(B or 1, H or 1, N, N)``; causal
masking (key j allowed iff ``pos_j <= pos_i``) is folded into that bias as ``-inf``. The
diagonal is always allowed, so no softmax row is empty.

Schemes are registered by name in ``POSITION_SCHEMES``: ``nope``, ``learned``, ``sincos``,
``rope``, ``alibi``, ``hard_alibi`` (Jelassi et al. 2024), ``rpe_k`` (Shaw et al. 2018) and
``rpe_kq`` (Huang et al. 2020).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from omnijepa.errors import ConfigError
from omnijepa.nn.positional import sincos_embedding
from omnijepa.registry import Registry

POSITION_SCHEMES: Registry[type[PositionScheme]] = Registry("position scheme")

_BASE_ARGS = ("self", "dim", "heads", "causal")


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
    return _allowed_to_bias(allowed).unsqueeze(1)


def _allowed_to_bias(allowed: torch.Tensor) -> torch.Tensor:
    bias = torch.zeros(allowed.shape, device=allowed.device)
    return bias.masked_fill(~allowed, float("-inf"))


def _add(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
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
            bias = _add(bias, causal_mask(positions))
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
        return self._apply(q, cos, sin), self._apply(k, cos, sin)

    def _apply(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        half = self.rotary_dims // 2
        x1, x2, rest = x[..., :half], x[..., half : 2 * half], x[..., 2 * half :]
        return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos, rest], dim=-1)


def alibi_slopes(heads: int) -> torch.Tensor:
    """ALiBi head slopes ``2^(-8 (h + 1) / H)`` for h = 0..H-1 (Press et al. 2022)."""
    return 2.0 ** (-8.0 * torch.arange(1, heads + 1, dtype=torch.float64) / heads)


@POSITION_SCHEMES.register("alibi")
class ALiBiScheme(PositionScheme):
    """Linear distance penalty ``-slope_h * |pos_i - pos_j|`` per head.

    In the causal case allowed keys have ``pos_i - pos_j >= 0``, so ``|.|`` equals ``i - j``.
    """

    def __init__(self, dim: int, heads: int, causal: bool) -> None:
        super().__init__(dim, heads, causal)
        self.register_buffer("slopes", alibi_slopes(heads).float(), persistent=False)

    def position_bias(
        self,
        positions: torch.Tensor,
        q: torch.Tensor | None = None,
        k: torch.Tensor | None = None,
    ) -> torch.Tensor:
        dist = relative_positions(positions).abs().float()
        return -self.slopes[None, :, None, None] * dist[:, None]


@POSITION_SCHEMES.register("hard_alibi")
class HardALiBiScheme(PositionScheme):
    """Hard-ALiBi (Jelassi et al. 2024): some heads see only a window of recent tokens.

    Windowed head h (of the first ``hard_heads``, default ``heads // 2``) has window
    ``w = h + 1`` unless ``windows`` lists them: it attends to keys with
    ``0 <= pos_i - pos_j <= w - 1`` (causal) or ``|pos_i - pos_j| <= w - 1``
    (bidirectional). The other heads are unrestricted NoPE heads.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        causal: bool,
        hard_heads: int | None = None,
        windows: Sequence[int] | None = None,
    ) -> None:
        super().__init__(dim, heads, causal)
        if windows is not None:
            windows = [int(w) for w in windows]
            if hard_heads is not None and int(hard_heads) != len(windows):
                raise ConfigError(f"hard_heads={hard_heads} disagrees with {len(windows)} windows")
            if any(w < 1 for w in windows):
                raise ConfigError(f"hard_alibi windows must be >= 1, got {windows}")
        else:
            n_hard = heads // 2 if hard_heads is None else int(hard_heads)
            if n_hard < 0:
                raise ConfigError(f"hard_heads must be >= 0, got {hard_heads}")
            windows = [h + 1 for h in range(n_hard)]
        if len(windows) > heads:
            raise ConfigError(f"{len(windows)} windowed heads but only {heads} heads")
        self.windows = list(windows)
        # Largest allowed |pos_i - pos_j| per head; unrestricted heads get "infinity".
        reach = [float(w - 1) for w in windows] + [math.inf] * (heads - len(windows))
        self.register_buffer("reach", torch.tensor(reach), persistent=False)

    def position_bias(
        self,
        positions: torch.Tensor,
        q: torch.Tensor | None = None,
        k: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        if not self.windows:
            return None
        dist = relative_positions(positions).abs().float()[:, None]  # (B|1, 1, N, N)
        allowed = dist <= self.reach[None, :, None, None]
        return _allowed_to_bias(allowed)


@POSITION_SCHEMES.register("rpe_k")
class KeyRelativeScheme(PositionScheme):
    """Shaw et al. (2018) relative keys: ``logit_ij += q_i . rK[clip(pos_j - pos_i)]``.

    ``rK`` has ``2 * max_dist + 1`` rows of head_dim, shared across heads; distances beyond
    ``max_dist`` share the boundary row. The term is scaled by ``1/sqrt(head_dim)`` like the
    content logit SDPA computes.
    """

    def __init__(self, dim: int, heads: int, causal: bool, max_dist: int = 16) -> None:
        super().__init__(dim, heads, causal)
        if int(max_dist) < 0:
            raise ConfigError(f"max_dist must be >= 0, got {max_dist}")
        self.max_dist = int(max_dist)
        self.rel_k = nn.Parameter(torch.zeros(2 * self.max_dist + 1, self.head_dim))
        nn.init.trunc_normal_(self.rel_k, std=0.02)

    def relative_index(self, positions: torch.Tensor) -> torch.Tensor:
        """Table row for each pair: ``clip(pos_j - pos_i) + max_dist``, ``(B|1, N, N)``."""
        rel = -relative_positions(positions)
        return rel.clamp(-self.max_dist, self.max_dist) + self.max_dist

    def position_bias(
        self,
        positions: torch.Tensor,
        q: torch.Tensor | None = None,
        k: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if q is None or k is None:
            raise ValueError(f"{type(self).__name__} needs q and k to build its bias")
        scale = self.head_dim**-0.5
        qr = torch.matmul(q, self.rel_k.t()) * scale  # (B, H, N_i, 2m+1)
        idx = self.relative_index(positions)[:, None].expand(q.shape[0], q.shape[1], -1, -1)
        return qr.gather(-1, idx)


@POSITION_SCHEMES.register("rpe_kq")
class KeyQueryRelativeScheme(KeyRelativeScheme):
    """Huang et al. (2020): rpe_k plus ``k_j . rQ[clip(pos_i - pos_j)]`` with its own table."""

    def __init__(self, dim: int, heads: int, causal: bool, max_dist: int = 16) -> None:
        super().__init__(dim, heads, causal, max_dist=max_dist)
        self.rel_q = nn.Parameter(torch.zeros(2 * self.max_dist + 1, self.head_dim))
        nn.init.trunc_normal_(self.rel_q, std=0.02)

    def query_term(self, positions: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """``k_j . rQ[clip(pos_i - pos_j)] / sqrt(head_dim)`` as ``(B, H, N_i, N_j)``."""
        scale = self.head_dim**-0.5
        kr = torch.matmul(k, self.rel_q.t()) * scale  # (B, H, N_j, 2m+1)
        rel = relative_positions(positions).clamp(-self.max_dist, self.max_dist)
        idx = (rel + self.max_dist).transpose(-1, -2)  # (B|1, N_j, N_i)
        idx = idx[:, None].expand(k.shape[0], k.shape[1], -1, -1)
        return kr.gather(-1, idx).transpose(-1, -2)

    def position_bias(
        self,
        positions: torch.Tensor,
        q: torch.Tensor | None = None,
        k: torch.Tensor | None = None,
    ) -> torch.Tensor:
        bias = super().position_bias(positions, q, k)
        assert k is not None
        return bias + self.query_term(positions, k)


def scheme_class(name: str) -> type[PositionScheme]:
    """The scheme class registered as ``name`` (ConfigError listing valid names otherwise)."""
    return POSITION_SCHEMES.get(name)


def check_scheme_options(name: str, options: dict[str, Any]) -> None:
    """Raise ConfigError if ``options`` holds keys the scheme ``name`` does not accept."""
    params = inspect.signature(scheme_class(name).__init__).parameters
    valid = [p for p in params if p not in _BASE_ARGS]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)} for position scheme {name!r}; "
            f"valid: {', '.join(valid) or '(none)'}"
        )


def build_scheme(name: str, dim: int, heads: int, causal: bool, **options: Any) -> PositionScheme:
    """Create the scheme ``name`` after checking its options."""
    check_scheme_options(name, options)
    return scheme_class(name)(dim=dim, heads=heads, causal=causal, **options)


class PositionalSelfAttention(nn.Module):
    """Multi-head self-attention (SDPA) whose positional scheme is chosen by name.

    Absolute schemes (``learned``, ``sincos``) act only at the model input, so inside the
    attention layer they reduce to the causal mask and hold no parameters here; the model
    (``SequenceTransformer``) owns one instance of the scheme for ``input_embedding``.
    """

    def __init__(
        self,
        dim: int,
        heads: int,
        scheme: str = "rope",
        causal: bool = True,
        dropout: float = 0.0,
        **options: Any,
    ) -> None:
        super().__init__()
        if dim % heads:
            raise ConfigError(f"width {dim} is not divisible by {heads} heads")
        self.heads = heads
        self.scheme_name = scheme
        self.causal = causal
        self.dropout = float(dropout)
        cls = scheme_class(scheme)
        check_scheme_options(scheme, options)
        if cls.absolute:
            cls(dim=dim, heads=heads, causal=causal, **options)  # validate option values
            self.scheme: PositionScheme = NoPositionScheme(dim, heads, causal)
        else:
            self.scheme = cls(dim=dim, heads=heads, causal=causal, **options)
        self.qkv = nn.Linear(dim, 3 * dim, bias=True)
        self.proj = nn.Linear(dim, dim)

    def attention_bias(
        self,
        positions: torch.Tensor,
        q: torch.Tensor | None = None,
        k: torch.Tensor | None = None,
    ) -> torch.Tensor | None:
        """The additive mask this layer hands SDPA (see ``PositionScheme.attention_bias``)."""
        return self.scheme.attention_bias(positions, q, k)

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Attend over ``x`` (B, N, D) with ``positions`` (None, (N,) or (B, N))."""
        b, n, d = x.shape
        pos = as_batch_positions(positions, n, x.device)
        qkv = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k = self.scheme.rotate(qkv[0], qkv[1], pos)
        bias = self.scheme.attention_bias(pos, q, k)
        if bias is not None:
            bias = bias.to(q.dtype)
        p = self.dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, qkv[2], attn_mask=bias, dropout_p=p)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))
