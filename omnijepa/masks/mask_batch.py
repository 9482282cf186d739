"""The mask-sampler contract every sampler keeps and every recipe relies on.

A sampler is built on a token ``grid`` (its shape; ``prod(grid)`` tokens in raster order) and
draws, for a batch, which tokens are context and which are targets:

``sample(batch_size, generator, *, coords=None, progress=None) -> MaskBatch``

- all randomness comes from ``generator`` (seeded from (seed, step) by the collator, so
  DataLoader workers and resumed runs draw identical masks);
- ``coords`` are the tokens' coordinates, ``(N, A)`` shared or ``(B, N, A)`` per sample, of
  any arity A; samplers with ``needs_coords = True`` (spatial blocks) require them, the others
  ignore them;
- ``progress`` is training progress ``step / steps`` in ``[0, 1]`` (or None) for curricula.

Context and targets are disjoint, never empty, int64, sorted within each row and of equal
length across the batch (so masks batch without padding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from omnijepa.errors import ConfigError

__all__ = ["MaskBatch", "MaskSampler", "check_coords_available"]


@dataclass
class MaskBatch:
    """Flat grid indices for a batch: ``context`` (B, Nc) and ``targets`` (B, M, Nt), int64.

    Indices are sorted ascending within each row; lengths are equal across the batch.
    """

    context: torch.Tensor
    targets: torch.Tensor


class MaskSampler(Protocol):
    """Anything that draws a :class:`MaskBatch` from an explicit generator."""

    grid: tuple[int, ...]
    needs_coords: bool

    def sample(
        self,
        batch_size: int,
        generator: torch.Generator,
        *,
        coords: torch.Tensor | None = None,
        progress: float | None = None,
    ) -> MaskBatch: ...


def check_coords_available(sampler: MaskSampler, has_coords: bool, where: str) -> None:
    """ConfigError naming the sampler and the data when a sampler needs coordinates that
    ``where`` (e.g. "the ijepa recipe's image batches") does not give."""
    if getattr(sampler, "needs_coords", False) and not has_coords:
        raise ConfigError(
            f"mask sampler {type(sampler).__name__} needs token coordinates, which {where} "
            "does not provide"
        )
