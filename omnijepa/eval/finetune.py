"""End-to-end fine-tuning of a pre-trained encoder with a classification head.

A copy of the encoder is trained with a head on pooled tokens (``pool``: any of
``eval.features.POOLS`` except ``tokens``), AdamW, label smoothing; test accuracy is returned.
``head="mlp"`` is Point-JEPA's (256 hidden, dropout 0.5), ``head="linear"`` A-JEPA's (mean
pool -> linear). ``key_drop`` is A-JEPA's *regularized masking*: in every training forward a
random share of each sample's real tokens is barred as attention keys in every layer (they
still attend and are pooled); evaluation uses plain attention.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from omnijepa.eval.features import POOLS

HEADS = {
    "mlp": lambda width, classes: nn.Sequential(
        nn.Linear(width, 256), nn.GELU(), nn.Dropout(0.5), nn.Linear(256, classes)
    ),
    "linear": lambda width, classes: nn.Linear(width, classes),
}


def barred_keys(padding: torch.Tensor | None, shape: tuple[int, int], share: float,
                gen: torch.Generator, device: torch.device) -> torch.Tensor:  # fmt: skip
    """(B, N) True on ``share`` of each sample's real tokens, never on all of them."""
    real = torch.ones(shape, dtype=torch.bool) if padding is None else ~padding.cpu()
    keys = torch.rand(shape, generator=gen).masked_fill(~real, 2.0)
    k = (real.sum(1).float() * share).floor().long().clamp(max=real.sum(1) - 1)
    rank = keys.argsort(dim=1).argsort(dim=1)
    return (rank < k[:, None]).to(device)


def finetune_accuracy(
    encoder: nn.Module,
    train: Dataset,
    test: Dataset,
    num_classes: int,
    device: torch.device,
    epochs: int,
    lr: float = 5e-4,
    batch_size: int = 32,
    seed: int = 0,
    pool: str = "max_mean",
    head: str = "mlp",
    key_drop: float = 0.0,
) -> float:
    """Fine-tune a copy of ``encoder`` + a ``head`` on ``pool``-ed tokens; test accuracy."""
    torch.manual_seed(seed)
    enc = copy.deepcopy(encoder).to(device).train()
    enc.requires_grad_(True)
    reduce = POOLS[pool]
    width = enc.dim * (2 if pool == "max_mean" else 1)
    classifier = HEADS[head](width, num_classes).to(device)
    params = list(enc.parameters()) + list(classifier.parameters())
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2 if head == "mlp" else 0.1)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for x, y in DataLoader(train, batch_size=batch_size, shuffle=True, generator=gen):
            x = x.to(device)
            pad = enc.padding(x)
            kwargs = {}
            if key_drop > 0:
                n = enc.tokenizer(x[:1]).shape[1]
                kwargs["barred"] = barred_keys(pad, (x.shape[0], n), key_drop, gen, device)
            logits = classifier(reduce(enc(x, **kwargs), pad))
            loss = loss_fn(logits, torch.as_tensor(y).to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    enc.eval()
    classifier.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in DataLoader(test, batch_size=256):
            x = x.to(device)
            pred = classifier(reduce(enc(x), enc.padding(x))).argmax(-1).cpu()
            right += int((pred == torch.as_tensor(y)).sum())
            total += len(pred)
    return right / max(total, 1)
