"""Frozen features: encoder outputs (optionally the last k layers concatenated), pooled over
tokens — mean (I-JEPA's protocol), max, [max ‖ mean] (Point-JEPA / Point-MAE's SVM protocol) —
or kept as tokens for the attentive probe. Padded tokens (the encoder's ``padding``) are left
out of every pooling."""

from __future__ import annotations

import numpy as np
import torch
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


def keep_tokens(z: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
    """No pooling (for the attentive probe, which does not take padded batches yet)."""
    if padding is not None and bool(padding.any()):
        raise ValueError("eval.pool=tokens (attentive probe) does not take padded batches")
    return z


POOLS = {
    "mean": mean_over_tokens,
    "max": max_pool,
    "max_mean": max_mean_pool,
    "tokens": keep_tokens,
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
    depth = stack_depth(encoder)
    if depth is not None and layers > max(1, depth):
        raise ConfigError(
            f"eval.layers={layers} concatenates more blocks than the encoder has "
            f"({depth}, model.depth)"
        )
    was_training = encoder.training
    encoder.eval()
    feats, labels = [], []
    kwargs = {"layers": layers} if layers > 1 else {}
    padding = getattr(encoder, "padding", lambda x: None)
    for x, y in DataLoader(dataset, batch_size=batch_size, shuffle=False):
        x = x.to(device)
        feats.append(reduce(encoder(x, **kwargs), padding(x)).float().cpu())
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
