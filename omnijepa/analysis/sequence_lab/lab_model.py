"""Token model for the lab: embedding -> any registered sequence backbone -> linear read-out.

The same wrapper serves the causal copy models (next-token read-out) and the encoder-only
arithmetic models (a label per position); only ``causal`` and the read-out size differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from omnijepa.nn.sequence_backbones import build_sequence_backbone


@dataclass
class BackboneSpec:
    """One model of a comparison: a display name, a registered backbone and its options."""

    label: str
    backbone: str
    options: dict[str, Any] = field(default_factory=dict)


class TokenSequenceModel(nn.Module):
    """``tokens (B, T) -> logits (B, T, out_size)`` through a named sequence backbone."""

    def __init__(
        self,
        vocab_size: int,
        out_size: int,
        spec: BackboneSpec,
        dim: int,
        depth: int,
        heads: int,
        causal: bool,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.embed = nn.Embedding(vocab_size, dim)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.backbone = build_sequence_backbone(
            spec.backbone, dim=dim, depth=depth, heads=heads, causal=causal, **spec.options
        )
        self.head = nn.Linear(dim, out_size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(self.embed(tokens)))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
