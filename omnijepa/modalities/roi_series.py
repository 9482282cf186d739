"""Region x time-patch tokens for ROI time series (fMRI parcels, or any fixed set of sensors).

A sample is ``(R, T)``: R regions of interest, T time points. Each region's series is cut into
``T // patch`` patches and each patch embedded by one linear map shared by all regions
(Brain-JEPA's ``Conv2d`` with kernel and stride ``(1, patch)``); tokens are region-major.
Coordinates, shared by the batch:

- ``positions`` given (``(R, m)``, e.g. connectivity gradients): ``m`` continuous axes and a
  time axis, for an encoding that maps them (``pos=linear_sincos``: a learned linear map of the
  region's vector beside a fixed sin-cos of time, as Brain-JEPA does; or ``pos=mlp``);
- ``positions=None``: the region's index and the patch index on a grid (``pos=learned`` for a
  learned table per region, ``pos=sincos`` for sin-cos of the index).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn

from omnijepa.errors import ConfigError, DataError
from omnijepa.nn.tokens import TOKENIZERS, Axis, Tokenizer


@TOKENIZERS.register("roi_time_patch")
class ROIPatchTokenizer(Tokenizer):
    """``(B, R, T)`` series -> ``(B, R * (T // patch), dim)`` tokens."""

    def __init__(
        self, regions: int, length: int, patch: int, dim: int, positions: np.ndarray | None
    ) -> None:
        super().__init__()
        if regions < 1 or patch < 1 or length < patch:
            raise ConfigError(
                f"ROI tokens need regions >= 1 and series of >= one patch ({patch} points); "
                f"got {regions} regions x {length}"
            )
        self.regions, self.patch, self.dim = regions, patch, dim
        self.patches = length // patch
        self.length = self.patches * patch
        if self.length < length:
            warnings.warn(
                f"series of {length} points make {self.patches} patch"
                f"{'es' if self.patches != 1 else ''} of {patch} "
                f"(model.patch): the last {length - self.length} points of each are left out",
                stacklevel=2,
            )
        self.grid = (regions, self.patches)
        self.proj = nn.Linear(patch, dim)
        if positions is None:
            self.axes = (Axis("region", "grid", regions), Axis("patch", "grid", self.patches))
            table = torch.arange(regions, dtype=torch.float32)[:, None]
        else:
            pos = torch.as_tensor(np.asarray(positions), dtype=torch.float32)
            if pos.shape[0] != regions or pos.dim() != 2:
                raise ConfigError(f"positions {tuple(pos.shape)} do not fit {regions} regions")
            m = pos.shape[1]
            self.axes = (*(Axis(f"g{i}", "continuous") for i in range(m)),
                         Axis("patch", "time", self.patches))  # fmt: skip
            table = pos
        k = torch.arange(self.patches, dtype=torch.float32)
        coords = torch.cat([table.repeat_interleave(self.patches, 0),
                            k.repeat(regions)[:, None]], dim=1)  # fmt: skip
        self.register_buffer("_coords", coords, persistent=False)

    def _check(self, x: torch.Tensor) -> None:
        if x.dim() != 3 or x.shape[1] != self.regions or x.shape[2] < self.length:
            raise DataError(
                f"ROI batch of shape {tuple(x.shape)} does not fit the tokenizer: expected "
                f"(B, {self.regions}, >= {self.length})"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check(x)
        b = x.shape[0]
        patches = x[..., : self.length].reshape(b, self.regions * self.patches, self.patch)
        return self.proj(patches.to(self.proj.weight.dtype))

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """(R * P, A): the region's vector (or index) and the patch index."""
        return self._coords


__all__ = ["ROIPatchTokenizer"]
