"""Point-cloud masks over ``G`` patch tokens: Point-JEPA runs, 3D-JEPA blocks, random tokens.

Same :class:`MaskBatch` contract as ``multiblock``: ``context`` (B, Nc) and ``targets``
(B, M, Nt) are int64 flat token indices, sorted within each row, equal lengths across the
batch, context disjoint from every target and never empty. Samplers are built as
``Cls(grid, cfg)`` (any grid: its ``G`` cells are read in raster order) and draw with
``sample(batch_size, generator, *, coords=None, progress=None)``, where ``coords`` (B, G, A)
are the token coordinates *in token order*, e.g. patch centres (only ``point_blocks`` needs
them).

* ``sequence_runs`` (Point-JEPA, Saito et al. 2025, "contiguous"): tokens are already in the
  sequencer's order (``omnijepa.modalities.point_cloud.PATCH_ORDERS``), so a target is a run
  ``[s, s + k)`` of token indices and the context a contiguous slice of the remaining ones.
* ``point_blocks`` (3D-JEPA, Hu et al. 2024): a block is a seed patch plus its nearest centres.
* ``random_tokens``: the ablation, spatially unstructured subsets of the same sizes.

Sizes are drawn once per batch (so masks batch without padding), positions per sample. Targets
may overlap each other. If the union of a sample's targets covers every token, that sample's
targets are redrawn (up to ``MAX_TRIES`` times), then stacked onto its first target (at most
``G - 1`` tokens, since ``k <= G - 1``), so sampling always terminates with a non-empty context.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from omnijepa.errors import ConfigError
from omnijepa.masks.config_checks import check_fraction_pair, check_token_grid
from omnijepa.masks.mask_batch import MaskBatch, MaskRequest, SamplerBase

MAX_TRIES = 20


def _check_ratio(owner: str, name: str, value: object) -> tuple[float, float]:
    return check_fraction_pair(f"{owner}.{name}", value)


def _check_targets(owner: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{owner}.num_targets must be an int >= 1, got {value!r}")


@dataclass
class SequenceRunsConfig:
    """Point-JEPA contiguous masks (defaults: the official ModelNet/ShapeNet config).

    ``target_ratio``: fraction of the G tokens in each of the ``num_targets`` runs.
    ``context_ratio``: fraction of the tokens left after the targets that the context keeps.
    ``shared_start``: one start per target for the whole batch (the official code) instead of
    one per sample.
    """

    num_targets: int = 4
    target_ratio: tuple[float, float] = (0.15, 0.2)
    context_ratio: tuple[float, float] = (0.4, 0.75)
    shared_start: bool = False

    def __post_init__(self) -> None:
        _check_targets("SequenceRunsConfig", self.num_targets)
        self.target_ratio = _check_ratio("SequenceRunsConfig", "target_ratio", self.target_ratio)
        self.context_ratio = _check_ratio("SequenceRunsConfig", "context_ratio", self.context_ratio)
        if not isinstance(self.shared_start, bool):
            raise ConfigError(
                f"SequenceRunsConfig.shared_start must be a bool, got {self.shared_start!r}"
            )


@dataclass
class PointBlocksConfig:
    """3D-JEPA multi-block masks: ``num_targets`` blocks of ``target_ratio`` of the G patches
    (seed + nearest centres), context a block of ``context_ratio`` minus the targets."""

    num_targets: int = 4
    target_ratio: tuple[float, float] = (0.15, 0.2)
    context_ratio: tuple[float, float] = (0.85, 1.0)

    def __post_init__(self) -> None:
        _check_targets("PointBlocksConfig", self.num_targets)
        self.target_ratio = _check_ratio("PointBlocksConfig", "target_ratio", self.target_ratio)
        self.context_ratio = _check_ratio("PointBlocksConfig", "context_ratio", self.context_ratio)


@dataclass
class RandomTokensConfig:
    """Unstructured baseline: targets are random k-subsets (``k`` as in ``sequence_runs``),
    the context a random ``context_ratio`` share of the tokens left after the targets."""

    num_targets: int = 4
    target_ratio: tuple[float, float] = (0.15, 0.2)
    context_ratio: tuple[float, float] = (0.4, 0.75)

    def __post_init__(self) -> None:
        _check_targets("RandomTokensConfig", self.num_targets)
        self.target_ratio = _check_ratio("RandomTokensConfig", "target_ratio", self.target_ratio)
        self.context_ratio = _check_ratio("RandomTokensConfig", "context_ratio", self.context_ratio)


# -- shared steps -----------------------------------------------------------------------------
def _num_tokens(grid: object) -> int:
    """G = the number of cells of ``grid`` (a tuple of ints, or an int), G >= 2."""
    return math.prod(check_token_grid(grid))


def _uniform(rng: tuple[float, float], generator: torch.Generator) -> float:
    u = float(torch.rand((), generator=generator, dtype=torch.float64))
    return rng[0] + u * (rng[1] - rng[0])


def _target_size(g: int, ratio: float, rounding: Callable[[float], int]) -> int:
    """Tokens per target, in ``[1, G - 1]`` so one token is always left for the context."""
    return min(max(1, rounding(g * ratio)), g - 1)


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def _covered(targets: torch.Tensor, g: int) -> torch.Tensor:
    """Boolean (B, G): token lies in the union of the sample's targets (B, M, k)."""
    mask = torch.zeros(targets.shape[0], g, dtype=torch.bool)
    mask.scatter_(1, targets.reshape(targets.shape[0], -1), True)
    return mask


