"""3D-JEPA's context-aware decoder: the encoder's context is re-fed at every decoder layer.

In the I-JEPA predictor the context tokens are updated layer by layer alongside the mask
tokens. Here each layer attends over ``[context, queries]`` where ``context`` is always the
(projected) *encoder* output, and only the query slots are carried to the next layer, so every
layer sees the context afresh ("feeds the context information to the decoder continuously",
Hu et al. 2024). Same parameters, initialisation and call signature as
:class:`omnijepa.nn.predictor.MaskTokenPredictor`; only the forward pass differs.
"""

from __future__ import annotations

import torch

from omnijepa.nn.predictor import MaskTokenPredictor
from omnijepa.nn.transformer import key_padding_mask


class ContextAwareDecoder(MaskTokenPredictor):
    """Mask-token queries that attend to the re-injected encoder context at every layer."""

    def forward(
        self,
        z_ctx: torch.Tensor,
        coords: torch.Tensor,
        context: torch.Tensor,
        targets: torch.Tensor,
        ctx_padding: torch.Tensor | None = None,
        tgt_padding: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """z_ctx (B, Nc, E), coords (N, A) or (B, N, A), context (B, Nc), targets (B, M, Nt)
        -> (B, M, Nt, E); padded tokens (True in the paddings) are masked as keys."""
        ctx, q = self.sequences(z_ctx, coords, context, targets)
        b, m, nt = targets.shape
        nc = ctx.shape[1]
        mask = key_padding_mask(self.sequence_padding(ctx_padding, tgt_padding, targets))
        for block in self.stack.blocks:
            q = block(torch.cat([ctx, q], dim=1), mask)[:, nc:]
        return self.out_proj(self.stack.norm(q)).view(b, m, nt, -1)
