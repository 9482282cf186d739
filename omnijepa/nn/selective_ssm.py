"""Mamba (S6 selective state-space) sequence backbone in pure PyTorch, built on ``mambapy``.

The scan runs either in parallel (``mambapy``'s Blelloch ``pscan``, which pads non-power-of-two
lengths internally) or sequentially (a Python loop over time); both give the same numbers up
to float rounding, and :meth:`MambaBackbone.step_sequence` runs the one-token recurrent step
for checking that the parallel form equals the recurrence.
"""

from __future__ import annotations

from typing import Any

import torch
from mambapy.mamba import Mamba, MambaConfig
from torch import nn

from omnijepa.errors import ConfigError

MODES = ("parallel", "sequential")


class MambaBackbone(nn.Module):
    """A stack of Mamba residual blocks with a final LayerNorm; maps (B, N, D) to (B, N, D).

    ``causal=True``: one stack reads tokens left to right. ``causal=False``: a second stack
    reads the flipped sequence; its output is flipped back, concatenated with the forward
    stack's output and projected back to ``dim`` by a Linear. ``heads`` is accepted for
    interface uniformity and ignored; ``positions`` is ignored (tokens are read in order).
    """

    def __init__(
        self,
        dim: int,
        depth: int,
        heads: int = 4,
        causal: bool = True,
        d_state: int = 16,
        expand: int = 2,
        d_conv: int = 4,
        mode: str = "parallel",
        **unknown: Any,
    ) -> None:
        super().__init__()
        if unknown:
            raise ConfigError(
                f"unknown mamba option(s) {sorted(unknown)}; valid: d_state, expand, d_conv, mode"
            )
        for name, value in (("dim", dim), ("depth", depth), ("d_state", d_state)):
            if value < 1:
                raise ConfigError(f"mamba {name} must be >= 1, got {value}")
        if expand < 1 or d_conv < 1:
            raise ConfigError(f"mamba expand and d_conv must be >= 1, got {expand}, {d_conv}")
        del heads
        self.dim = dim
        self.causal = causal
        self.forward_stack = Mamba(self._config(dim, depth, d_state, expand, d_conv))
        self.backward_stack: Mamba | None = None
        self.merge: nn.Linear | None = None
        if not causal:
            self.backward_stack = Mamba(self._config(dim, depth, d_state, expand, d_conv))
            self.merge = nn.Linear(2 * dim, dim)
        self.norm = nn.LayerNorm(dim)
        self.mode = "parallel"
        self.set_mode(mode)

    @staticmethod
    def _config(dim: int, depth: int, d_state: int, expand: int, d_conv: int) -> MambaConfig:
        return MambaConfig(
            d_model=dim, n_layers=depth, d_state=d_state, expand_factor=expand, d_conv=d_conv
        )

    def _stacks(self) -> list[Mamba]:
        return [s for s in (self.forward_stack, self.backward_stack) if s is not None]

    def set_mode(self, mode: str) -> None:
        """Switch the selective scan between ``"parallel"`` (pscan) and ``"sequential"``."""
        if mode not in MODES:
            raise ConfigError(f"unknown mamba mode {mode!r}; valid: {', '.join(MODES)}")
        self.mode = mode
        for stack in self._stacks():  # the stack's blocks share this config object
            stack.config.pscan = mode == "parallel"

    def forward(self, x: torch.Tensor, positions: torch.Tensor | None = None) -> torch.Tensor:
        """Encode ``x`` (B, N, D); ``positions`` is ignored."""
        del positions
        out = self.forward_stack(x)
        if self.backward_stack is not None and self.merge is not None:
            back = self.backward_stack(x.flip(1)).flip(1)
            out = self.merge(torch.cat([out, back], dim=-1))
        return self.norm(out)

    def step_sequence(self, x: torch.Tensor) -> torch.Tensor:
        """Run the one-token recurrent ``step`` over ``x`` (B, N, D); causal backbones only."""
        if not self.causal:
            raise ValueError("step_sequence needs a causal MambaBackbone")
        cfg = self.forward_stack.config
        caches: list[tuple[torch.Tensor | None, torch.Tensor]] = [
            (None, x.new_zeros(x.size(0), cfg.d_inner, cfg.d_conv - 1)) for _ in range(cfg.n_layers)
        ]
        outs = []
        for t in range(x.size(1)):
            y, caches = self.forward_stack.step(x[:, t], caches)
            outs.append(y)
        return self.norm(torch.stack(outs, dim=1))
