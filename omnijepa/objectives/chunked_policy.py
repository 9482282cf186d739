"""An imitation policy that predicts chunks of future actions (ACT) and, optionally, the
latent embeddings of the future states (ACT-JEPA's JEPA branch), trained jointly:

    loss = action_weight * L1(action chunk) + latent_weight * L1(predicted, target latents)

The context encoder reads [goal, past states]; an action decoder of ``chunk`` learned queries
reads its tokens; a predictor of ``chunk`` learned queries regresses the EMA target encoder's
layer-normed outputs at the future states s_{t+1}..s_{t+k} (the target encoder reads
[goal, future states], in eval mode, no gradients). Padded steps are left out of both losses.
``latent_weight=0`` is ACT with the same network and budget (the target encoder then sits
unused); ``chunk=1`` with it is behaviour cloning. ``latent_only_steps`` trains the JEPA branch
alone for that many steps first (the paper's two-stage control).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from omnijepa.nn.query_decoder import QueryDecoder
from omnijepa.objectives.latent_prediction import masked_mean
from omnijepa.objectives.teacher import (
    TeacherConfig,
    TeacherSchedule,
    ema_update,
    relative_drift,
)


class ChunkedPolicy(nn.Module):
    """Context encoder, action decoder, predictor and EMA target encoder."""

    def __init__(self, encoder: nn.Module, action_dim: int, chunk: int, predictor_dim: int,
                 predictor_depth: int, heads: int, teacher: TeacherConfig,
                 latent_weight: float = 1.0, latent_only_steps: int = 0) -> None:  # fmt: skip
        super().__init__()
        d = encoder.dim
        self.encoder, self.chunk = encoder, chunk
        self.actions = QueryDecoder(chunk, d, d, 1, heads, action_dim)
        self.predictor = QueryDecoder(chunk, d, predictor_dim, predictor_depth, heads, d)
        self.target_encoder = copy.deepcopy(encoder).requires_grad_(False)
        self.teacher, self.schedule = teacher, TeacherSchedule(teacher)
        self.latent_weight, self.latent_only_steps = latent_weight, latent_only_steps
        self._init = [p.detach().clone() for p in encoder.parameters()]

    def act(self, history: torch.Tensor, goal: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        """The next ``chunk`` actions (B, k, Da) after the given history."""
        tokens, tok_pad = self.encoder(history, goal, pad)
        return self.actions(tokens, tok_pad)

    def forward(self, batch: dict, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        tokens, tok_pad = self.encoder(batch["history"], batch["goal"], batch["history_pad"])
        act_pad = batch["actions_pad"]
        act_err = (self.actions(tokens, tok_pad) - batch["actions"]).abs().mean(-1)
        action_loss = masked_mean(act_err, act_pad)
        stats = {"action_loss": action_loss.detach()}
        weight_a = 0.0 if step < self.latent_only_steps else 1.0
        loss = weight_a * action_loss
        if self.latent_weight > 0:
            fut_pad = batch["future_pad"]
            self.target_encoder.eval()
            with torch.no_grad():
                h, _ = self.target_encoder(batch["future"], batch["goal"], fut_pad)
                h = F.layer_norm(h[:, 1:].float(), (h.shape[-1],))
            pred = self.predictor(tokens, tok_pad)
            latent_loss = masked_mean((pred.float() - h).abs().mean(-1), fut_pad)
            stats["latent_loss"] = latent_loss.detach()
            stats["target_std"] = h.std(0).mean().detach()
            loss = loss + self.latent_weight * latent_loss
        return loss, stats

    @torch.no_grad()
    def after_optimizer_step(self, step: int, total: int) -> dict[str, float]:
        """EMA update of the target encoder (only when the JEPA branch is on)."""
        m = self.schedule.momentum(step, total) if self.latent_weight > 0 else 1.0
        ema_update(self.target_encoder, self.encoder, m)
        return {"ema_momentum": m}

    def diagnostics(self, step: int, total: int) -> dict[str, float]:
        return {"online_drift": relative_drift(self.encoder, self._init)}

    def eval_encoder(self) -> nn.Module:
        """The policy's own (context) encoder: the one probed and acted with."""
        return self.encoder


__all__ = ["ChunkedPolicy"]
