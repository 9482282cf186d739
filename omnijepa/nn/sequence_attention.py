"""Self-attention over 1-D token sequences with a positional scheme chosen by name.

Schemes are registered by name in ``POSITION_SCHEMES``: ``nope``, ``learned``, ``sincos``,
``rope`` (``position_schemes``), ``alibi``, ``hard_alibi``, ``rpe_k`` and ``rpe_kq``
(``bias_schemes``); importing this module registers all of them.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import nn

from omnijepa.errors import ConfigError
from omnijepa.nn import bias_schemes
from omnijepa.nn.attention_kernel import attention
from omnijepa.nn.bias_schemes import alibi_slopes
from omnijepa.nn.position_schemes import (
    POSITION_SCHEMES,
    SCHEME_BASE_ARGS,
    NoPositionScheme,
    PositionScheme,
    as_batch_positions,
)

__all__ = [
    "POSITION_SCHEMES",
    "PositionScheme",
    "PositionalSelfAttention",
    "alibi_slopes",
    "as_batch_positions",
    "bias_schemes",
    "build_scheme",
    "check_scheme_options",
    "scheme_class",
]


def scheme_class(name: str) -> type[PositionScheme]:
    """The scheme class registered as ``name`` (ConfigError listing valid names otherwise)."""
    return POSITION_SCHEMES.get(name)


def check_scheme_options(name: str, options: dict[str, Any]) -> None:
    """Raise ConfigError if ``options`` holds keys the scheme ``name`` does not accept."""
    params = inspect.signature(scheme_class(name).__init__).parameters
    valid = [p for p in params if p not in SCHEME_BASE_ARGS]
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
        q, k, v = (
            self.qkv(x).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        )
        q, k = self.scheme.rotate(q, k, pos)
        bias = self.scheme.attention_bias(pos, q, k)
        if bias is not None:
            bias = bias.to(q.dtype)
        p = self.dropout if self.training else 0.0
        out = attention(q, k, v, attn_mask=bias, dropout_p=p)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))
