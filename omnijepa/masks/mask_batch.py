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

import numpy as np
import torch

from omnijepa.errors import ConfigError

__all__ = [
    "MaskBatch",
    "MaskRequest",
    "MaskSampler",
    "SamplerBase",
    "check_coords_available",
    "equal_length_rows",
]


@dataclass
class MaskBatch:
    """Flat grid indices for a batch: ``context`` (B, Nc) and ``targets`` (B, M, Nt), int64.

    Indices are sorted ascending within each row; lengths are equal across the batch.
    """

    context: torch.Tensor
    targets: torch.Tensor


@dataclass
class MaskRequest:
    """One validated ``sample`` call, as a sampler's ``draw`` receives it."""

    batch_size: int
    generator: torch.Generator
    coords: torch.Tensor | None
    progress: float | None


class SamplerBase:
    """Implements :meth:`sample` for a sampler class: validates the call, then ``draw``s.

    Subclasses set ``grid`` in ``__init__`` and implement ``draw(request) -> MaskBatch``.
    """

    grid: tuple[int, ...]
    needs_coords = False

    def sample(
        self,
        batch_size: int,
        generator: torch.Generator,
        *,
        coords: torch.Tensor | None = None,
        progress: float | None = None,
    ) -> MaskBatch:
        """Draw masks for ``batch_size`` samples using only ``generator`` for randomness."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        if progress is not None and not 0.0 <= float(progress) <= 1.0:
            raise ValueError(f"progress must be in [0, 1] or None, got {progress!r}")
        return self.draw(MaskRequest(batch_size, generator, coords, progress))

    def draw(self, request: MaskRequest) -> MaskBatch:
        raise NotImplementedError


MaskSampler = SamplerBase  # what recipes and collators type against


def check_coords_available(sampler: MaskSampler, has_coords: bool, where: str) -> None:
    """ConfigError naming the sampler and the data when a sampler needs coordinates that
    ``where`` (e.g. "the ijepa recipe's image batches") does not give."""
    if getattr(sampler, "needs_coords", False) and not has_coords:
        raise ConfigError(
            f"mask sampler {type(sampler).__name__} needs token coordinates, which {where} "
            "does not provide"
        )


def equal_length_rows(chosen: np.ndarray, generator: torch.Generator) -> np.ndarray:
    """Sorted indices of the True cells of each row of ``chosen`` (B, N), every row cut to the
    batch's shortest by a uniformly random subset, so the rows batch as one (B, K) array."""
    counts = chosen.sum(1)
    keep = int(counts.min())
    b, n_cells = chosen.shape
    if int(counts.max()) == keep:
        return np.nonzero(chosen)[1].reshape(b, keep)
    keys = torch.rand((b, n_cells), generator=generator, dtype=torch.float64).numpy()
    keys[~chosen] = 2.0
    return np.sort(np.argpartition(keys, keep - 1, axis=1)[:, :keep], axis=1)
