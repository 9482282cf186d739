"""Latent prediction with a target encoder (I-JEPA / V-JEPA style objective).

The context encoder sees only the context tokens; a narrow predictor predicts the target
encoder's layer-normed (no affine) embeddings at the target tokens. The target encoder is a
momentum copy of the context encoder that never receives gradients (``objectives.teacher``:
schedule fitted to the run length, frozen / shared controls, drift diagnostics). An optional
anti-collapse term (``objectives.collapse_penalty``) is added with its weight.

Variable-length batches: the encoder's padding mask (True at padded tokens) is gathered at the
context and target indices; padded context tokens are hidden from the predictor, padded
targets are left out of the loss (a mean over real target tokens), so a padded batch scores
each sample as it would be scored alone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from omnijepa.errors import ConfigError
from omnijepa.nn.positional import gather_tokens
from omnijepa.nn.tokens import mean_over_tokens
from omnijepa.nn.transformer import stack_depth
from omnijepa.objectives.collapse_penalty import AntiCollapseConfig, build_penalty
from omnijepa.objectives.target_norms import normalise_targets
from omnijepa.objectives.teacher import (
    TeacherConfig,
    TeacherSchedule,
    ema_update,
    relative_drift,
)
from omnijepa.registry import Registry

# Each loss maps (prediction, target) of shape (..., D) to a per-token loss (...,).
LATENT_LOSSES: Registry[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = Registry(
    "latent loss"
)
LATENT_LOSSES.add("smooth_l1", lambda p, t: F.smooth_l1_loss(p, t, reduction="none").mean(-1))
LATENT_LOSSES.add("l1", lambda p, t: F.l1_loss(p, t, reduction="none").mean(-1))
LATENT_LOSSES.add("l2", lambda p, t: F.mse_loss(p, t, reduction="none").mean(-1))
LATENT_LOSSES.add(  # Point-JEPA
    "smooth_l1_beta2", lambda p, t: F.smooth_l1_loss(p, t, reduction="none", beta=2.0).mean(-1)
)
LATENT_LOSSES.add("cosine", lambda p, t: 1 - F.cosine_similarity(p, t, dim=-1))  # 3D-JEPA


def masked_mean(values: torch.Tensor, padding: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``values`` over the entries where ``padding`` (same shape) is False."""
    if padding is None:
        return values.mean()
    keep = (~padding).to(values.dtype)
    return (values * keep).sum() / keep.sum().clamp_min(1.0)


def gather_padding(padding: torch.Tensor | None, idx: torch.Tensor) -> torch.Tensor | None:
    """Padding (B, N) read at indices ``idx`` (B, ...) -> (B, ...), or None."""
    if padding is None:
        return None
    b = idx.shape[0]
    return torch.gather(padding, 1, idx.reshape(b, -1)).view(idx.shape)


