"""Optional anti-collapse terms for latent prediction (composable with any objective).

A faster teacher lets the student leave its random init but also lets both drift to a
constant. Two well-studied guards, applied to per-sample embeddings (tokens mean-pooled, or
every token with ``pool=tokens``) of the context encoder or of the predictor:

- ``vc``: VICReg's variance hinge ``mean_d relu(1 − std_d)`` plus its covariance term
  ``Σ_{i≠j} C_ij² / D`` (C-JEPA adds these to I-JEPA);
- ``sigreg``: LeJEPA's sliced Epps-Pulley test towards N(0, I) (ijepa_lite's I-JEPA + SIGReg);
- ``vicreg``: ``vc`` with the covariance term weighted 1/25, VICReg's 25 : 25 : 1 beside an
  MSE prediction loss (TI-JEPA-Large's loss, with ``loss=l2`` and ``on=prediction``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from omnijepa.nn.projector import Projector
from omnijepa.nn.tokens import mean_over_tokens
from omnijepa.objectives.sigreg import SIGReg
from omnijepa.objectives.vicreg import vc_terms
from omnijepa.registry import Registry


@dataclass
class AntiCollapseConfig:
    """``anti_collapse.*`` keys; ``kind=none`` (default where the paper has none) is off."""

    kind: str = "none"  # none | vc | sigreg | vicreg
    weight: float = 1.0
    on: Literal["context", "prediction"] = "context"
    pool: Literal["mean", "tokens"] = "mean"  # per-sample mean of tokens, or every token
    # the std every dimension is held above (vc / vicreg); VICReg's 1 is far above the std of
    # pooled features at random init (about 0.05), so the hinge drives the encoder from step
    # 0; a floor near the init std only stops a collapse
    std_floor: float = 1.0
    # C-JEPA's invariance: weight of the mean squared distance between the per-sample mean of
    # the context tokens and the mean of every token of a second view of the sample (another
    # augmentation where the recipe has one, else the same input); needs on=context
    invariance: float = 0.0
    # which tokens of the second view are encoded: ``all``, or ``context``: the first view's
    # context indices applied to the second view (a second context, as a second crop; the
    # hidden tokens are not computed where the tokenizer allows, so a step costs less)
    invariance_view: Literal["all", "context"] = "all"
    # the second view as a fixed target (no gradient through it, as BYOL / SimSiam; the
    # anti-collapse term then acts on the context only): one backward pass fewer per step
    invariance_stop_grad: bool = False
    # which encoder reads the second view: ``online`` (C-JEPA: the context encoder, with a
    # gradient unless ``invariance_stop_grad``), or ``teacher``: the EMA target encoder, no
    # gradient (BYOL's and DINO's asymmetry), so the term pulls the context towards what the
    # teacher makes of another view and a frozen random teacher gives it a random target
    invariance_target: Literal["online", "teacher"] = "online"
    # width of a projector (Linear-BN-GELU x2, then Linear) between the pooled rows and the
    # term, as VICReg's expander; 0 = the term on the rows themselves. With it the std floor
    # is met by the projector's scale, not by rescaling the encoder
    projector: int = 0
    # control: the encoder learns from this term alone (the predictor still trains, on
    # detached context, so its loss stays logged); does latent prediction add anything?
    alone: bool = False

    def __post_init__(self) -> None:
        if self.projector < 0:
            raise ValueError(f"anti_collapse.projector must be >= 0, got {self.projector}")
        if self.std_floor <= 0:
            raise ValueError(f"anti_collapse.std_floor must be > 0, got {self.std_floor}")
        if self.weight < 0 or self.invariance < 0:
            raise ValueError(
                f"anti_collapse.weight and .invariance must be >= 0, got {self.weight}, "
                f"{self.invariance}"
            )
        if self.invariance > 0 and (self.kind == "none" or self.on != "context"):
            raise ValueError(
                "anti_collapse.invariance needs a variance-covariance term on the context "
                "(kind vc|sigreg|vicreg, on=context): invariance alone collapses"
            )
        if self.alone and (self.kind == "none" or self.weight == 0 or self.on != "context"):
            raise ValueError(
                "anti_collapse.alone needs a term on the context (kind vc|sigreg|vicreg, "
                "weight > 0, on=context): it trains the encoder with that term only"
            )

    @property
    def views(self) -> int:
        """Views of each sample the collator must prepare: 2 for the invariance term."""
        return 2 if self.invariance > 0 else 1


def variance_covariance(x: torch.Tensor, eps: float = 1e-4, floor: float = 1.0) -> torch.Tensor:
    """VICReg variance hinge (at std ``floor``) + covariance penalty of ``x`` (N, D)."""
    hinge, cov = vc_terms(x, eps, floor)
    return hinge + cov


class _SIGRegPenalty(nn.Module):
    def __init__(self, cfg: AntiCollapseConfig) -> None:
        super().__init__()
        self.sigreg = SIGReg(num_slices=256)

    def forward(self, x: torch.Tensor, step: int) -> torch.Tensor:
        return self.sigreg(x.float(), step)


class _VCPenalty(nn.Module):
    def __init__(self, cfg: AntiCollapseConfig) -> None:
        super().__init__()
        self.floor = cfg.std_floor

    def forward(self, x: torch.Tensor, step: int) -> torch.Tensor:
        return variance_covariance(x, floor=self.floor)


class _VICRegTermsPenalty(nn.Module):
    """VICReg's variance and covariance terms at its 25 : 1 weights, scaled so that they sit
    beside an MSE (``l2``) prediction loss of weight 1: TI-JEPA-Large's 25 MSE + 25 variance
    + 1 covariance, divided by 25."""

    def __init__(self, cfg: AntiCollapseConfig) -> None:
        super().__init__()
        self.floor = cfg.std_floor

    def forward(self, x: torch.Tensor, step: int) -> torch.Tensor:
        hinge, cov = vc_terms(x, floor=self.floor)
        return hinge + cov / 25.0


PENALTIES: Registry[Callable[[AntiCollapseConfig], nn.Module]] = Registry("anti-collapse term")
PENALTIES.add("vc", _VCPenalty)
PENALTIES.add("vicreg", _VICRegTermsPenalty)
PENALTIES.add("sigreg", _SIGRegPenalty)


class CollapsePenalty(nn.Module):
    """Pools the chosen tensor to per-sample rows, projects them (``projector`` > 0) and
    scores them with the chosen term."""

    def __init__(self, cfg: AntiCollapseConfig, dim: int) -> None:
        super().__init__()
        self.cfg = cfg
        self.term = PENALTIES.get(cfg.kind)(cfg)
        width = cfg.projector
        self.projector = Projector(dim, width, width) if width else None

    def forward(
        self, tokens: torch.Tensor, step: int, padding: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``tokens`` (..., N, D): context (B, Nc, D) or predictions (B, M, Nt, D); tokens
        where ``padding`` (..., N) is True are left out of the pooling."""
        d = tokens.shape[-1]
        if self.cfg.pool == "mean":
            rows = mean_over_tokens(tokens, padding).reshape(-1, d)
        else:
            rows = tokens.reshape(-1, d) if padding is None else tokens[~padding]
        if self.projector is not None:
            rows = self.projector(rows)
        return self.term(rows, step)


def build_penalty(cfg: AntiCollapseConfig | None, dim: int) -> CollapsePenalty | None:
    """None when off (``kind=none`` or weight 0), else the configured term on ``dim``-wide
    embeddings."""
    if cfg is None or cfg.kind == "none" or cfg.weight == 0:
        return None
    return CollapsePenalty(cfg, dim)
