"""Time-series tokenizer: non-overlapping windows of a multichannel series, one token each.

A batch is ``(B, C, T)``; series shorter than ``T`` are padded at the end with NaN (see
``data.series_data.pad_series``), and a window whose values are all NaN is a padded token.
Token ``i`` is window ``i`` (samples ``i*w .. i*w + w - 1`` of every channel) with coordinate
``(i,)`` on a ``time`` axis, so positions, masks and padding work on the window index. The
worked example of "adding a modality" (README): this tokenizer, ``data/series_data.py`` and
``recipes/series_jepa.py`` are the whole of it.
"""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.errors import DataError
from omnijepa.nn.tokens import TOKENIZERS, Axis, Tokenizer


@TOKENIZERS.register("series_window")
class SeriesWindowTokenizer(Tokenizer):
    """``(B, C, T)`` -> ``(B, T // window, dim)``: each window flattened and linearly embedded.

    ``T`` must be a multiple of ``window`` (pad with NaN to the next multiple). Inside a real
    window NaN (the tail of a series that ends mid-window) is read as 0 and the window stays a
    real token; a window that is all NaN is padding.
    """

    def __init__(
        self, channels: int, window: int, dim: int, max_windows: int | None = None
    ) -> None:
        super().__init__()
        if window < 1 or channels < 1:
            raise DataError(
                f"series tokenizer needs channels >= 1 and window >= 1, got {channels}, {window}"
            )
        self.channels, self.window, self.dim = channels, window, dim
        self.axes = (Axis("time", "time", max_windows),)
        self.proj = nn.Linear(channels * window, dim)
        self._coords: dict[tuple, torch.Tensor] = {}

    def _windows(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, C * window) view of the windows of ``x``."""
        if x.dim() != 3 or x.shape[1] != self.channels or x.shape[2] % self.window:
            raise DataError(
                f"series batch of shape {tuple(x.shape)} does not fit the tokenizer: expected "
                f"(B, {self.channels}, T) with T a multiple of the window {self.window}"
            )
        b, c, t = x.shape
        n = t // self.window
        return x.reshape(b, c, n, self.window).permute(0, 2, 1, 3).reshape(b, n, c * self.window)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        windows = self._windows(x)
        return self.proj(torch.nan_to_num(windows, nan=0.0).to(self.proj.weight.dtype))

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1) window index, one tensor per length and device."""
        n = self._windows(x).shape[1]
        key = (n, x.device)
        if key not in self._coords:
            self._coords[key] = torch.arange(n, dtype=torch.float32, device=x.device)[:, None]
        return self._coords[key]

    def padding(self, x: torch.Tensor) -> torch.Tensor | None:
        """(B, N) True where a window is all NaN (past the end of its series)."""
        return torch.isnan(self._windows(x)).all(dim=-1)
