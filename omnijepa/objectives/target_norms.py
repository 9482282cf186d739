"""How the target encoder's tokens are normalised before the predictor regresses them.

Every kind first layer-norms each token (I-JEPA). Two further kinds exist because at small
scale most of a random target encoder's output is a function of the token's *position*: a
predictor that sees only the target positions reaches ~99% of the real predictor's loss
(README, issue 10), so the loss says little about content.

- ``layer``: layer norm per token only (the papers).
- ``layer_batch``: also standardise every channel over the batch's real tokens, removing the
  direction all targets share.
- ``position_residual``: also subtract what the token's position alone predicts across the
  batch, then standardise channels, so the loss is carried by what differs between samples at
  one position. On a grid shared by the batch (coords (N, A)) that is the per-position mean;
  with per-sample positions (coords (B, N, A), e.g. point-cloud patch centres) it is a ridge
  regression of the targets on random Fourier features of the coordinates.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from omnijepa.registry import Registry

TargetNorm = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | None"], torch.Tensor]
TARGET_NORMS: Registry[TargetNorm] = Registry("target norm")


def _keep(h: torch.Tensor, padding: torch.Tensor | None) -> torch.Tensor:
    """(B, N, 1) weights: 1 at real tokens, 0 at padded ones."""
    if padding is None:
        return torch.ones_like(h[..., :1])
    return (~padding).unsqueeze(-1).to(h.dtype)


def standardise_channels(h: torch.Tensor, padding: torch.Tensor | None) -> torch.Tensor:
    """``h`` (B, N, D) with every channel standardised over the real tokens of the batch."""
    keep = _keep(h, padding).reshape(-1, 1)
    flat = h.reshape(-1, h.shape[-1])
    n = keep.sum().clamp_min(1.0)
    mean = (flat * keep).sum(0) / n
    var = ((flat - mean).square() * keep).sum(0) / n
    return (h - mean) / (var + 1e-6).sqrt()


def fourier_features(coords: torch.Tensor, num: int = 64, seed: int = 0) -> torch.Tensor:
    """(..., 1 + A + 2·num) basis of coordinates (..., A): a constant, the coordinates and
    random Fourier features at bandwidths spread over the coordinates' own scale (fixed
    seed, so the basis is the same every step)."""
    a = coords.shape[-1]
    flat = coords.reshape(-1, a).float()
    scale = flat.std(0).clamp_min(1e-6)
    g = torch.Generator().manual_seed(seed)
    freq = torch.randn(a, num, generator=g) * torch.linspace(0.5, 4.0, num)
    proj = ((flat - flat.mean(0)) / scale) @ freq.to(flat.device)
    ones = torch.ones_like(flat[:, :1])
    basis = torch.cat([ones, (flat - flat.mean(0)) / scale, proj.sin(), proj.cos()], dim=-1)
    return basis.view(*coords.shape[:-1], -1)


def position_residual(
    h: torch.Tensor, coords: torch.Tensor, padding: torch.Tensor | None, ridge: float = 1e-2
) -> torch.Tensor:
    """``h`` (B, N, D) minus its batch-wise fit on the token positions (see module doc)."""
    keep = _keep(h, padding)
    if coords.dim() == 2:  # one grid for the whole batch: subtract the per-position mean
        mean = (h * keep).sum(0, keepdim=True) / keep.sum(0, keepdim=True).clamp_min(1.0)
        return (h - mean) * keep
    # the fit in float32 outside autocast: under CUDA autocast the products would come out in
    # bf16 and torch.linalg.solve refuses mixed or half-precision operands
    with torch.autocast(h.device.type, enabled=False):
        hf, keep = h.float(), keep.float()
        basis = fourier_features(coords) * keep  # (B, N, F), zero rows at padding
        x = basis.reshape(-1, basis.shape[-1])
        y = (hf * keep).reshape(-1, hf.shape[-1])
        gram = x.T @ x + ridge * x.shape[0] * torch.eye(x.shape[1], device=x.device)
        weights = torch.linalg.solve(gram, x.T @ y)
        return ((hf - (basis @ weights)) * keep).to(h.dtype)


TARGET_NORMS.add("layer", lambda h, coords, pad: h)
TARGET_NORMS.add("layer_batch", lambda h, coords, pad: standardise_channels(h, pad))
TARGET_NORMS.add(
    "position_residual",
    lambda h, coords, pad: standardise_channels(position_residual(h, coords, pad), pad),
)


def normalise_targets(
    kind: str, h: torch.Tensor, coords: torch.Tensor, padding: torch.Tensor | None
) -> torch.Tensor:
    """Layer-norm every token of ``h`` (B, N, D), then apply the ``kind`` step above."""
    h = F.layer_norm(h.float(), (h.shape[-1],))
    return TARGET_NORMS.get(kind)(h, coords, padding)
