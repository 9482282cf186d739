"""Attentive probe (V-JEPA's evaluation): one learned query cross-attends to an encoder's
frozen tokens, then a linear classifier. Reads information spread over patch tokens that
average pooling dilutes (Efficient Probing, arXiv 2506.10178)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

MIN_STEPS = 300  # optimizer steps of the pooler, however small the split


class AttentivePooler(nn.Module):
    """Single-query multi-head cross-attention over (B, N, D) tokens -> (B, D) -> logits."""

    def __init__(self, dim: int, classes: int, heads: int = 4) -> None:
        super().__init__()
        heads = heads if dim % heads == 0 else 1
        self.norm = nn.LayerNorm(dim)
        self.query = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of (B, N, D) tokens; ``padding`` (B, N), True where a sample has no token,
        keeps the query off those places."""
        x = self.norm(tokens)
        query = self.query.expand(x.shape[0], -1, -1)
        pooled, _ = self.attn(query, x, x, key_padding_mask=padding, need_weights=False)
        return self.head(pooled[:, 0])


def attentive_probe_accuracy(
    train_tokens: np.ndarray,
    y_train: np.ndarray,
    test_tokens: np.ndarray,
    y_test: np.ndarray,
    epochs: int = 30,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
    train_pad: np.ndarray | None = None,
    test_pad: np.ndarray | None = None,
) -> float:
    """Train the pooler on frozen train tokens (labelled rows only); test accuracy. A small
    split gets more epochs, so the pooler takes at least ``MIN_STEPS`` optimizer steps (30
    epochs of one batch left it at one class for every encoder alike). ``*_pad`` (n, N),
    True where a shorter sample has no token, keeps those places out of the statistics and
    out of the attention."""
    torch.manual_seed(seed)
    keep, keep_t = y_train >= 0, y_test >= 0
    xt = torch.as_tensor(train_tokens[keep], dtype=torch.float32)
    yt = torch.as_tensor(y_train[keep], dtype=torch.long)
    pt = _padding(train_pad, keep, xt.shape[:2])
    real = xt[~pt]  # (tokens, D): every real token of the labelled rows
    mean, std = real.mean(dim=0), real.std(dim=0).clamp_min(1e-6)
    xt = ((xt - mean) / std).masked_fill(pt.unsqueeze(-1), 0.0)
    probe = AttentivePooler(xt.shape[-1], int(yt.max()) + 1)
    opt = torch.optim.AdamW(probe.parameters(), lr=lr, weight_decay=0.05)
    per_epoch = max(1, -(-len(yt) // batch_size))
    epochs = max(epochs, -(-MIN_STEPS // per_epoch))
    steps = epochs * per_epoch
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(yt), generator=gen).split(batch_size):
            loss = F.cross_entropy(probe(xt[idx], pt[idx]), yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    xs = (torch.as_tensor(test_tokens[keep_t], dtype=torch.float32) - mean) / std
    ps = _padding(test_pad, keep_t, xs.shape[:2])
    xs = xs.masked_fill(ps.unsqueeze(-1), 0.0)
    with torch.no_grad():
        pred = torch.cat([probe(b, m).argmax(-1) for b, m in zip(xs.split(512), ps.split(512))])
    return float((pred.numpy() == y_test[keep_t]).mean())


def _padding(pad: np.ndarray | None, keep: np.ndarray, shape: torch.Size) -> torch.Tensor:
    """The kept rows' padding mask as a bool tensor (all False when none was given)."""
    if pad is None:
        return torch.zeros(tuple(shape), dtype=torch.bool)
    return torch.as_tensor(np.asarray(pad)[keep], dtype=torch.bool)
