"""Audio front end and tokenizer: waveform -> log-mel spectrogram -> (time, frequency) patches.

The log-mel spectrogram is computed in torch (``torch.stft`` with a Hann window and our own
triangular mel filterbank on the HTK mel scale; torchaudio is not a dependency), as in the
AudioMAE / A-JEPA front end: 25 ms windows every 10 ms at 16 kHz, ``log(mel power + 1e-6)``.

A batch of spectrograms is ``(B, T, F)``: T frames (time) by F mel bands. Clips shorter than
T are padded at the end with NaN frames (``pad_frames``), and a patch whose values are all NaN
is a padded token, so clips of different lengths batch through the padding mask. Token ``i``
is the ``(patch_time x patch_freq)`` patch at row-major position ``(t, f)`` of the patch grid,
with coordinates ``(t, f)`` on a ``time`` and a ``freq`` axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from omnijepa.errors import ConfigError, DataError
from omnijepa.nn.tokens import TOKENIZERS, Axis, Tokenizer


@dataclass
class FrontEndConfig:
    """Waveform -> log-mel settings (``data.front_end.*``); defaults: 16 kHz, 25 ms / 10 ms,
    64 mel bands from 20 Hz to the Nyquist frequency."""

    sample_rate: int = 16000
    n_fft: int = 400  # window length in samples (25 ms at 16 kHz)
    hop: int = 160  # 10 ms at 16 kHz
    n_mels: int = 64
    fmin: float = 20.0
    fmax: float = 0.0  # 0 = sample_rate / 2

    def __post_init__(self) -> None:
        if self.sample_rate < 1000 or self.n_fft < 16 or not 1 <= self.hop <= self.n_fft:
            raise ConfigError(
                "front end needs sample_rate >= 1000, n_fft >= 16 and 1 <= hop <= n_fft, got "
                f"{self.sample_rate}, {self.n_fft}, {self.hop}"
            )
        top = self.fmax or self.sample_rate / 2
        if not 0 <= self.fmin < top <= self.sample_rate / 2 or self.n_mels < 2:
            raise ConfigError(
                f"front end needs 0 <= fmin < fmax <= sample_rate/2 and n_mels >= 2, got "
                f"fmin {self.fmin}, fmax {top}, n_mels {self.n_mels}"
            )

    @property
    def top(self) -> float:
        return self.fmax or self.sample_rate / 2

    def frames(self, samples: int) -> int:
        """Frames of a clip of ``samples`` samples (centred windows: 1 + samples // hop)."""
        return 1 + samples // self.hop


def hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
    """HTK mel scale: 2595 log10(1 + f / 700)."""
    return 2595.0 * torch.log10(1.0 + hz / 700.0)


def mel_to_hz(mel: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


@lru_cache(maxsize=16)
def mel_filterbank(
    n_mels: int, n_fft: int, sample_rate: int, fmin: float, fmax: float
) -> torch.Tensor:
    """(n_mels, n_fft // 2 + 1) triangular filters, equally spaced on the mel scale, each
    peaking at 1 on its centre frequency."""
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    edges = mel_to_hz(
        torch.linspace(
            float(hz_to_mel(torch.tensor(fmin))), float(hz_to_mel(torch.tensor(fmax))), n_mels + 2
        ).double()
    )
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None] - lo) / (mid - lo)
    down = (hi - freqs[None]) / (hi - mid)
    return torch.clamp(torch.minimum(up, down), min=0.0).float()


def log_mel(wave: torch.Tensor, cfg: FrontEndConfig) -> torch.Tensor:
    """Waveform ``(L,)`` or ``(B, L)`` at ``cfg.sample_rate`` -> log-mel ``(..., T, n_mels)``
    with ``T = 1 + L // hop``."""
    if wave.dim() not in (1, 2) or wave.shape[-1] < 2:
        raise DataError(f"waveform of shape {tuple(wave.shape)}: expected (L,) or (B, L), L >= 2")
    x = wave.float()
    pad_mode = "reflect" if x.shape[-1] > cfg.n_fft // 2 else "constant"
    spec = torch.stft(
        x,
        cfg.n_fft,
        cfg.hop,
        window=torch.hann_window(cfg.n_fft, device=x.device),
        center=True,
        pad_mode=pad_mode,
        return_complex=True,
    )
    power = spec.real.square() + spec.imag.square()  # (..., n_fft//2+1, T)
    bank = mel_filterbank(cfg.n_mels, cfg.n_fft, cfg.sample_rate, cfg.fmin, cfg.top)
    mel = torch.einsum("mf,...ft->...tm", bank.to(x.device), power)
    return torch.log(mel + 1e-6)


def pad_frames(spec: torch.Tensor, frames: int) -> torch.Tensor:
    """``(T, F)`` -> ``(frames, F)`` with NaN frames after the end (the padding the tokenizer
    reads); a longer spectrogram is an error (crop before)."""
    t, f = spec.shape
    if t > frames:
        raise DataError(f"spectrogram has {t} frames, more than the {frames} allowed")
    out = spec.new_full((frames, f), math.nan)
    out[:t] = spec
    return out


@TOKENIZERS.register("spectrogram_patch")
class SpectrogramTokenizer(Tokenizer):
    """``(B, T, F)`` -> ``(B, (T // pt) * (F // pf), dim)``: each patch flattened and linearly
    embedded; coordinates ``(time patch, freq patch)``."""

    def __init__(self, frames: int, n_mels: int, patch_time: int, patch_freq: int, dim: int):
        super().__init__()
        if patch_time < 1 or patch_freq < 1 or frames % patch_time or n_mels % patch_freq:
            raise ConfigError(
                f"spectrogram of {frames} frames x {n_mels} bands cannot be cut into "
                f"{patch_time} x {patch_freq} patches (model.patch_time x model.patch_freq): "
                "both must divide exactly"
            )
        self.frames, self.n_mels, self.dim = frames, n_mels, dim
        self.pt, self.pf = patch_time, patch_freq
        self.grid = (frames // patch_time, n_mels // patch_freq)
        self.axes = (Axis("time", "time", self.grid[0]), Axis("freq", "grid", self.grid[1]))
        self.proj = nn.Linear(patch_time * patch_freq, dim)
        self._coords: dict[tuple, torch.Tensor] = {}

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, pt * pf) patches of ``x`` in row-major (time, freq) order."""
        if x.dim() != 3 or tuple(x.shape[1:]) != (self.frames, self.n_mels):
            raise DataError(
                f"spectrogram batch of shape {tuple(x.shape)} does not fit the tokenizer: "
                f"expected (B, {self.frames}, {self.n_mels})"
            )
        b = x.shape[0]
        nt, nf = self.grid
        p = x.reshape(b, nt, self.pt, nf, self.pf).permute(0, 1, 3, 2, 4)
        return p.reshape(b, nt * nf, self.pt * self.pf)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = torch.nan_to_num(self.patches(x), nan=0.0)
        return self.proj(p.to(self.proj.weight.dtype))

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2) (time patch, freq patch) of every token, one tensor per device."""
        key = (x.device,)
        if key not in self._coords:
            t, f = torch.meshgrid(
                torch.arange(self.grid[0], device=x.device),
                torch.arange(self.grid[1], device=x.device),
                indexing="ij",
            )
            self._coords[key] = torch.stack([t, f], dim=-1).reshape(-1, 2).float()
        return self._coords[key]

    def padding(self, x: torch.Tensor) -> torch.Tensor | None:
        """(B, N) True where a patch is all NaN (past the end of its clip)."""
        return torch.isnan(self.patches(x)).all(dim=-1)
