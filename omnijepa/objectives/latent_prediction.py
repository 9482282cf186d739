"""Latent prediction with an EMA target encoder (I-JEPA / V-JEPA style objective).

The context encoder sees only the context tokens; a narrow predictor predicts the target
encoder's layer-normed (no affine) embeddings at the target tokens. The target encoder is an
EMA copy of the context encoder that never receives gradients.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from omnijepa.nn.positional import gather_tokens
from omnijepa.registry import Registry
from omnijepa.schedules import linear_ramp

LATENT_LOSSES: Registry[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = Registry(
    "latent loss"
)
LATENT_LOSSES.add("smooth_l1", lambda p, t: F.smooth_l1_loss(p, t))
LATENT_LOSSES.add("l1", lambda p, t: F.l1_loss(p, t))
LATENT_LOSSES.add("l2", lambda p, t: F.mse_loss(p, t))
LATENT_LOSSES.add("smooth_l1_beta2", lambda p, t: F.smooth_l1_loss(p, t, beta=2.0))  # Point-JEPA
LATENT_LOSSES.add("cosine", lambda p, t: (1 - F.cosine_similarity(p, t, dim=-1)).mean())  # 3D-JEPA


def per_dim_std(x: torch.Tensor) -> torch.Tensor:
    """Mean over channels of the per-channel std across all other axes (collapse monitor)."""
    flat = x.reshape(-1, x.shape[-1]).float()
    return flat.std(dim=0).mean()


class LatentPrediction(nn.Module):
    """Context encoder + predictor trained to match an EMA target encoder in latent space."""

    def __init__(
        self,
        encoder: nn.Module,
        predictor: nn.Module,
        loss: str = "smooth_l1",
        ema: tuple[float, float] = (0.996, 1.0),
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.predictor = predictor
        self.loss_fn = LATENT_LOSSES.get(loss)
        self.ema = ema
        self.target_encoder = copy.deepcopy(encoder)
        self.target_encoder.requires_grad_(False)

    def forward(self, batch: dict, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        x, context, targets = batch["x"], batch["context"], batch["targets"]
        b, m, nt = targets.shape
        with torch.no_grad():
            h = self.target_encoder(x)
            target_std = per_dim_std(h)
            h = F.layer_norm(h.float(), (h.shape[-1],))
            h = gather_tokens(h, targets.reshape(b, m * nt)).view(b, m, nt, -1)
        z = self.encoder(x, keep=context)
        coords = self.encoder.coords(x)
        pred = self.predictor(z, coords, context, targets)
        loss = self.loss_fn(pred.float(), h)
        stats = {"target_std": target_std, "pred_std": per_dim_std(pred.detach())}
        return loss, stats

    def momentum(self, step: int, total: int) -> float:
        """EMA momentum at ``step``: linear from ema[0] to ema[1] over the run (I-JEPA)."""
        return linear_ramp(step, total, *self.ema)

    @torch.no_grad()
    def after_optimizer_step(self, step: int, total: int) -> dict[str, float]:
        """Move the target encoder towards the context encoder; call after each step."""
        m = self.momentum(step, total)
        for t, s in zip(self.target_encoder.parameters(), self.encoder.parameters()):
            t.mul_(m).add_(s.detach(), alpha=1.0 - m)
        return {"ema_momentum": m}

    def eval_encoder(self) -> nn.Module:
        """The encoder whose pooled features are evaluated: the target encoder (I-JEPA)."""
        return self.target_encoder
