"""``train.compile``: torch.compile on every repeated block of the objective.

Only the blocks (``CheckpointableBlock.block_forward``: attention + MLP with their norms and
residual adds) are compiled, not the whole objective: mask sampling changes the number of
context and target tokens from batch to batch, and the code around the blocks (gathers,
losses, EMA) gains nothing from fusion. ``dynamic=True`` keeps one graph for every sequence
length. The parameters and state-dict keys are untouched, so checkpoints move freely between
compiled and eager runs.
"""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.train.sharding import blocks


def compile_blocks(module: nn.Module) -> int:
    """Replace every block's ``block_forward`` with its compiled version; returns how many."""
    found = [b for b in blocks(module) if hasattr(b, "block_forward")]
    for block in found:
        block.block_forward = torch.compile(block.block_forward, dynamic=True)
    return len(found)


__all__ = ["compile_blocks"]
