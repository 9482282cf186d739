"""Photometric augmentations of standardised image views (LeJEPA / DINO style), batched.

LeJEPA's views are crops plus colour jitter, blur and solarisation; its authors report that
dropping everything but the crop takes ImageNette from about 90 % to 70 % (lejepa#16). Views
here are already standardised per channel, so the jitter works in those units: brightness adds
a shift of up to ``brightness`` standard deviations, contrast scales each view about its own
mean by a factor in [1 - contrast, 1 + contrast]; blur is a Gaussian of per-view sigma drawn
in [``blur_sigma``] pixels of a 32 px view (scaled with the view's side). All randomness comes
from the caller's generator, so a resumed run sees the same views.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class PhotometricConfig:
    """``views.photometric.*``: each part applied to a view with its probability."""

    jitter_p: float = 0.0  # probability of brightness/contrast jitter (0 = off)
    brightness: float = 0.4
    contrast: float = 0.4
    blur_p: float = 0.0  # probability of a Gaussian blur (0 = off)
    blur_sigma: tuple[float, float] = (0.1, 1.0)

    def __post_init__(self) -> None:
        for key in ("jitter_p", "blur_p"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(
                    f"views.photometric.{key} must be in [0, 1], got {getattr(self, key)}"
                )
        if self.brightness < 0 or not 0 <= self.contrast < 1:
            raise ValueError("views.photometric.brightness must be >= 0 and contrast in [0, 1)")
        lo, hi = self.blur_sigma
        if not 0 < lo <= hi:
            raise ValueError(
                f"views.photometric.blur_sigma must satisfy 0 < low <= high, got {(lo, hi)}"
            )

    @property
    def active(self) -> bool:
        return self.jitter_p > 0 or self.blur_p > 0


def jitter(v: torch.Tensor, cfg: PhotometricConfig, generator: torch.Generator) -> torch.Tensor:
    """Brightness shift and contrast scaling of a share ``jitter_p`` of the views (B, C, H, W).
    Only the drawn views are computed, in place on their copy (a 224 px batch spent most of
    its collate time here)."""
    b = v.shape[0]
    u = torch.rand(b, 3, generator=generator)
    on = (u[:, 0] < cfg.jitter_p).nonzero().squeeze(1)
    shift = (2 * u[:, 1] - 1).view(b, 1, 1, 1) * cfg.brightness
    scale = (1 + (2 * u[:, 2] - 1) * cfg.contrast).view(b, 1, 1, 1)
    if len(on) == 0:
        return v
    sel = v[on]
    mean = sel.mean(dim=(1, 2, 3), keepdim=True)
    sel.sub_(mean).mul_(scale[on]).add_(mean).add_(shift[on])  # mean + scale (v - mean) + shift
    out = v.clone()
    out[on] = sel
    return out


def gaussian_blur(
    v: torch.Tensor, cfg: PhotometricConfig, generator: torch.Generator
) -> torch.Tensor:
    """A separable Gaussian blur of per-view sigma on a share ``blur_p`` of the views (only
    those are convolved; the others are returned as they are)."""
    b, c, h, w = v.shape
    u = torch.rand(b, 2, generator=generator)
    lo, hi = cfg.blur_sigma
    sigma = (lo + (hi - lo) * u[:, 1]) * max(h, w) / 32.0
    on = (u[:, 0] < cfg.blur_p).nonzero().squeeze(1)
    if len(on) == 0:
        return v
    sigma = sigma[on]
    radius = max(1, int(3 * float(sigma.max()) + 0.5))
    taps = torch.arange(-radius, radius + 1, dtype=v.dtype)
    kernel = torch.exp(-0.5 * (taps[None] / sigma.clamp_min(1e-3)[:, None]) ** 2)
    kernel = kernel / kernel.sum(dim=1, keepdim=True)
    n = len(on)
    k = kernel.repeat_interleave(c, dim=0)  # one kernel per (view, channel) group
    x = v[on].reshape(1, n * c, h, w)
    x = F.conv2d(
        F.pad(x, (radius, radius, 0, 0), mode="replicate"), k[:, None, None, :], groups=n * c
    )
    x = F.conv2d(
        F.pad(x, (0, 0, radius, radius), mode="replicate"), k[:, None, :, None], groups=n * c
    )
    out = v.clone()
    out[on] = x.reshape(n, c, h, w)
    return out


def photometric(
    v: torch.Tensor, cfg: PhotometricConfig, generator: torch.Generator
) -> torch.Tensor:
    """The configured jitter, then blur, of a batch of views (unchanged when all are off)."""
    if cfg.jitter_p > 0:
        v = jitter(v, cfg, generator)
    if cfg.blur_p > 0:
        v = gaussian_blur(v, cfg, generator)
    return v
