"""A predictor whose target queries cannot see one another: each target token is predicted
from the context and its own position only.

In the I-JEPA predictor the mask tokens of a block attend to each other, so a predictor can
read the *layout* of the targets (for point clouds, the target centres trace the hidden
surface) and lower its loss with no help from the context: the position-only diagnostic of
``objectives.latent_prediction`` measured exactly that (its loss within 1% of the real
predictor's). Here one sequence per sample holds ``[context, all M*Nt queries]`` under an
attention mask: context tokens attend to context only, and each query to the context and
itself. The context is then computed once for all M blocks (the I-JEPA predictor repeats it M
times), and a prediction no longer depends on which other tokens are targets. Same
parameters, initialisation and call signature as
:class:`omnijepa.nn.predictor.MaskTokenPredictor`.
"""

from __future__ import annotations

import torch

from omnijepa.nn.predictor import MaskTokenPredictor


def isolation_mask(
    nc: int, nq: int, key_padding: torch.Tensor | None, device: torch.device
) -> torch.Tensor:
    """SDPA boolean mask (True = may attend) over ``[nc context, nq queries]``: every token
    sees the (real) context tokens, and each query also itself. (1 or B, 1, L, L)."""
    n = nc + nq
    allowed = torch.eye(n, dtype=torch.bool, device=device)
    allowed[:, :nc] = True
    allowed = allowed[None, None]
    if key_padding is not None:
        allowed = allowed & ~key_padding[:, None, None, :]
        allowed = allowed | torch.eye(n, dtype=torch.bool, device=device)  # never an empty row
    return allowed


class IsolatedQueryPredictor(MaskTokenPredictor):
    """Mask-token queries that attend to the context and themselves, never to each other."""

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
        -> (B, M, Nt, E)."""
        b, m, nt = targets.shape
        ctx, queries = self.embed(z_ctx, coords, context, targets)
        nc = ctx.shape[1]
        padding = None
        if ctx_padding is not None or tgt_padding is not None:
            cp = (
                ctx_padding
                if ctx_padding is not None
                else context.new_zeros(b, nc, dtype=torch.bool)
            )
            tp = (
                tgt_padding
                if tgt_padding is not None
                else targets.new_zeros(b, m, nt, dtype=torch.bool)
            )
            padding = torch.cat([cp, tp.reshape(b, m * nt)], dim=1)
        mask = isolation_mask(nc, m * nt, padding, ctx.device)
        out = self.stack(torch.cat([ctx, queries], dim=1), mask, n_out=m * nt)[:, -m * nt :]
        return self.out_proj(out).view(b, m, nt, -1)
