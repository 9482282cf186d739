"""The tokenizer contract: a batch becomes tokens, their coordinates and a padding mask.

Every modality plugs into the encoder through a :class:`Tokenizer`. It declares

- ``dim``: the token width;
- ``axes``: one :class:`Axis` per coordinate column (name and kind: ``grid`` integer index with a
  size, ``continuous`` real-valued position, ``time`` in steps), from which positional encodings
  are built (``nn.positional``), never from the modality's name;
- ``shared_coords``: True when coordinates depend only on the sample shape (image patches,
  table columns) so they are ``(N, A)`` for the whole batch and can be cached; False when they
  come from the data (``(B, N, A)``: point-cloud centres, electrode positions);
- ``per_token_input`` (default False): True when dim 1 of ``x`` holds one slice per token and
  token i reads only ``x[:, i]`` (point-cloud patches), so an encoder asked for a subset of
  tokens tokenizes only those;

and maps a batch ``x`` to ``forward(x)`` tokens ``(B, N, dim)``, ``coords(x)`` and
``padding(x)``, a ``(B, N)`` bool mask that is True where a token is padding (variable-length
batches: clips of different lengths, recordings with different channel sets), or ``None``
when every token is real. Padded tokens are never attended to, never predicted, never pooled.

Concrete tokenizers live in ``modalities/`` and register in :data:`TOKENIZERS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from omnijepa.errors import ConfigError
from omnijepa.registry import Registry

__all__ = [
    "AXIS_KINDS",
    "TOKENIZERS",
    "Axis",
    "Tokenizer",
    "grid_axes",
    "mean_over_tokens",
    "raster_coords",
]

AXIS_KINDS = ("grid", "continuous", "time")


@dataclass(frozen=True)
class Axis:
    """One coordinate column: ``grid`` (integer cell in ``[0, size)``), ``continuous`` or
    ``time`` (a real-valued position; ``size`` optional, an upper bound when known)."""

    name: str
    kind: str = "grid"
    size: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in AXIS_KINDS:
            raise ConfigError(
                f"axis {self.name!r}: kind must be one of {AXIS_KINDS}, got {self.kind!r}"
            )
        if self.kind == "grid" and (
            isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 1
        ):
            raise ConfigError(f"grid axis {self.name!r} needs an int size >= 1, got {self.size!r}")


def grid_axes(names: tuple[str, ...], sizes: tuple[int, ...]) -> tuple[Axis, ...]:
    """``grid`` axes named ``names`` with ``sizes`` (e.g. ("row", "col"), (8, 8))."""
    return tuple(Axis(n, "grid", int(s)) for n, s in zip(names, sizes, strict=True))


class Tokenizer(nn.Module):
    """Base class of every tokenizer (see the module docstring for the contract)."""

    dim: int
    axes: tuple[Axis, ...]
    shared_coords: bool = True
    # True when dim 1 of the input holds one slice per token and token i reads only x[:, i]
    # (point-cloud patches): the encoder then tokenizes only the kept tokens
    per_token_input: bool = False

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """Token coordinates of batch ``x``: ``(N, A)`` if ``shared_coords``, else ``(B, N, A)``."""
        raise NotImplementedError

    def padding(self, x: torch.Tensor) -> torch.Tensor | None:
        """``(B, N)`` bool, True at padded tokens; ``None`` when no token is padding."""
        return None


TOKENIZERS: Registry[type[Tokenizer]] = Registry("tokenizer")


def mean_over_tokens(z: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of ``z`` (..., N, D) over its real tokens (``padding`` (..., N), True = pad)."""
    if padding is None:
        return z.mean(dim=-2)
    keep = (~padding).unsqueeze(-1).to(z.dtype)
    return (z * keep).sum(-2) / keep.sum(-2).clamp_min(1.0)


def raster_coords(rows: int, cols: int) -> torch.Tensor:
    """(rows * cols, 2) float (row, col) of every cell of a grid, in raster order: the
    coordinates of tokens cut from an image-like grid (patches, feature-map cells)."""
    r, c = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")
    return torch.stack([r.reshape(-1), c.reshape(-1)], dim=-1).float()
