"""Pre-training augmentation of log-mel batches: random gain and additive noise.

Both act on the log-mel spectrogram, so clips are not re-synthesised each step. A gain of
g dB multiplies the power by 10^(g/10), i.e. adds g ln(10) / 10 to every log-mel value.
White noise at a signal-to-noise ratio of s dB adds, to each band, the clip's mean power
times 10^(-s/10) weighted by the band's filter area (wide high bands collect more noise):
``log(P + N_band)``. NaN padding stays NaN. All randomness comes from the batch's generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from omnijepa.errors import ConfigError
from omnijepa.modalities.audio import FrontEndConfig, mel_filterbank


@dataclass
class AudioAugmentConfig:
    """``augment.*``: gain jitter of +-``gain_db``; noise with probability ``noise_p`` at an
    SNR drawn from ``snr_db`` (the A-JEPA setup: +-6 dB; noise 5-30 dB SNR)."""

    gain_db: float = 6.0
    noise_p: float = 0.5
    snr_db: tuple[float, float] = (5.0, 30.0)

    def __post_init__(self) -> None:
        if self.gain_db < 0 or not 0.0 <= self.noise_p <= 1.0:
            raise ConfigError("augment.gain_db must be >= 0 and augment.noise_p in [0, 1]")
        if self.snr_db[0] > self.snr_db[1]:
            raise ConfigError(f"augment.snr_db must be (low, high), got {self.snr_db}")


class LogMelAugment:
    """``prepare`` step of the mask collator: ``(x, generator) -> (augmented x, None)`` on
    normalised log-mel batches ``(B, T, F)`` (``x = (log-mel - mean) / std``)."""

    def __init__(
        self, cfg: AudioAugmentConfig, front_end: FrontEndConfig, mean: float, std: float
    ) -> None:
        self.cfg, self.mean, self.std = cfg, mean, std
        bank = mel_filterbank(
            front_end.n_mels, front_end.n_fft, front_end.sample_rate, front_end.fmin, front_end.top
        )
        area = bank.sum(dim=1)
        self.band_weight = area / area.mean()  # (F,)

    def __call__(self, x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, None]:
        c, b = self.cfg, x.shape[0]
        log_power = x * self.std + self.mean
        gain = (torch.rand(b, generator=gen) * 2 - 1) * c.gain_db
        log_power = log_power + (gain * math.log(10) / 10)[:, None, None]
        noisy = torch.rand(b, generator=gen) < c.noise_p
        snr = c.snr_db[0] + (c.snr_db[1] - c.snr_db[0]) * torch.rand(b, generator=gen)
        if bool(noisy.any()):
            power = log_power.exp()
            mean_power = torch.nan_to_num(power, nan=0.0).sum((1, 2)) / (
                (~torch.isnan(power)).sum((1, 2)).clamp_min(1)
            )
            level = mean_power * 10 ** (-snr / 10) * noisy
            noise = level[:, None, None] * self.band_weight.to(x.dtype)[None, None, :]
            log_power = torch.log(power + noise)
        return ((log_power - self.mean) / self.std).to(x.dtype), None
