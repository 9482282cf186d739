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


class ContextAwareDecoder(MaskTokenPredictor):
    """Mask-token queries that attend to the re-injected encoder context at every layer."""

    def blocks(
        self, ctx: torch.Tensor, queries: torch.Tensor, mask: torch.Tensor | None
    ) -> torch.Tensor:
        """Each layer attends over ``[encoder context, queries]``; only the queries carry on."""
        nc = ctx.shape[1]
        for block in self.stack.blocks:
            queries = block(torch.cat([ctx, queries], dim=1), mask)[:, nc:]
        return self.stack.norm(queries)
