"""Token encoder: tokenizer -> + positional encoding of coordinates -> (keep subset) -> blocks.

Padding (``tokenizer.padding(x)``, True at padded tokens) travels with the kept tokens and
becomes the attention key mask, so a padded batch gives each sample the outputs it gets alone.
"""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.nn.positional import CachedPositions, build_positional, gather_tokens
from omnijepa.nn.tokens import Axis, Tokenizer
from omnijepa.nn.transformer import TransformerStack, key_padding_mask


class TokenEncoder(nn.Module):
    """Encodes any modality whose tokenizer yields ``(B, N, D)`` tokens and ``(N, A)`` coords.

    ``keep`` (B, K) selects the visible tokens (the context); positions are added before the
    selection so each kept token still knows where it sits. An optional ``prefix`` module
    (with ``prepend``/``strip``, e.g. T-JEPA's regularization tokens) adds tokens after the
    selection, so they are never masked; they attend with the others and are stripped from
    the output, which therefore always lines up with the kept tokens.
    """

    def __init__(
        self,
        tokenizer: Tokenizer,
        depth: int,
        heads: int,
        mlp_ratio: float = 4.0,
        pos: str = "sincos",
        prefix: nn.Module | None = None,
        backbone: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(tokenizer, Tokenizer):
            raise TypeError(f"{type(tokenizer).__name__} does not implement nn.tokens.Tokenizer")
        if backbone is not None and prefix is not None:
            raise ValueError("a prefix module cannot be combined with a sequence backbone")
        self.tokenizer = tokenizer
        self.prefix = prefix
        self.dim = tokenizer.dim
        self.pos = build_positional(pos, self.dim, tokenizer.axes)
        self.positions = CachedPositions(self.pos)
        self.sequence_backbone = backbone is not None
        self.stack = (
            backbone
            if backbone is not None
            else TransformerStack(self.dim, depth, heads, mlp_ratio)
        )

    @property
    def axes(self) -> tuple[Axis, ...]:
        """The tokenizer's coordinate axes (what a predictor's positional encoding is built
        from)."""
        return self.tokenizer.axes

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """Token coordinates of input ``x``: (N, A) shared by the batch, or (B, N, A) when the
        tokenizer's coordinates come from the data (e.g. point-cloud patch centres)."""
        return self.tokenizer.coords(x)

    def padding(self, x: torch.Tensor) -> torch.Tensor | None:
        """(B, N) bool, True at padded tokens of ``x``; None when the batch has no padding."""
        return self.tokenizer.padding(x)

    def forward(
        self,
        x: torch.Tensor,
        keep: torch.Tensor | None = None,
        layers: int = 1,
        positions: bool = True,
        barred: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``(B, N or K, D)`` outputs; ``layers=k`` concatenates the last k blocks' outputs
        (``(…, k·D)``, for frozen-feature probes; transformer stacks only). Outputs at padded
        tokens are defined but meaningless: pool and score with ``padding``. ``barred`` (B, N),
        True = that token is no attention key in any layer but still attends and is output
        (A-JEPA's regularized masking during fine-tuning)."""
        if layers > 1 and self.sequence_backbone:
            raise ValueError("features from several layers need the transformer stack")
        early = keep is not None and self.tokenizer.per_token_input
        if early:  # the hidden tokens are never computed
            x = gather_tokens(x, keep)
            barred = None if barred is None else torch.gather(barred, 1, keep)
        tokens = self.tokenizer(x)
        if positions:
            coords = self.coords(x).to(tokens.device)
            tokens = tokens + self.positions(coords).to(tokens.dtype)
        pad = self.padding(x)
        if barred is not None:  # only the attention keys: the barred tokens stay in the output
            pad = barred if pad is None else pad | barred
        if keep is not None and not early:
            tokens = gather_tokens(tokens, keep)
            pad = None if pad is None else torch.gather(pad, 1, keep)
        if self.sequence_backbone:  # positions = the kept tokens' flat (raster) indices
            if pad is not None:
                raise ValueError("sequence backbones do not take padded (variable-length) batches")
            n = tokens.shape[1]
            positions = keep if keep is not None else torch.arange(n, device=tokens.device)
            return self.stack(tokens, positions)
        if self.prefix is None:
            return self.stack(tokens, key_padding_mask(pad), layers=layers)
        if pad is not None:  # prefix tokens are never padding
            pad = torch.cat([pad.new_zeros(pad.shape[0], self.prefix.n), pad], dim=1)
        tokens = self.prefix.prepend(tokens)
        return self.prefix.strip(self.stack(tokens, key_padding_mask(pad), layers=layers))
