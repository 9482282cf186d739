"""EEG tokens: one token per channel per time window, at the electrode's 3-D position and time.

S-JEPA (Guetschel et al. 2024) makes one token per channel and window and gives each token
the position of its electrode, so a model can serve a montage it was not trained on. Here
electrode positions come from an MNE standard montage by channel name (``electrode_positions``)
or from the user; they are in units of about one head radius (the montage's metres / 0.1).

A recording is packed into one tensor so that recordings with *different channel sets* batch
together (``pack_recording``): a ``(max_channels, 3 + T)`` array whose row c holds channel c's
``(x, y, z)`` then its T samples; absent channels are NaN rows and samples after the end of a
shorter recording are NaN. A batch is ``(B, max_channels, 3 + T)``; token ``c * W + k`` is
window k of channel c (W = T // window), with coordinates ``(x, y, z, k)``; a token is padding
when its channel is absent or its window is all NaN. The embedding is one linear map of a
window, shared by every channel (S-JEPA's per-channel convolution, reduced to its simplest).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from omnijepa.errors import ConfigError, DataError
from omnijepa.nn.tokens import TOKENIZERS, Axis, Tokenizer

HEAD_SCALE = 0.1  # metres per coordinate unit: positions come out about one head radius
POSITION_COLUMNS = 3  # a packed recording is (channels, 3 + samples): the electrode's x, y, z first


@lru_cache(maxsize=8)
def _montage(name: str) -> dict[str, np.ndarray]:
    import warnings

    import mne

    known = mne.channels.get_builtin_montages()
    if name == "auto":  # MNE renamed its standard 10-05 montage; take whichever it ships
        name = next((n for n in ("colin27_1005", "standard_1005") if n in known), known[0])
    if name not in known:
        raise ConfigError(f"unknown montage {name!r}; MNE ships: {', '.join(known)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        pos = mne.channels.make_standard_montage(name).get_positions()["ch_pos"]
    return {k.lower(): np.asarray(v, dtype=np.float64) for k, v in pos.items()}


def montage_names(montage: str) -> tuple[str, ...]:
    """The electrode names of ``montage`` in its own order, lower case."""
    return tuple(_montage(montage))


def known_electrode(name: str, montage: str = "auto") -> bool:
    """Whether ``montage`` places an electrode called ``name`` (case-insensitive)."""
    return name.lower() in _montage(montage)


def electrode_positions(names: Sequence[str], montage: str = "auto") -> np.ndarray:
    """``(C, 3)`` positions of the electrodes ``names`` (case-insensitive) in ``montage``
    (an MNE built-in montage; ``auto`` = its standard 10-05 system), about one head radius in
    size; unknown names are one error listing them."""
    table = _montage(montage)
    missing = [n for n in names if n.lower() not in table]
    if missing:
        raise DataError(
            f"channel name(s) {', '.join(missing[:8])} not found in montage {montage!r}; "
            "rename the channels, choose data.montage, or leave them out with "
            "data.unknown_channels=drop"
        )
    return np.stack([table[n.lower()] for n in names]) / HEAD_SCALE


def pack_recording(
    signals: np.ndarray | torch.Tensor, positions: np.ndarray, max_channels: int, length: int
) -> torch.Tensor:
    """``(C, T_i)`` samples and ``(C, 3)`` positions -> ``(max_channels, 3 + length)`` float32,
    NaN where a channel is absent or the recording has ended."""
    x = torch.as_tensor(np.asarray(signals), dtype=torch.float32)
    if x.dim() != 2 or positions.shape != (x.shape[0], 3):
        raise DataError(
            f"recording of shape {tuple(x.shape)} with positions {positions.shape}: expected "
            "(channels, time) and (channels, 3)"
        )
    c, t = x.shape
    if c > max_channels or t > length:
        raise DataError(
            f"recording has {c} channels x {t} samples, more than {max_channels} x {length}"
        )
    if not torch.isfinite(x).all():
        raise DataError("recording holds NaN or infinite samples")
    p = POSITION_COLUMNS
    out = torch.full((max_channels, p + length), float("nan"))
    out[:c, :p] = torch.as_tensor(positions, dtype=torch.float32)
    out[:c, p : p + t] = x
    return out


@TOKENIZERS.register("eeg_channel_window")
class EEGChannelTokenizer(Tokenizer):
    """``(B, C, 3 + T)`` packed recordings -> ``(B, C * (T // window), dim)`` tokens."""

    shared_coords = False

    def __init__(self, channels: int, length: int, window: int, dim: int) -> None:
        super().__init__()
        if window < 1 or length % window or channels < 1:
            raise ConfigError(
                f"EEG tokens need channels >= 1 and windows of {window} samples dividing the "
                f"length {length}"
            )
        self.channels, self.length, self.window, self.dim = channels, length, window, dim
        self.windows = length // window
        self.grid = (channels, self.windows)
        spatial = [Axis(n, "continuous", None) for n in ("x", "y", "z")]
        self.axes = (*spatial, Axis("time", "time", self.windows))
        self.proj = nn.Linear(window, dim)

    def _split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Positions (B, C, 3) and windows (B, C * W, window) of a packed batch."""
        if x.dim() != 3 or tuple(x.shape[1:]) != (self.channels, 3 + self.length):
            raise DataError(
                f"EEG batch of shape {tuple(x.shape)} does not fit the tokenizer: expected "
                f"(B, {self.channels}, {3 + self.length}) (positions then samples per channel)"
            )
        b = x.shape[0]
        p = POSITION_COLUMNS
        return x[..., :p], x[..., p:].reshape(b, self.channels * self.windows, self.window)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._split(x)  # shape check
        b = x.shape[0]
        signals = x[..., POSITION_COLUMNS:]
        return self.embed_signals(signals).reshape(b, self.channels * self.windows, self.dim)

    def embed_signals(self, signals: torch.Tensor) -> torch.Tensor:
        """(B, C', length) samples of any C' channels (NaN = absent) -> (B, C', W, dim): the
        local encoder alone, e.g. on the virtual channels of a spatial filter."""
        b, c = signals.shape[:2]
        windows = torch.nan_to_num(signals, nan=0.0).reshape(b, c, self.windows, self.window)
        return self.proj(windows.to(self.proj.weight.dtype))

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C * W, 4): the electrode's (x, y, z) and the window index; absent channels at 0."""
        pos, _ = self._split(x)
        b = x.shape[0]
        pos = torch.nan_to_num(pos, nan=0.0).repeat_interleave(self.windows, dim=1)
        k = torch.arange(self.windows, device=x.device, dtype=pos.dtype).repeat(self.channels)
        return torch.cat([pos, k.view(1, -1, 1).expand(b, -1, 1)], dim=-1)

    def padding(self, x: torch.Tensor) -> torch.Tensor | None:
        """(B, C * W): True at absent channels and at windows past a recording's end."""
        pos, windows = self._split(x)
        absent = torch.isnan(pos).any(-1).repeat_interleave(self.windows, dim=1)
        return absent | torch.isnan(windows).all(-1)


@TOKENIZERS.register("eeg_channel_conv")
class EEGChannelConvTokenizer(EEGChannelTokenizer):
    """S-JEPA's local encoder: per channel, log2(window) convolutions of stride 2 (kernel 4,
    widths 8, 16, ... up to ``dim``), GELU after each but the last; one ``dim``-vector per
    window of ``window`` samples (a power of two). Unlike the paper's, no GroupNorm: it
    normalises each channel's signal and so erases the power differences between channels."""

    def __init__(self, channels: int, length: int, window: int, dim: int) -> None:
        super().__init__(channels, length, window, dim)
        layers = window.bit_length() - 1
        if window != 2**layers or layers < 1:
            raise ConfigError(f"model.local=conv needs a power-of-2 model.window, not {window}")
        widths = [1] + [min(8 * 2**i, dim) for i in range(layers - 1)] + [dim]
        convs: list[nn.Module] = []
        for i in range(layers):
            conv = nn.Conv1d(widths[i], widths[i + 1], 4, stride=2, padding=1, bias=False)
            last = i == layers - 1
            # variance-preserving init: a token's scale follows the signal's, so relative power
            # between channels (what lateralisation is) survives, as no norm layer would let it
            nn.init.kaiming_normal_(conv.weight, nonlinearity="linear" if last else "relu")
            convs += [conv] if last else [conv, nn.GELU()]
        self.proj = nn.Sequential(*convs)

    def embed_signals(self, signals: torch.Tensor) -> torch.Tensor:
        b, c = signals.shape[:2]
        flat = torch.nan_to_num(signals, nan=0.0).reshape(b * c, 1, self.length)
        tokens = self.proj(flat.to(self.proj[0].weight.dtype))  # (B * C', dim, W)
        return tokens.transpose(1, 2).reshape(b, c, self.windows, self.dim)
