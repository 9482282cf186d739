"""Token encoder: tokenizer -> + positional encoding of coordinates -> (keep subset) -> blocks."""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.nn.positional import build_positional, gather_tokens
from omnijepa.nn.transformer import TransformerStack


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
        tokenizer: nn.Module,
        depth: int,
        heads: int,
        mlp_ratio: float = 4.0,
        pos: str = "sincos",
        prefix: nn.Module | None = None,
        backbone: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if backbone is not None and prefix is not None:
            raise ValueError("a prefix module cannot be combined with a sequence backbone")
        self.tokenizer = tokenizer
        self.prefix = prefix
        self.dim = tokenizer.dim
        self.pos = build_positional(pos, self.dim, tuple(getattr(tokenizer, "axis_sizes", ())))
        self.sequence_backbone = backbone is not None
        self.stack = (
            backbone
            if backbone is not None
            else TransformerStack(self.dim, depth, heads, mlp_ratio)
        )

    def coords(self, x: torch.Tensor) -> torch.Tensor:
        """Token coordinates of input ``x``: (N, A) shared by the batch, or (B, N, A) when the
        tokenizer has per-sample coordinates (``coords_from``, e.g. point-cloud patch centres).
        """
        if hasattr(self.tokenizer, "coords_from"):
            return self.tokenizer.coords_from(x)
        return self.tokenizer.coords(x.shape[1:]).to(x.device)

    def forward(
        self, x: torch.Tensor, keep: torch.Tensor | None = None, layers: int = 1
    ) -> torch.Tensor:
        """``(B, N or K, D)`` outputs; ``layers=k`` concatenates the last k blocks' outputs
        (``(…, k·D)``, for frozen-feature probes; transformer stacks only)."""
        if layers > 1 and self.sequence_backbone:
            raise ValueError("features from several layers need the transformer stack")
        tokens = self.tokenizer(x)
        coords = self.coords(x).to(tokens.device)
        tokens = tokens + self.pos(coords).to(tokens.dtype)
        if keep is not None:
            tokens = gather_tokens(tokens, keep)
        if self.sequence_backbone:  # positions = the kept tokens' flat (raster) indices
            n = tokens.shape[1]
            positions = keep if keep is not None else torch.arange(n, device=tokens.device)
            return self.stack(tokens, positions)
        if self.prefix is None:
            return self.stack(tokens, layers=layers)
        return self.prefix.strip(self.stack(self.prefix.prepend(tokens), layers=layers))
