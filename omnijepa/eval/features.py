"""Frozen features: average-pooled encoder outputs (I-JEPA's evaluation protocol)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


@torch.no_grad()
def pooled_features(
    encoder: nn.Module, dataset: Dataset, device: torch.device, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Mean over tokens of ``encoder(x)`` for every sample, with labels, as numpy arrays."""
    was_training = encoder.training
    encoder.eval()
    feats, labels = [], []
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        feats.append(encoder(x.to(device)).mean(dim=1).float().cpu())
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
