"""Positional encodings computed from token coordinates (any number of axes).

Coordinates are ``(N, A)`` (shared by the batch) or ``(B, N, A)``; an encoding maps them to
``(…, N, D)``. Each encoding is built from the tokenizer's declared axes (``nn.tokens.Axis``):
fixed N-d sin-cos (I-JEPA's 2-D sincos generalised), learned per-axis tables (grid axes only;
a coordinate outside its table raises instead of being clamped), an MLP of any arity
(Point-MAE / Point-JEPA centres; (x, y, z, t) for EEG), or none.
``CachedPositions`` keeps a parameter-free encoding of batch-shared coordinates, so a
fixed table is not recomputed every forward.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from omnijepa.errors import ConfigError
from omnijepa.nn.tokens import Axis
from omnijepa.registry import Registry

POSITIONAL_ENCODINGS: Registry[type[nn.Module]] = Registry("positional encoding")


def sincos_embedding(coords: torch.Tensor, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """Concatenate a 1-D sin-cos embedding per coordinate axis; pad with zeros to ``dim``.

    Each axis gets an equal, even share of the channels (half sin, half cos) with frequencies
    ``1 / temperature^(k / share)`` as in the ViT/MAE/I-JEPA 2-D tables.
    """
    axes = coords.shape[-1]
    share = (dim // (2 * axes)) * 2
    if share == 0:
        raise ValueError(f"embedding dim {dim} too small for {axes} coordinate axes")
    half = share // 2
    omega = 1.0 / temperature ** (torch.arange(half, dtype=torch.float64) / half)
    parts = []
    for a in range(axes):
        angles = coords[..., a].to(torch.float64)[..., None] * omega.to(coords.device)
        parts.extend([torch.sin(angles), torch.cos(angles)])
    emb = torch.cat(parts, dim=-1)
    pad = dim - emb.shape[-1]
    if pad:
        emb = torch.nn.functional.pad(emb, (0, pad))
    return emb.to(torch.float32)


@POSITIONAL_ENCODINGS.register("sincos")
class SinCosPositional(nn.Module):
    """Fixed sin-cos encoding of (float) coordinates; no parameters."""

    def __init__(self, dim: int, axes: tuple[Axis, ...] = ()) -> None:
        super().__init__()
        self.dim = dim
        if axes and dim // (2 * len(axes)) == 0:
            raise ConfigError(f"sincos positions: width {dim} is too small for {len(axes)} axes")

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        return sincos_embedding(coords, self.dim)


@POSITIONAL_ENCODINGS.register("none")
class NoPositional(nn.Module):
    """No additive encoding (for backbones with their own positional scheme, or NoPE)."""

    def __init__(self, dim: int, axes: tuple[Axis, ...] = ()) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        return coords.new_zeros((*coords.shape[:-1], self.dim), dtype=torch.float32)


@POSITIONAL_ENCODINGS.register("learned")
class LearnedAxisPositional(nn.Module):
    """Learned table per axis, summed; coordinates must be integers in ``[0, axis size)``.

    Only grid axes have a table size; a coordinate outside its table is an error (checked
    without a host sync, so it raises on the CPU at once and on CUDA at the next sync)."""

    def __init__(self, dim: int, axes: tuple[Axis, ...] = ()) -> None:
        super().__init__()
        if not axes:
            raise ConfigError("learned positions need the tokenizer's coordinate axes")
        bad = [a.name for a in axes if a.kind != "grid"]
        if bad:
            raise ConfigError(
                f"learned positions need grid axes with a size; {bad} are not (use pos=sincos "
                "or pos=mlp for continuous coordinates)"
            )
        self.names = tuple(a.name for a in axes)
        self.tables = nn.ParameterList([nn.Parameter(torch.zeros(a.size, dim)) for a in axes])
        for table in self.tables:
            nn.init.trunc_normal_(table, std=0.02)

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        if coords.shape[-1] != len(self.tables):
            raise ValueError(f"expected {len(self.tables)} coordinate axes, got {coords.shape}")
        idx = coords.round().long()
        out = 0
        for a, table in enumerate(self.tables):
            col = idx[..., a]
            inside = ((col >= 0) & (col < table.shape[0])).all()
            torch._assert_async(
                inside,
                f"learned positions: a {self.names[a]!r} coordinate lies outside [0, "
                f"{table.shape[0]}) (the table size set at construction)",
            )
            out = out + table[col.clamp(0, table.shape[0] - 1)]
        return out


@POSITIONAL_ENCODINGS.register("mlp")
class PositionalMLP(nn.Module):
    """Learned MLP of continuous coordinates (Point-MAE/Point-JEPA centres): Linear-GELU-Linear.

    For coordinates that are neither on a grid nor shared by the batch, e.g. patch centres.
    """

    def __init__(self, dim: int, axes: tuple[Axis, ...] = (), hidden: int = 128) -> None:
        super().__init__()
        if not axes:
            raise ConfigError("pos=mlp needs the tokenizer's coordinate axes")
        self.dim, self.axes = dim, len(axes)
        self.net = nn.Sequential(nn.Linear(self.axes, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        if coords.shape[-1] != self.axes:
            raise ValueError(f"expected coordinates with {self.axes} axes, got {coords.shape}")
        return self.net(coords.to(self.net[0].weight.dtype))


@POSITIONAL_ENCODINGS.register("linear_sincos")
class LinearSinCosPositional(nn.Module):
    """The continuous axes through a learned linear map into half the width, beside a fixed
    sin-cos of the other axes (time, grid) in the other half: for units whose position is a
    learned-about vector (brain regions at their connectivity gradients) that also have a
    time index. Feed the continuous coordinates pre-scaled (e.g. into [-1, 1]). With only one
    kind of axis, that part takes the whole width."""

    def __init__(self, dim: int, axes: tuple[Axis, ...] = ()) -> None:
        super().__init__()
        if not axes:
            raise ConfigError("pos=linear_sincos needs the tokenizer's coordinate axes")
        self.cont = [i for i, a in enumerate(axes) if a.kind == "continuous"]
        self.rest = [i for i, a in enumerate(axes) if a.kind != "continuous"]
        mapped = 0 if not self.cont else dim if not self.rest else dim // 2
        self.fixed = dim - mapped
        if self.rest and self.fixed // (2 * len(self.rest)) == 0:
            raise ConfigError(f"pos=linear_sincos: width {dim} is too small for {len(axes)} axes")
        self.linear = nn.Linear(len(self.cont), mapped) if mapped else None

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        parts = []
        if self.rest:
            parts.append(sincos_embedding(coords[..., self.rest], self.fixed))
        if self.linear is not None:
            parts.append(self.linear(coords[..., self.cont].to(self.linear.weight.dtype)))
        return torch.cat([p.to(parts[-1].dtype) for p in parts], dim=-1)


def build_positional(name: str, dim: int, axes: tuple[Axis, ...]) -> nn.Module:
    """Create the positional encoding registered as ``name`` for coordinates on ``axes``."""
    return POSITIONAL_ENCODINGS.get(name)(dim, tuple(axes))


class CachedPositions:
    """Calls a positional encoding; remembers its output for batch-shared ``(N, A)`` coords.

    Only parameter-free encodings are cached (a learned table changes every step). The cache
    holds the coordinate tensor itself and is hit only when the *same* tensor comes back
    (tokenizers with shared coordinates return one cached tensor per sample shape and device),
    so a stale entry is never returned for other coordinates. A plain object, not a module:
    the wrapped encoding keeps its place (and its keys) in the owner's state dict.
    """

    def __init__(self, pos: nn.Module) -> None:
        self.pos = pos
        self.fixed = not any(True for _ in pos.parameters())
        self._key: torch.Tensor | None = None
        self._value: torch.Tensor | None = None

    def __call__(self, coords: torch.Tensor) -> torch.Tensor:
        if not self.fixed or coords.dim() != 2:
            return self.pos(coords)
        if self._key is not coords:
            self._key, self._value = coords, self.pos(coords)
        return self._value


def batch_positions(
    pos: nn.Module, coords: torch.Tensor, batch: int, like: torch.Tensor
) -> torch.Tensor:
    """Encode ``coords`` ((N, A) shared or (B, N, A) per sample) as (B, N, D) like ``like``."""
    enc = pos(coords.to(like.device)).to(like.dtype)
    return enc.unsqueeze(0).expand(batch, -1, -1) if enc.dim() == 2 else enc


def gather_tokens(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Pick tokens ``idx`` (B, K) along dim 1 of ``x`` (B, N, ...) -> (B, K, ...): token
    features (B, N, D), or a tokenizer's per-token input (B, N, points, 3)."""
    index = idx.reshape(*idx.shape, *([1] * (x.dim() - 2))).expand(-1, -1, *x.shape[2:])
    return torch.gather(x, 1, index)


def init_weights(module: nn.Module) -> None:
    """ViT-style init: truncated normal(0.02) for Linear, unit/zero LayerNorm."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm) and module.elementwise_affine:
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def rescale_residual_projections(blocks: nn.ModuleList) -> None:
    """Divide each block's residual output projections by sqrt(2 * layer_id) (I-JEPA init)."""
    for layer_id, block in enumerate(blocks, start=1):
        scale = math.sqrt(2.0 * layer_id)
        block.attn.proj.weight.data.div_(scale)
        block.mlp.fc2.weight.data.div_(scale)
