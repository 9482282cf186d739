"""VICReg's three terms (Bardes, Ponce, LeCun 2022), kept separate so that other objectives
can weight them: invariance (MSE between two views), a variance hinge that keeps every
dimension's std above 1, and a covariance penalty that decorrelates dimensions."""

from __future__ import annotations

from dataclasses import dataclass

import torch


def variance_hinge(x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """``mean_d relu(1 - std_d)`` over rows of ``x`` (N, D)."""
    std = torch.sqrt(x.float().var(dim=0) + eps)
    return torch.relu(1.0 - std).mean()


def covariance_penalty(x: torch.Tensor) -> torch.Tensor:
    """Sum of squared off-diagonal covariances of ``x`` (N, D), divided by D."""
    x = x.float()
    x = x - x.mean(dim=0)
    n, d = x.shape
    cov = (x.T @ x) / max(1, n - 1)
    off = cov - torch.diag(torch.diagonal(cov))
    return off.square().sum() / d


@dataclass
class VICRegWeights:
    """The paper's coefficients: invariance 25, variance 25, covariance 1."""

    invariance: float = 25.0
    variance: float = 25.0
    covariance: float = 1.0


def vicreg(z1: torch.Tensor, z2: torch.Tensor, w: VICRegWeights) -> dict[str, torch.Tensor]:
    """The weighted VICReg loss of two views' embeddings (N, D) and its terms (``loss``,
    ``invariance``, ``variance``, ``covariance``; the terms unweighted)."""
    inv = (z1.float() - z2.float()).square().mean()
    var = 0.5 * (variance_hinge(z1) + variance_hinge(z2))
    cov = covariance_penalty(z1) + covariance_penalty(z2)
    loss = w.invariance * inv + w.variance * var + w.covariance * cov
    return {"loss": loss, "invariance": inv, "variance": var, "covariance": cov}
