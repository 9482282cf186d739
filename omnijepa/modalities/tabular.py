"""Tabular tokenizer (one token per column, FT-Transformer style) and T-JEPA regularization tokens.

Token ``j`` is column ``j`` of the table (original column order), with coordinate ``j``, so
feature-subset masks index columns directly. Numerical column ``j`` becomes ``x_j * W_j + b_j``;
categorical column ``j`` becomes ``E_j[code] + b_j`` (its own embedding rows). A missing value
(NaN, either kind) becomes a learned per-column ``missing_j`` vector instead: never a silent zero,
and NaN never reaches the output or the gradients.

Regularization tokens (T-JEPA, Thimonier et al. 2025; ``n_cls_tokens`` in jose-melo/t-jepa) are
learned constant vectors, identical for every row. In the official code they are an extra
"feature" whose input is the constant 1 times a learned weight row with zero bias, i.e. a learned
constant token, placed in front of the feature tokens and fed to both the context and the target
encoder. Here they are a separate module that the encoder prepends *after* the context selection,
so they are never masked out and never predicted (see :class:`RegularizationTokens`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from omnijepa.errors import ConfigError, DataError
from omnijepa.nn.tokens import TOKENIZERS, Tokenizer, grid_axes

__all__ = ["RegularizationTokens", "TabularTokenizer"]


def _uniform_(t: torch.Tensor, dim: int) -> None:
    """U(-1/sqrt(dim), 1/sqrt(dim)): what kaiming_uniform(a=sqrt(5)) gives a (n, dim) tensor."""
    bound = 1.0 / math.sqrt(dim)
    nn.init.uniform_(t, -bound, bound)


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@TOKENIZERS.register("tabular")
class TabularTokenizer(Tokenizer):
    """Embeds a float ``(B, F)`` table as ``(B, F, dim)`` tokens, one per column.

    ``categorical`` lists the column indices holding integer codes (stored as floats) and
    ``cardinalities`` their number of categories; every other column is numerical (expected
    standardised). NaN marks a missing value in any column.
    """

    def __init__(
        self, num_features: int, categorical: list[int], cardinalities: list[int], dim: int
    ) -> None:
        super().__init__()
        if not _is_int(num_features) or num_features < 1:
            raise ConfigError(
                f"TabularTokenizer.num_features must be an int >= 1, got {num_features!r}"
            )
        if not _is_int(dim) or dim < 1:
            raise ConfigError(f"TabularTokenizer.dim must be an int >= 1, got {dim!r}")
        categorical, cardinalities = list(categorical), list(cardinalities)
        if any(not _is_int(c) or not 0 <= c < num_features for c in categorical):
            raise ConfigError(
                f"TabularTokenizer.categorical must hold column indices in [0, {num_features}), "
                f"got {categorical!r}"
            )
        if len(set(categorical)) != len(categorical):
            raise ConfigError(f"TabularTokenizer.categorical has duplicates: {categorical!r}")
        if len(cardinalities) != len(categorical):
            raise ConfigError(
                f"TabularTokenizer.cardinalities needs one entry per categorical column "
                f"({len(categorical)}), got {len(cardinalities)}"
            )
        if any(not _is_int(c) or c < 1 for c in cardinalities):
            raise ConfigError(
                f"TabularTokenizer.cardinalities must be ints >= 1, got {cardinalities!r}"
            )
        self.num_features, self.dim = num_features, dim
        self.axes = grid_axes(("column",), (num_features,))
        self._coords: dict[torch.device, torch.Tensor] = {}
        order = sorted(range(len(categorical)), key=lambda i: categorical[i])
        self.categorical = [categorical[i] for i in order]
        self.cardinalities = [cardinalities[i] for i in order]
        cat_set = set(self.categorical)
        self.numerical = [j for j in range(num_features) if j not in cat_set]
        self.register_buffer("num_idx", torch.tensor(self.numerical, dtype=torch.long), False)
        self.register_buffer("cat_idx", torch.tensor(self.categorical, dtype=torch.long), False)
        self.register_buffer("cat_card", torch.tensor(self.cardinalities, dtype=torch.long), False)
        offsets = [0]
        for c in self.cardinalities[:-1]:
            offsets.append(offsets[-1] + c)
        self.register_buffer("cat_offset", torch.tensor(offsets, dtype=torch.long), False)

        self.weight = nn.Parameter(torch.empty(len(self.numerical), dim))
        self.bias = nn.Parameter(torch.empty(num_features, dim))
        self.missing = nn.Parameter(torch.empty(num_features, dim))
        # One table with per-column row offsets == one embedding table per categorical column.
        self.embedding = nn.Parameter(torch.empty(sum(self.cardinalities), dim))
        for p in (self.weight, self.bias, self.missing, self.embedding):
            _uniform_(p, dim)

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """(F, 1) float column index of every token (one tensor per device)."""
        self._check_shape(tuple(x.shape[1:]))
        if x.device not in self._coords:
            cols = torch.arange(self.num_features, dtype=torch.float32)[:, None]
            self._coords[x.device] = cols.to(x.device)
        return self._coords[x.device]

    def _check_shape(self, sample_shape: tuple[int, ...]) -> None:
        if len(sample_shape) != 1 or sample_shape[0] != self.num_features:
            raise DataError(
                f"tabular sample of shape {sample_shape} does not fit the tokenizer "
                f"({self.num_features} columns)"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2:
            raise DataError(f"tabular input must be (B, F), got shape {tuple(x.shape)}")
        self._check_shape(tuple(x.shape[1:]))
        if not torch.is_floating_point(x):
            x = x.float()
        b = x.shape[0]
        missing = torch.isnan(x)  # (B, F)
        tokens = x.new_zeros(b, self.num_features, self.dim, dtype=self.bias.dtype)
        if self.numerical:
            v = torch.nan_to_num(x[:, self.num_idx], nan=0.0).to(self.weight.dtype)
            tokens[:, self.num_idx] = v[..., None] * self.weight
        if self.categorical:
            codes = x[:, self.cat_idx]
            present = ~torch.isnan(codes)
            safe = torch.where(present, codes, torch.zeros_like(codes))
            bad = present & ((safe != safe.round()) | (safe < 0) | (safe >= self.cat_card))
            if bool(bad.any()):
                col = self.categorical[int(bad.any(0).nonzero()[0])]
                raise DataError(
                    f"column {col}: categorical codes must be integers in "
                    f"[0, {self.cardinalities[self.categorical.index(col)]}) or NaN"
                )
            rows = safe.long() + self.cat_offset
            tokens[:, self.cat_idx] = self.embedding[rows]
        tokens = tokens + self.bias
        return torch.where(missing[..., None], self.missing.expand_as(tokens), tokens)


class RegularizationTokens(nn.Module):
    """``n`` learned constant tokens (T-JEPA's regularization tokens; ``n=0`` is the ablation).

    Where they go: in front of the feature tokens, *after* the encoder's context selection
    (``keep``) and after positional encodings, in both the context and the target encoder, so
    they are never masked and carry no coordinate. Masks and targets index feature tokens
    only: strip them with :meth:`strip` before gathering target tokens or building a loss.
    The official code keeps them in the downstream representation (all ``n + F`` output
    tokens, flattened or per-token projected), so :meth:`strip` is optional there.
    """

    def __init__(self, n: int, dim: int) -> None:
        super().__init__()
        if not _is_int(n) or n < 0:
            raise ConfigError(f"model.reg_tokens must be an int >= 0, got {n!r}")
        if not _is_int(dim) or dim < 1:
            raise ConfigError(f"RegularizationTokens.dim must be an int >= 1, got {dim!r}")
        self.n, self.dim = n, dim
        self.tokens = nn.Parameter(torch.empty(n, dim))
        _uniform_(self.tokens, dim)

    def forward(self, batch_size: int) -> torch.Tensor:
        """The tokens repeated for a batch: ``(batch_size, n, dim)``."""
        return self.tokens.unsqueeze(0).expand(batch_size, -1, -1)

    def prepend(self, tokens: torch.Tensor) -> torch.Tensor:
        """``(B, K, dim)`` -> ``(B, n + K, dim)`` with the regularization tokens first."""
        if self.n == 0:
            return tokens
        reg = self(tokens.shape[0]).to(tokens.dtype)
        return torch.cat([reg, tokens], dim=1)

    def strip(self, tokens: torch.Tensor) -> torch.Tensor:
        """Drop the leading ``n`` tokens: ``(B, n + K, dim)`` -> ``(B, K, dim)``."""
        return tokens[:, self.n :]
