"""Multi-view invariance + SIGReg (the LeJEPA objective): no EMA, no stop-gradient.

Every view is encoded and projected; all projections are pulled to the mean of the global
views' projections, and SIGReg pushes each view's projections towards an isotropic Gaussian,
which is what prevents collapse. loss = lam * SIGReg + (1 - lam) * invariance.
"""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.objectives.latent_prediction import per_dim_std
from omnijepa.objectives.sigreg import SIGReg


class PooledProjection(nn.Module):
    """Backbone -> mean over tokens -> projector, as one (B, 1, K) "token": the embedding
    SIGReg regularises, evaluated alongside the backbone to see where collapse happens."""

    def __init__(self, encoder: nn.Module, projector: nn.Module) -> None:
        super().__init__()
        self.encoder, self.projector = encoder, projector

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.projector(self.encoder(x).mean(dim=1)).unsqueeze(1)


class MultiViewSIGReg(nn.Module):
    """LeJEPA objective over a batch holding ``views``: global views first, then local ones."""

    def __init__(
        self,
        encoder: nn.Module,
        projector: nn.Module,
        sigreg: SIGReg,
        lam: float = 0.05,
        num_global: int = 2,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.projector = projector
        self.sigreg = sigreg
        self.lam = lam
        self.num_global = num_global

    def forward(self, batch: dict, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        views: list[torch.Tensor] = batch["views"]
        pooled = [self.encoder(v).mean(dim=1) for v in views]
        proj = torch.stack([self.projector(p) for p in pooled]).float()  # (V, B, K)
        centre = proj[: self.num_global].mean(dim=0)
        invariance = (proj - centre).square().mean()
        sig = self.sigreg(proj, step)  # per view, averaged: one reduction for all views
        loss = self.lam * sig + (1.0 - self.lam) * invariance
        stats = {
            "sigreg": sig.detach(),
            "invariance": invariance.detach(),
            "embed_std": per_dim_std(torch.stack(pooled).detach()),
            "proj_std": per_dim_std(proj.detach()),
        }
        return loss, stats

    def after_optimizer_step(self, step: int, total: int) -> dict[str, float]:
        """No target network to update."""
        return {}

    def eval_encoder(self) -> nn.Module:
        """The backbone (not the projector) is evaluated, as in LeJEPA."""
        return self.encoder

    def embedding_head(self) -> nn.Module:
        """The projector's output for a whole input (what SIGReg and invariance act on)."""
        return PooledProjection(self.encoder, self.projector)
