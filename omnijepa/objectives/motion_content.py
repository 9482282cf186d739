"""MC-JEPA (Bardes, Ponce, LeCun 2023): motion and content learned by one shared encoder.

Motion (flow pairs ``first``/``second``): the flow head predicts, at every pyramid level, the
flow that warps the second frame's features onto the first frame's — latent prediction of
motion, ``||X1_l - warp(X2_l, f_l)||^2`` — in both directions. Image-level terms keep that flow
a real motion: photometric (Charbonnier) error of the warped second frame, edge-aware
smoothness and forward-backward consistency. A variance-covariance term on every level's
features stops the feature-warping loss from being solved by constant features.

Content (two augmented ``views`` of other images): VICReg on the expander output of the
globally pooled coarsest level. Both losses are summed every step; either can be switched off
(the paper's flow-only and content-only ablations).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from omnijepa.nn.conv_pyramid import ConvPyramid, PyramidTokens
from omnijepa.nn.flow_head import FlowHead
from omnijepa.nn.flow_warp import inside, upsample_flow, warp
from omnijepa.objectives.vicreg import VICRegWeights, vc_terms, vicreg

LEVEL_VC_PIXELS = 2048  # feature vectors per level drawn for the variance-covariance term


@dataclass
class MotionContentConfig:
    """``objective.*``: which branches run and each term's weight."""

    flow: bool = True  # the motion branch (flow pairs)
    content: bool = True  # the content branch (VICReg on two views)
    latent: float = 1.0  # feature-warping latent prediction, summed over levels
    photometric: float = 1.0
    photometric_kind: str = "census"  # census (UFlow's soft census) | charbonnier
    smooth: float = 0.05  # edge-aware first-order smoothness of the full-resolution flow
    edge: float = 10.0  # smoothness weight exp(-edge * |image gradient|)
    consistency: float = 0.01  # forward-backward: f(p) + b(p + f(p)) = 0
    level_vc: float = 1.0  # variance + covariance per pyramid level (0: the ablation)
    content_weight: float = 0.04  # VICReg's loss is ~25x larger than the flow terms
    vicreg: VICRegWeights = field(default_factory=VICRegWeights)
    expander: int = 256  # width of VICReg's 3-layer expander

    def __post_init__(self) -> None:
        if not (self.flow or self.content):
            raise ValueError("objective.flow and objective.content cannot both be false")
        weights = ("latent", "photometric", "smooth", "edge", "consistency", "level_vc",
                   "content_weight")  # fmt: skip
        bad = [w for w in weights if getattr(self, w) < 0]
        if bad:  # a negative weight maximises its term
            raise ValueError(
                f"objective.{bad[0]} is a loss weight, >= 0; got {getattr(self, bad[0])}"
            )
        if self.photometric_kind not in PHOTOMETRIC:
            raise ValueError(f"objective.photometric_kind must be one of {sorted(PHOTOMETRIC)}")
        for name in ("latent", "photometric", "smooth", "consistency", "level_vc"):
            if getattr(self, name) < 0:
                raise ValueError(f"objective.{name} must be >= 0")


def charbonnier(x: torch.Tensor, eps: float = 1e-3, alpha: float = 0.45) -> torch.Tensor:
    """The robust penalty of unsupervised flow: (x^2 + eps^2)^alpha."""
    return (x.square() + eps * eps).pow(alpha)


