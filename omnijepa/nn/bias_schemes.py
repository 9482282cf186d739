"""Position schemes that act as an additive attention bias: ALiBi (Press et al. 2022), hard
ALiBi (Jelassi et al. 2024), and relative position embeddings on keys (Shaw et al. 2018) and on
keys and queries (Huang et al. 2020). Registered in ``POSITION_SCHEMES`` on import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from omnijepa.errors import ConfigError
from omnijepa.nn.position_schemes import (
    POSITION_SCHEMES,
    PositionScheme,
    allowed_to_bias,
    relative_positions,
)


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
        return allowed_to_bias(allowed)


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
