"""AdamW with I-JEPA's grouping: no weight decay on biases and other 1-D parameters."""

from __future__ import annotations

import torch
from torch import nn


def build_adamw(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW over trainable parameters; group 0 decays, group 1 (bias/norm/1-D) does not."""
    decay, no_decay = [], []
    for _, p in sorted(model.named_parameters(), key=lambda kv: kv[0]):
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": weight_decay, "decays": True},
        {"params": no_decay, "weight_decay": 0.0, "decays": False},
    ]
    return torch.optim.AdamW(groups, lr=lr)