def per_dim_std(x: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over channels of the per-channel std across all other axes (collapse monitor);
    tokens where ``padding`` is True are left out."""
    flat = x.reshape(-1, x.shape[-1]).float()
    if padding is None:
        return flat.std(dim=0).mean()
    keep = (~padding).reshape(-1, 1).to(flat.dtype)  # weighted, so no host sync
    n = keep.sum()
    mean = (flat * keep).sum(0) / n.clamp_min(1.0)
    var = ((flat - mean).square() * keep).sum(0) / (n - 1).clamp_min(1.0)
    return var.sqrt().mean()


class LatentPrediction(nn.Module):
    """Context encoder + predictor trained to match a target encoder in latent space."""

    def __init__(
        self,
        encoder: nn.Module,
        predictor: nn.Module,
        loss: str = "smooth_l1",
        teacher: TeacherConfig | None = None,
        anti_collapse: AntiCollapseConfig | None = None,
        position_probe: bool = False,
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.predictor = predictor
        self.loss_fn = LATENT_LOSSES.get(loss)
        self.teacher = teacher or TeacherConfig()
        depth = stack_depth(encoder)
        if depth is not None and self.teacher.target_layers > max(1, depth):
            raise ConfigError(
                f"ema.target_layers={self.teacher.target_layers} averages more blocks than "
                f"the encoder has ({depth}, model.depth)"
            )
        self.schedule = TeacherSchedule(self.teacher)
        self.penalty = build_penalty(anti_collapse, encoder.dim)
        self.penalty_weight = anti_collapse.weight if self.penalty is not None else 0.0
        self.target_encoder = copy.deepcopy(encoder)
        self.target_encoder.requires_grad_(False)
        # diagnostic: a twin predictor that sees the target positions but no context. It
        # trains only itself (no gradient reaches the encoder); if its loss matches the real
        # predictor's, the pretext task is solvable from positions alone.
        self.position_predictor = copy.deepcopy(predictor) if position_probe else None
        # the shared random init, kept outside the state dict (rebuilt from the seed on resume)
        self._init = [p.detach().clone() for p in encoder.parameters()]
        # the tokenizer's part of it: its weights start at the input's scale and can stay put
        # while the transformer moves (S-JEPA's local encoder: 3-14 % against 50-140 %)
        names = [n for n, _ in encoder.named_parameters()]
        self._tokenizer_init = [q for n, q in zip(names, self._init) if n.startswith("tokenizer.")]

    def forward(self, batch: dict, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        terms, stats = self.loss_terms(batch, step)
        return sum(terms.values()), stats  # type: ignore[return-value]

    def loss_terms(
        self, batch: dict, step: int
    ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """The loss as named terms (``prediction``; ``anti_collapse`` times its weight;
        ``position_only``, which trains only the diagnostic predictor) and the stats."""
        x, context, targets = batch["x"], batch["context"], batch["targets"]
        b, m, nt = targets.shape
        pad = self.encoder.padding(x)
        ctx_pad, tgt_pad = gather_padding(pad, context), gather_padding(pad, targets)
        with torch.no_grad():
            h = self.target_tokens(x)
            target_std = per_dim_std(h, pad)
            coords = self.encoder.coords(x)
            h = normalise_targets(self.teacher.target_norm, h, coords, pad)
            h = gather_tokens(h, targets.reshape(b, m * nt)).view(b, m, nt, -1)
        z = self.encoder(x, keep=context)
        alone = self.penalty is not None and self.penalty.cfg.alone  # the VC-alone control
        pred = self.predictor(
            z.detach() if alone else z, coords, context, targets, ctx_pad, tgt_pad
        )
        terms = {"prediction": masked_mean(self.loss_fn(pred.float(), h), tgt_pad)}
        stats = {"target_std": target_std, "pred_std": per_dim_std(pred.detach(), tgt_pad)}
        if self.penalty is not None or self.position_predictor is not None:
            stats["prediction_loss"] = terms["prediction"].detach()
        if self.penalty is not None:
            on, on_pad = (z, ctx_pad) if self.penalty.cfg.on == "context" else (pred, tgt_pad)
            reg = self.penalty(on, step, on_pad)
            if self.penalty.cfg.invariance > 0:
                inv, reg_view = self.view_invariance(batch, z, ctx_pad, step)
                if reg_view is not None:  # VICReg regularises both branches
                    reg = (reg + reg_view) / 2
                stats["invariance"] = inv.detach()
                terms["invariance"] = self.penalty.cfg.invariance * inv
            stats["anti_collapse"] = reg.detach()
            terms["anti_collapse"] = self.penalty_weight * reg
        if self.position_predictor is not None:
            blind = self.position_predictor(
                z[:, :0], coords, context[:, :0], targets, None, tgt_pad
            )
            terms["position_only"] = masked_mean(self.loss_fn(blind.float(), h), tgt_pad)
            stats["position_only_loss"] = terms["position_only"].detach()
        return terms, stats

    def view_invariance(
        self, batch: dict, z: torch.Tensor, ctx_pad: torch.Tensor | None, step: int
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """C-JEPA's term (Mo & Tong 2024): the squared distance, averaged over channels and
        samples, between each sample's mean context embedding and the mean embedding of its
        second view (``x_view``, else the input itself; all its tokens, or those at the
        context's indices with ``invariance_view=context``; read by the target encoder with
        ``invariance_target=teacher``), and the anti-collapse term on that view (None when
        the view is a fixed target: ``invariance_stop_grad`` or the teacher's)."""
        view = batch.get("x_view", batch["x"])
        cfg = self.penalty.cfg
        keep = batch["context"] if cfg.invariance_view == "context" else None
        fixed = cfg.invariance_stop_grad or cfg.invariance_target == "teacher"
        reader = self.target_encoder if cfg.invariance_target == "teacher" else self.encoder
        with torch.set_grad_enabled(torch.is_grad_enabled() and not fixed):
            z_view = reader(view, keep=keep)
        view_pad = self.encoder.padding(view)
        if keep is not None:
            view_pad = gather_padding(view_pad, keep)
        a, b = mean_over_tokens(z, ctx_pad), mean_over_tokens(z_view, view_pad)
        inv = F.mse_loss(a.float(), b.float())
        if fixed:  # the context's term alone
            return inv, None
        return inv, self.penalty(z_view, step, view_pad)

    def encoder_gradients(self, batch: dict, step: int) -> dict[str, float]:
        """Norm of the prediction's and the (weighted) anti-collapse and invariance terms'
        gradients on the encoder's parameters for ``batch``: which term the encoder learns
        from. At small scale the anti-collapse term's was 1000x the prediction's (ijepa,
        README). Buffers are restored, so the extra passes change nothing. One forward pass
        per term, since a compiled block (``train.compile``) cannot keep its graph for a
        second backward."""
        if self.penalty is None:
            return {}
        saved = {k: v.clone() for k, v in self.named_buffers()}
        params = [p for p in self.encoder.parameters() if p.requires_grad]
        out = {}
        names = ["prediction", "anti_collapse"]
        if self.penalty.cfg.invariance > 0:
            names.append("invariance")
        for name in names:
            terms, _ = self.loss_terms(batch, step)
            grads = torch.autograd.grad(terms[name], params, allow_unused=True)
            total = sum(float(g.float().square().sum()) for g in grads if g is not None)
            out[f"encoder_grad_{name}"] = total**0.5
            with torch.no_grad():
                for k, v in self.named_buffers():
                    v.copy_(saved[k])
        return out

    def target_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """The target encoder's tokens (B, N, D): its last block, or with
        ``ema.target_layers=k`` the mean of its last k blocks' normed outputs."""
        k = self.teacher.target_layers
        # only the keys set away from their defaults: a backbone without positional encodings
        # or a stack of blocks (the conv net) takes neither
        kwargs = {} if self.teacher.positions else {"positions": False}
        if k > 1:
            kwargs["layers"] = k
        h = self.target_encoder(x, **kwargs)
        if k == 1:
            return h
        h = h.view(*h.shape[:-1], k, -1)
        return F.layer_norm(h, h.shape[-1:]).mean(-2)

    def momentum(self, step: int, total: int) -> float:
        """Teacher momentum of the update after ``step`` steps (``objectives.teacher``)."""
        return self.schedule.momentum(step, total)

    @torch.no_grad()
    def after_optimizer_step(self, step: int, total: int) -> dict[str, float]:
        """Move the target encoder towards the context encoder; call after each step."""
        m = self.momentum(step, total)
        ema_update(self.target_encoder, self.encoder, m)
        return {"ema_momentum": m}

    def diagnostics(self, step: int, total: int) -> dict[str, float]:
        """Teacher's remaining weight on its init and how far each encoder moved from it."""
        return {
            "teacher_init_weight": self.schedule.init_weight(step, total),
            "target_drift": relative_drift(self.target_encoder, self._init),
            "online_drift": relative_drift(self.encoder, self._init),
        } | self._tokenizer_drift()

    def _tokenizer_drift(self) -> dict[str, float]:
        if not self._tokenizer_init:
            return {}
        return {"tokenizer_drift": relative_drift(self.encoder.tokenizer, self._tokenizer_init)}

    def eval_encoder(self) -> nn.Module:
        """The encoder the verdict probes: the target encoder (I-JEPA), except under the
        frozen-teacher control, whose target is its random init: there the online one."""
        return self.encoder if self.teacher.mode == "frozen" else self.target_encoder

    def encoders(self) -> dict[str, nn.Module]:
        """Both encoders by name, for evaluation reports."""
        return {"target": self.target_encoder, "online": self.encoder}