def soft_census(x: torch.Tensor, window: int = 7) -> torch.Tensor:
    """UFlow's soft census transform of grey images: each pixel's differences to its
    ``window`` x ``window`` neighbours, squashed to (-1, 1) — robust to brightness changes and
    informative on texture, where a plain intensity difference has weak gradients."""
    grey = x.mean(dim=1, keepdim=True)
    patches = F.unfold(grey, window, padding=window // 2).view(x.shape[0], -1, *x.shape[-2:])
    d = patches - grey
    return d / torch.sqrt(0.81 + d.square())


def census_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-pixel soft Hamming distance between two images' census transforms (B, 1, H, W)."""
    d = (soft_census(a) - soft_census(b)).square()
    return (d / (0.1 + d)).sum(dim=1, keepdim=True)


def charbonnier_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-pixel robust intensity difference (B, C, H, W)."""
    return charbonnier(a - b)


PHOTOMETRIC = {"census": census_distance, "charbonnier": charbonnier_distance}


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` (B, C, H, W) over positions where ``mask`` (B, 1, H, W) is 1."""
    return (x * mask).sum() / (mask.sum() * x.shape[1]).clamp_min(1.0)


def edge_aware_smoothness(flow: torch.Tensor, image: torch.Tensor, edge: float) -> torch.Tensor:
    """Mean |flow gradient|, down-weighted where the image has edges."""

    def grads(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return t[..., :, 1:] - t[..., :, :-1], t[..., 1:, :] - t[..., :-1, :]

    fx, fy = grads(flow)
    ix, iy = grads(image)
    wx = torch.exp(-edge * ix.abs().mean(dim=1, keepdim=True))
    wy = torch.exp(-edge * iy.abs().mean(dim=1, keepdim=True))
    return (wx * fx.abs()).mean() + (wy * fy.abs()).mean()


def pixel_rows(feat: torch.Tensor, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """Up to ``n`` feature vectors (rows) drawn from the pixels of (B, C, H, W)."""
    rows = feat.permute(0, 2, 3, 1).reshape(-1, feat.shape[1])
    if rows.shape[0] <= n:
        return rows
    idx = torch.randperm(rows.shape[0], generator=generator)[:n].to(rows.device)
    return rows[idx]


class Expander(nn.Module):
    """VICReg's expander: Linear-BN-ReLU, Linear-BN-ReLU, Linear."""

    def __init__(self, dim: int, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, width), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU(),
            nn.Linear(width, width),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MotionContent(nn.Module):
    """The MC-JEPA objective over a shared ``ConvPyramid``."""

    def __init__(self, pyramid: ConvPyramid, head: FlowHead, cfg: MotionContentConfig) -> None:
        super().__init__()
        self.pyramid = pyramid
        self.flow_head = head
        self.cfg = cfg
        self.expander = Expander(pyramid.widths[-1], cfg.expander)

    def predict_flow(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Full-resolution flow (B, 2, H, W) from ``first`` to ``second``, in pixels."""
        flows = self.flow_head(self.pyramid(first), self.pyramid(second))
        return upsample_flow(flows[0], first.shape[-2:])

    def _motion(self, first: torch.Tensor, second: torch.Tensor, step: int) -> dict:
        c = self.cfg
        f1, f2 = self.pyramid(first), self.pyramid(second)
        fw, bw = self.flow_head(f1, f2), self.flow_head(f2, f1)
        latent = first.new_zeros(())
        for a, b, f, g in zip(f1, f2, fw, bw):
            latent = latent + masked_mean((a - warp(b, f)).square(), inside(f).detach())
            latent = latent + masked_mean((b - warp(a, g)).square(), inside(g).detach())
        size = first.shape[-2:]
        full_f, full_b = upsample_flow(fw[0], size), upsample_flow(bw[0], size)
        distance = PHOTOMETRIC[c.photometric_kind]
        photo = first.new_zeros(())
        smooth = first.new_zeros(())
        consist = first.new_zeros(())
        for img1, img2, f, g in ((first, second, full_f, full_b), (second, first, full_b, full_f)):
            valid = inside(f).detach()
            photo = photo + masked_mean(distance(img1, warp(img2, f)), valid)
            smooth = smooth + edge_aware_smoothness(f, img1, c.edge)
            consist = consist + masked_mean((f + warp(g, f)).abs(), valid)
        gen = torch.Generator().manual_seed(step)
        level_vc = first.new_zeros(())
        stds = []
        for a, b in zip(f1, f2):
            rows = pixel_rows(torch.cat([a, b]), LEVEL_VC_PIXELS, gen)
            level_vc = level_vc + sum(vc_terms(rows))
            stds.append(rows.detach().float().std(dim=0).mean())
        loss = (c.latent * latent + c.photometric * photo + c.smooth * smooth
                + c.consistency * consist + c.level_vc * level_vc)  # fmt: skip
        stats = {"latent": latent, "photometric": photo, "smooth": smooth,
                 "consistency": consist, "level_vc": level_vc,
                 "feature_std_min": torch.stack(stds).min(),
                 "flow_abs": full_f.detach().abs().mean()}  # fmt: skip
        return {"loss": loss, **{k: v.detach() for k, v in stats.items()}}

    def _content(self, views: list[torch.Tensor]) -> dict:
        z = [self.expander(self.pyramid(v)[-1].mean(dim=(2, 3))) for v in views[:2]]
        terms = vicreg(z[0], z[1], self.cfg.vicreg)
        out = {f"vicreg_{k}": v.detach() for k, v in terms.items() if k != "loss"}
        return {"loss": self.cfg.content_weight * terms["loss"], **out}

    def forward(self, batch: dict, step: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        parts = []
        if self.cfg.flow:
            parts.append(self._motion(batch["first"], batch["second"], step))
        if self.cfg.content:
            parts.append(self._content(batch["views"]))
        loss = sum(p.pop("loss") for p in parts)
        stats = {k: v for p in parts for k, v in p.items()}
        return loss, stats  # type: ignore[return-value]

    def after_optimizer_step(self, step: int, total: int) -> dict[str, float]:
        """No target network: the feature-warping target is the other frame's features."""
        return {}

    def eval_encoder(self) -> nn.Module:
        """The coarsest level as tokens, for the shared frozen-feature probes."""
        return PyramidTokens(self.pyramid)
