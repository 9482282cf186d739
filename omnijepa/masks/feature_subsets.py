"""T-JEPA feature-subset masks: context and targets are random subsets of the table's columns.

Follows ``src/mask.py`` of jose-melo/t-jepa (Thimonier et al., ICLR 2025), with the fixes noted:

* **Sizes, per batch.** Share ranges become column counts ``round(F * share)`` (half up),
  clamped to ``[1, F - 1]`` (the official code asserts instead). One context size ``k_c`` and
  one target size ``k_t`` are drawn per batch, so masks batch without padding; the pair is
  uniform over the feasible pairs (``k_c + k_t <= F``, or ``k_c + M * k_t <= F`` with
  ``disjoint_targets``), which is what the official rejection loop converges to, drawn with one
  number so it always terminates. (The official code draws each count as
  ``lo + round((hi - lo) * U)``, giving the end points half weight; here counts are uniform.)
* **Subsets, per sample.** The context is a uniform random ``k_c``-subset of the columns; each
  of the ``num_targets`` targets is a uniform ``k_t``-subset of the remaining columns, drawn
  independently, so targets may overlap each other but never the context (as the official
  code does). ``disjoint_targets=True`` also makes the targets mutually disjoint;
  ``allow_overlap=True`` draws targets from all columns (the official flag of that name is
  parsed but unused: its masks are always context/target disjoint).
* **Randomness.** Everything comes from the passed ``torch.Generator`` (the official
  ``create_masks`` uses the unseeded global NumPy RNG).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from omnijepa.errors import ConfigError
from omnijepa.masks.config_checks import check_fraction_pair, check_token_grid
from omnijepa.masks.mask_batch import MaskBatch, MaskRequest, SamplerBase

__all__ = ["FeatureSubsetConfig", "FeatureSubsetMaskSampler"]


def _check_share(name: str, value: object) -> tuple[float, float]:
    return check_fraction_pair(f"mask.{name}", value)


@dataclass
class FeatureSubsetConfig:
    """Feature-subset mask hyper-parameters (defaults: the official ``src/configs.py``).

    ``context_share`` / ``target_share``: ``(min, max)`` fraction of the columns in the context
    and in each target (official ``mask_{min,max}_{ctx,trgt}_share``, default 0.2-0.4; the
    paper's tuned jannis values are context 0.136-0.368, target 0.156-0.622).
    ``num_targets``: targets per sample (official ``mask_num_preds``, 4).
    ``allow_overlap``: targets may share columns with the context (default False: disjoint).
    ``disjoint_targets``: targets may not share columns with each other (default False).
    """

    context_share: tuple[float, float] = (0.2, 0.4)
    target_share: tuple[float, float] = (0.2, 0.4)
    num_targets: int = 4
    allow_overlap: bool = False
    disjoint_targets: bool = False

    def __post_init__(self) -> None:
        self.context_share = _check_share("context_share", self.context_share)
        self.target_share = _check_share("target_share", self.target_share)
        m = self.num_targets
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ConfigError(f"mask.num_targets must be an int >= 1, got {m!r}")
        for name in ("allow_overlap", "disjoint_targets"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"mask.{name} must be a bool, got {getattr(self, name)!r}")


def _counts(f: int, share: tuple[float, float]) -> tuple[int, int]:
    """Share range -> column-count range, rounded half up and clamped to [1, f - 1]."""
    lo, hi = (min(max(1, math.floor(f * s + 0.5)), f - 1) for s in share)
    return lo, hi


class FeatureSubsetMaskSampler(SamplerBase):
    """Draws T-JEPA context/target column subsets on ``grid`` (``(F,)``, ``F >= 2``).

    ``context_range`` / ``target_range`` are the ``(min, max)`` column counts actually used.
    ``coords`` and ``progress`` are accepted (the sampler contract) and unused.
    """

    def __init__(self, grid: tuple[int, ...], cfg: FeatureSubsetConfig | None = None) -> None:
        self.grid = check_token_grid(grid, "feature subsets")
        self.num_features = f = math.prod(self.grid)
        self.cfg = FeatureSubsetConfig() if cfg is None else cfg
        if not isinstance(self.cfg, FeatureSubsetConfig):
            raise ConfigError(f"cfg must be a FeatureSubsetConfig, got {type(self.cfg).__name__}")
        self.context_range = _counts(f, self.cfg.context_share)
        self.target_range = _counts(f, self.cfg.target_share)
        m = self.cfg.num_targets if self.cfg.disjoint_targets else 1
        self._pairs = [
            (kc, kt)
            for kc in range(self.context_range[0], self.context_range[1] + 1)
            for kt in range(self.target_range[0], self.target_range[1] + 1)
            if (self.cfg.allow_overlap and m == 1) or kc + m * kt <= f
        ]
        if not self._pairs:
            raise ConfigError(
                f"mask.context_share/target_share: no context of "
                f"{self.context_range} and {m} disjoint target(s) of {self.target_range} "
                f"columns fit in {f} features"
            )

    def draw(self, request: MaskRequest) -> MaskBatch:
        """Column subsets for ``batch_size`` rows (``coords``/``progress`` unused)."""
        batch_size, generator = request.batch_size, request.generator
        cfg, f, b, m = self.cfg, self.num_features, batch_size, self.cfg.num_targets
        u = float(torch.rand((), generator=generator, dtype=torch.float64))
        kc, kt = self._pairs[min(int(u * len(self._pairs)), len(self._pairs) - 1)]
        perm = torch.rand(b, f, generator=generator).argsort(dim=1)
        context = perm[:, :kc].sort(dim=1).values
        if cfg.disjoint_targets:
            if cfg.allow_overlap:  # a fresh order: targets independent of the context
                pool = torch.rand(b, f, generator=generator).argsort(dim=1)
            else:
                pool = perm[:, kc:]
            targets = pool[:, : m * kt].reshape(b, m, kt)
        else:
            keys = torch.rand(b, m, f, generator=generator)
            if not cfg.allow_overlap:
                ctx_mask = torch.zeros(b, f, dtype=torch.bool)
                ctx_mask.scatter_(1, context, True)
                keys.masked_fill_(ctx_mask[:, None, :], 2.0)  # above any U[0, 1) key
            targets = keys.argsort(dim=2)[:, :, :kt]
        return MaskBatch(context=context.long(), targets=targets.sort(dim=2).values.long())
