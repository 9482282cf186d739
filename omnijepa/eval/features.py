"""Frozen features: encoder outputs (optionally the last k layers concatenated), pooled over
tokens — mean (I-JEPA's protocol), max, [max ‖ mean] (Point-JEPA / Point-MAE's SVM protocol) —
or kept as tokens for the attentive probe."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


def max_mean_pool(z: torch.Tensor) -> torch.Tensor:
    """``[max over tokens ‖ mean over tokens]`` of (B, N, D) tokens -> (B, 2D)."""
    return torch.cat([z.amax(dim=1), z.mean(dim=1)], dim=-1)


POOLS = {
    "mean": lambda z: z.mean(dim=1),
    "max": lambda z: z.amax(dim=1),
    "max_mean": max_mean_pool,
    "tokens": lambda z: z,  # no pooling (attentive probe)
}


@torch.no_grad()
def pooled_features(
    encoder: nn.Module,
    dataset: Dataset,
    device: torch.device,
    batch_size: int = 256,
    pool: str = "mean",
    layers: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """``encoder(x)`` for every sample (last ``layers`` blocks concatenated), pooled over tokens
    (``pool``: mean | max | max_mean | tokens), with labels, as numpy arrays."""
    reduce = POOLS[pool]
    was_training = encoder.training
    encoder.eval()
    feats, labels = [], []
    kwargs = {"layers": layers} if layers > 1 else {}
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        feats.append(reduce(encoder(x.to(device), **kwargs)).float().cpu())
        labels.append(torch.as_tensor(y))
    encoder.train(was_training)
    return torch.cat(feats).numpy(), torch.cat(labels).numpy()


def raw_features(dataset: Dataset, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The inputs themselves, flattened: the raw-input baseline."""
    xs, ys = [], []
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        xs.append(x.reshape(x.shape[0], -1).float())
        ys.append(torch.as_tensor(y))
    return torch.cat(xs).numpy(), torch.cat(ys).numpy()
