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


def vc_terms(
    x: torch.Tensor, eps: float = 1e-4, floor: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """VICReg's variance hinge ``mean_d relu(floor - std_d)`` (VICReg's floor is 1) and
    covariance penalty (squared off-diagonal covariances / D) of the rows of ``x`` (N, D), from
    one covariance (under ``torch.distributed``, one gathering over every rank's rows). In
    float32 with autocast off: under bf16 autocast the covariance product would be rounded to
    bf16 (and under fp16 the sum over many rows can overflow)."""
    with torch.autocast(x.device.type, enabled=False):
        xf = x.float()
        cov = global_covariance(xf)
        if cov is None:
            var = xf.var(dim=0)
            centred = xf - xf.mean(dim=0)
            cov = (centred.T @ centred) / max(1, xf.shape[0] - 1)
        else:
            var = torch.diagonal(cov)
        hinge = torch.relu(floor - torch.sqrt(var + eps)).mean()
        off = cov - torch.diag(torch.diagonal(cov))
        return hinge, off.square().sum() / cov.shape[0]


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
    (var1, cov1), (var2, cov2) = vc_terms(z1), vc_terms(z2)
    var = 0.5 * (var1 + var2)
    cov = cov1 + cov2
    loss = w.invariance * inv + w.variance * var + w.covariance * cov
    return {"loss": loss, "invariance": inv, "variance": var, "covariance": cov}
