"""Augmented views of EEG trials, for C-JEPA's invariance term on S-JEPA.

Spatial masking alone lets the local encoder solve its task by interpolating neighbouring
channels' waveforms; nothing asks it for what a rhythm keeps from one moment to the next, its
power. Two views of a trial that differ by a circular shift in time (any number of samples,
so the waveform's phase against the windows changes) and by the sign of the signal keep every
channel's band power and spatial pattern and change the waveform; the invariance term then
rewards features that are stationary over the trial. Off by default (the paper has no views).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from omnijepa.modalities.eeg import POSITION_COLUMNS


@dataclass
class EEGViewConfig:
    """``augment.*`` of S-JEPA: what differs between a trial's views (both off: the same)."""

    time_shift: bool = False  # roll each trial by a random number of samples
    sign_flip: bool = False  # negate each trial with probability 1/2

    @property
    def active(self) -> bool:
        return self.time_shift or self.sign_flip


def augment_trials(x: torch.Tensor, generator: torch.Generator, cfg: EEGViewConfig) -> torch.Tensor:
    """A view of packed trials ``x`` (B, C, 3 + T): each trial rolled by its own random shift
    and/or sign-flipped, per ``cfg``; positions and absent (NaN) channels are kept. Trials
    with NaN samples inside a present channel (shorter recordings padded) are not rolled, so
    their padding stays at the end."""
    if not cfg.active:
        return x
    pos, signal = x[..., :POSITION_COLUMNS], x[..., POSITION_COLUMNS:]
    b, _, t = signal.shape
    out = signal
    if cfg.time_shift:
        shifts = torch.randint(0, t, (b,), generator=generator)
        present = ~torch.isnan(pos).any(-1, keepdim=True)  # (B, C, 1)
        padded = (torch.isnan(signal) & present).flatten(1).any(1)
        shifts = torch.where(padded, torch.zeros_like(shifts), shifts).to(x.device)
        idx = (torch.arange(t, device=x.device)[None, :] - shifts[:, None]) % t  # (B, T)
        out = torch.gather(out, 2, idx[:, None, :].expand_as(out))
    if cfg.sign_flip:
        signs = torch.where(torch.rand(b, generator=generator) < 0.5, -1.0, 1.0)
        out = out * signs.to(x.device, x.dtype)[:, None, None]
    return torch.cat([pos, out], dim=-1)
