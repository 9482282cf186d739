"""VICReg's three terms (Bardes, Ponce, LeCun 2022), kept separate so that other objectives
can weight them: invariance (MSE between two views), a variance hinge that keeps every
dimension's std above 1, and a covariance penalty that decorrelates dimensions. Under
``torch.distributed`` the batch statistics span every rank's rows, so W ranks train as one
process on the global batch."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from omnijepa.distributed import all_reduce_sum_int, all_reduce_sum_with_grad, world_size


def global_covariance(x: torch.Tensor) -> torch.Tensor | None:
    """Covariance (D, D) of the rows of ``x`` (N, D) gathered over every rank, with gradient
    (so a run on W ranks sees the statistics of the whole batch, as one process does); None
    outside ``torch.distributed``. Built from summed moments: every rank computes the same
    value, and DDP's gradient averaging turns the summed gradients back into the exact one
    (``omnijepa.distributed.all_reduce_sum_with_grad``)."""
    if world_size() == 1:
        return None
    x = x.float()
    n = all_reduce_sum_int(x.shape[0])
    mean = all_reduce_sum_with_grad(x.sum(dim=0)) / n
    second = all_reduce_sum_with_grad(x.T @ x)
    return (second - n * torch.outer(mean, mean)) / max(1, n - 1)


def variance_hinge(x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """``mean_d relu(1 - std_d)`` over rows of ``x`` (N, D) (of every rank's rows under
    ``torch.distributed``)."""
    cov = global_covariance(x)
    var = x.float().var(dim=0) if cov is None else torch.diagonal(cov)
    return torch.relu(1.0 - torch.sqrt(var + eps)).mean()


def covariance_penalty(x: torch.Tensor) -> torch.Tensor:
    """Sum of squared off-diagonal covariances of ``x`` (N, D), divided by D (over every
    rank's rows under ``torch.distributed``)."""
    cov = global_covariance(x)
    if cov is None:
        x = x.float()
        x = x - x.mean(dim=0)
        cov = (x.T @ x) / max(1, x.shape[0] - 1)
    off = cov - torch.diag(torch.diagonal(cov))
    return off.square().sum() / cov.shape[0]


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
