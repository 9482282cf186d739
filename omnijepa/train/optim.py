"""AdamW with I-JEPA's grouping: no weight decay on biases and other 1-D parameters.

The fused kernel is used where torch has one for the parameters (plain tensors on CPU or
CUDA): one pass over each tensor instead of a dozen small ops per parameter. On a 2-core CPU
it takes a ViT-Tiny's AdamW step from about 115 ms to 19 ms; sharded (FSDP) parameters keep
the default implementation. The state it saves is the same either way.
"""

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
    params = decay + no_decay
    if fusable(params):
        try:
            return torch.optim.AdamW(groups, lr=lr, fused=True)
        except (RuntimeError, TypeError, ValueError):  # an older torch or an unsupported device
            pass
    return torch.optim.AdamW(groups, lr=lr)


def fusable(params: list[torch.Tensor]) -> bool:
    """True when every parameter is a plain floating-point tensor on CPU or CUDA (not a
    sharded DTensor), where torch's fused AdamW applies."""
    return bool(params) and all(
        type(p.detach()) is torch.Tensor
        and p.is_floating_point()
        and p.device.type in ("cpu", "cuda")
        for p in params
    )
