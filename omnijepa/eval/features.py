"""Frozen features: encoder outputs (optionally the last k layers concatenated), pooled over
tokens — mean (I-JEPA's protocol), max, [max ‖ mean] (Point-JEPA / Point-MAE's SVM protocol) —
or kept as tokens, with their padding mask, for the attentive probe. Padded tokens (the
encoder's ``padding``) are left out of every pooling."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from omnijepa.errors import ConfigError
from omnijepa.nn.tokens import mean_over_tokens
from omnijepa.nn.transformer import stack_depth


def max_pool(z: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
    """Max over the real tokens of (B, N, D) -> (B, D)."""
    if padding is None:
        return z.amax(dim=1)
    return z.masked_fill(padding.unsqueeze(-1), float("-inf")).amax(dim=1)


def max_mean_pool(z: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
    """``[max over tokens ‖ mean over tokens]`` of (B, N, D) tokens -> (B, 2D)."""
    return torch.cat([max_pool(z, padding), mean_over_tokens(z, padding)], dim=-1)


POOLS = {
    "mean": mean_over_tokens,
    "max": max_pool,
    "max_mean": max_mean_pool,
}


def _encoded_batches(
    encoder: nn.Module, dataset: Dataset, device: torch.device, batch_size: int, layers: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]]:
    """(tokens, padding or None, labels) of each batch through the frozen ``encoder`` in
    eval mode (its mode is restored afterwards); the last ``layers`` blocks concatenated."""
    depth = stack_depth(encoder)
    if depth is not None and layers > max(1, depth):
        raise ConfigError(
            f"eval.layers={layers} concatenates more blocks than the encoder has "
            f"({depth}, model.depth)"
        )
    if layers > 1 and "layers" not in inspect.signature(encoder.forward).parameters:
        raise ConfigError(
            f"eval.layers={layers}: this recipe's encoder ({type(encoder).__name__}) has no "
            "stack of blocks to concatenate; leave eval.layers at 1"
        )
    was_training = encoder.training
    encoder.eval()
    kwargs = {"layers": layers} if layers > 1 else {}
    padding = getattr(encoder, "padding", lambda x: None)
    try:
        for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            x = x.to(device)
            yield encoder(x, **kwargs), padding(x), torch.as_tensor(y)
    finally:
        encoder.train(was_training)


@torch.no_grad()
def pooled_features(
    encoder: nn.Module,
    dataset: Dataset,
    device: torch.device,
    batch_size: int = 256,
    pool: str = "mean",
    layers: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """``encoder(x)`` for every sample (last ``layers`` blocks concatenated), pooled over its
    real tokens (``pool``: mean | max | max_mean), with labels, as numpy arrays."""
    reduce = POOLS[pool]
    feats, labels = [], []
    for z, pad, y in _encoded_batches(encoder, dataset, device, batch_size, layers):
        feats.append(reduce(z, pad).float().cpu())
        labels.append(y)
    return torch.cat(feats).numpy(), torch.cat(labels).numpy()


@torch.no_grad()
def token_features(
    encoder: nn.Module,
    dataset: Dataset,
    device: torch.device,
    batch_size: int = 256,
    layers: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every sample's tokens, for the attentive probe: ``(n, N, D)`` with N the most tokens
    any sample has (zeros past a shorter sample's end), the ``(n, N)`` padding mask (True: no
    token there) and the labels. Recordings or series of different lengths batch this way."""
    toks, pads, labels = [], [], []
    for z, pad, y in _encoded_batches(encoder, dataset, device, batch_size, layers):
        pad = torch.zeros(z.shape[:2], dtype=torch.bool) if pad is None else pad.cpu()
        toks.append(z.float().cpu().masked_fill(pad.unsqueeze(-1), 0.0))
        pads.append(pad)
        labels.append(y)
    n_max = max(t.shape[1] for t in toks)
    toks = [F.pad(t, (0, 0, 0, n_max - t.shape[1])) for t in toks]
    pads = [F.pad(p, (0, n_max - p.shape[1]), value=True) for p in pads]
    return torch.cat(toks).numpy(), torch.cat(pads).numpy(), torch.cat(labels).numpy()


def raw_features(dataset: Dataset, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The inputs themselves, flattened: the raw-input baseline."""
    xs, ys = [], []
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        xs.append(x.reshape(x.shape[0], -1).float())
        ys.append(torch.as_tensor(y))
    return torch.cat(xs).numpy(), torch.cat(ys).numpy()