def _draw_targets(
    draw: Callable[[torch.Tensor], torch.Tensor], batch_size: int, g: int
) -> torch.Tensor:
    """Targets (B, M, k) from ``draw(rows)``, redrawing rows whose union covers all G tokens.

    After ``MAX_TRIES`` redraws such rows get every target equal to their first one, which
    leaves ``G - k >= 1`` tokens free, so the loop always terminates.
    """
    targets = draw(torch.arange(batch_size))
    for _ in range(MAX_TRIES):
        full = _covered(targets, g).all(dim=1).nonzero().flatten()
        if len(full) == 0:
            return targets
        targets[full] = draw(full)
    full = _covered(targets, g).all(dim=1)
    targets[full] = targets[full][:, :1].expand(-1, targets.shape[1], -1)
    return targets


def _random_subset(allowed: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """Sorted (B, size) uniform random subset of the True entries of ``allowed`` (B, G)."""
    keys = torch.rand(allowed.shape, generator=generator, dtype=torch.float64)
    keys.masked_fill_(~allowed, 2.0)  # above any U[0, 1) key
    return keys.argsort(dim=1)[:, :size].sort(dim=1).values


def _sorted_targets(targets: torch.Tensor) -> torch.Tensor:
    return targets.sort(dim=2).values.long()


# -- samplers ---------------------------------------------------------------------------------
class _PatchSequenceSampler(SamplerBase):
    """Shared construction: G tokens (any grid, read in raster order) and a config of
    ``config_class``."""

    config_class: type = object

    def __init__(self, grid: tuple[int, ...], cfg: object | None = None) -> None:
        self.num_tokens = _num_tokens(grid)
        self.grid = tuple(grid) if isinstance(grid, (tuple, list)) else (self.num_tokens,)
        self.cfg = self.config_class() if cfg is None else cfg
        if not isinstance(self.cfg, self.config_class):
            name = self.config_class.__name__
            raise ConfigError(f"cfg must be a {name}, got {type(self.cfg).__name__}")


class SequenceRunsMaskSampler(_PatchSequenceSampler):
    """Point-JEPA targets: ``M`` runs of ``k = floor(G r)`` consecutive tokens (sequence order).

    The context is a contiguous slice of the remaining indices (ascending, i.e. sequence order
    with the targets cut out) of length ``floor(r_c * n)``, ``n`` the batch minimum of the
    remaining count, starting uniformly per sample. ``coords`` are ignored.
    """

    config_class = SequenceRunsConfig

    def draw(self, request: MaskRequest) -> MaskBatch:
        """Draw masks for ``batch_size`` rows using only ``generator`` for randomness."""
        batch_size, generator = request.batch_size, request.generator
        b, g, m = batch_size, self.num_tokens, self.cfg.num_targets
        k = _target_size(g, _uniform(self.cfg.target_ratio, generator), math.floor)
        r_c = _uniform(self.cfg.context_ratio, generator)
        offsets = torch.arange(k)

        def draw(rows: torch.Tensor) -> torch.Tensor:
            n = 1 if self.cfg.shared_start else len(rows)
            starts = torch.randint(g - k + 1, (n, m), generator=generator)
            return (starts[:, :, None] + offsets).expand(len(rows), -1, -1).clone()

        targets = _draw_targets(draw, b, g)
        free = ~_covered(targets, g)
        counts = free.sum(dim=1)
        length = max(1, math.floor(r_c * int(counts.min())))
        # Remaining indices first, ascending (stable sort on "is covered").
        remaining = torch.sort((~free).to(torch.uint8), dim=1, stable=True).indices
        u = torch.rand(b, generator=generator, dtype=torch.float64)
        start = (u * (counts - length + 1).to(torch.float64)).floor().long()
        context = torch.gather(remaining, 1, start[:, None] + torch.arange(length))
        return MaskBatch(context=context.long(), targets=_sorted_targets(targets))


class PointBlocksMaskSampler(_PatchSequenceSampler):
    """3D-JEPA targets: ``M`` blocks of ``k = round(G r)`` patches, a random seed plus its
    ``k - 1`` nearest centres (squared Euclidean distance on ``coords``).

    The context is the ``round(G r_c)``-block around another seed minus the targets' union, or
    the whole complement of the union when that leaves nothing; contexts are then cut to the
    batch minimum by a random subset (no spatial bias).
    """

    config_class = PointBlocksConfig
    needs_coords = True

    def draw(self, request: MaskRequest) -> MaskBatch:
        """Draw masks for ``batch_size`` samples whose token coordinates are ``coords``
        ((B, G, A) per sample, e.g. patch centres in token order, or (G, A) shared)."""
        batch_size, generator, coords = request.batch_size, request.generator, request.coords
        b, g, m = batch_size, self.num_tokens, self.cfg.num_targets
        if coords is None:
            raise ValueError(
                "point_blocks masks need the token coordinates: call sample(batch_size, "
                "generator, coords=...) with (B, G, A) or (G, A) coordinates in token order"
            )
        if coords.dim() == 2:
            coords = coords.expand(b, *coords.shape)
        if coords.dim() != 3 or tuple(coords.shape[:2]) != (b, g):
            raise ValueError(f"coords must have shape ({b}, {g}, A), got {tuple(coords.shape)}")
        c = coords.detach().to("cpu", torch.float64)
        dist = (c[:, :, None, :] - c[:, None, :, :]).pow(2).sum(-1)
        dist.diagonal(dim1=1, dim2=2).fill_(-1.0)  # a seed is always first in its own block
        k = _target_size(g, _uniform(self.cfg.target_ratio, generator), _round_half_up)
        k_c = min(max(1, _round_half_up(g * _uniform(self.cfg.context_ratio, generator))), g)

        def blocks(rows: torch.Tensor, n: int, size: int) -> torch.Tensor:
            seeds = torch.randint(g, (len(rows), n), generator=generator)
            near = dist[rows[:, None], seeds]  # (rows, n, G): distances from each seed
            return near.topk(size, dim=2, largest=False, sorted=True).indices

        targets = _draw_targets(lambda rows: blocks(rows, m, k), b, g)
        free = ~_covered(targets, g)
        context = torch.zeros(b, g, dtype=torch.bool)
        context.scatter_(1, blocks(torch.arange(b), 1, k_c)[:, 0], True)
        context &= free
        empty = ~context.any(dim=1)
        context[empty] = free[empty]
        keep = int(context.sum(dim=1).min())
        ctx = _random_subset(context, keep, generator)
        return MaskBatch(context=ctx.long(), targets=_sorted_targets(targets))


class RandomTokensMaskSampler(_PatchSequenceSampler):
    """Ablation: targets are uniform random k-subsets (``k = floor(G r)``), the context a
    uniform random ``floor(r_c * n)``-subset of the rest (``n`` the batch minimum left over).
    ``coords`` are ignored."""

    config_class = RandomTokensConfig

    def draw(self, request: MaskRequest) -> MaskBatch:
        """Draw masks for ``batch_size`` rows using only ``generator`` for randomness."""
        batch_size, generator = request.batch_size, request.generator
        b, g, m = batch_size, self.num_tokens, self.cfg.num_targets
        k = _target_size(g, _uniform(self.cfg.target_ratio, generator), math.floor)
        r_c = _uniform(self.cfg.context_ratio, generator)

        def draw(rows: torch.Tensor) -> torch.Tensor:
            return torch.rand(len(rows), m, g, generator=generator).argsort(dim=2)[:, :, :k]

        targets = _draw_targets(draw, b, g)
        free = ~_covered(targets, g)
        length = max(1, math.floor(r_c * int(free.sum(dim=1).min())))
        context = _random_subset(free, length, generator)
        return MaskBatch(context=context.long(), targets=_sorted_targets(targets))
