"""Gradient accumulation: one step's batch cut into equal micro-batches along the sample axis.

The step's batch is collated whole (so masks and views are exactly those of an unaccumulated
run) and then split; each micro-batch's loss is weighted by its share. Losses that are means
over samples then give the same gradient as the whole batch. Terms built from batch
statistics (the variance-covariance and SIGReg anti-collapse terms, BatchNorm) see one
micro-batch (times the ranks) at a time instead.
"""

from __future__ import annotations

from typing import Any

import torch

from omnijepa.errors import ConfigError


def _batch_size(batch: dict[str, Any]) -> int:
    for value in batch.values():
        if torch.is_tensor(value) and value.dim() > 0:
            return value.shape[0]
        if isinstance(value, list) and value and torch.is_tensor(value[0]):
            return value[0].shape[0]
    raise ConfigError("train.accum_steps: the batch holds no tensor to split")


def _split(key: str, value: torch.Tensor, n: int, parts: int) -> tuple[torch.Tensor, ...]:
    if value.dim() == 0 or value.shape[0] != n:
        raise ConfigError(
            f"train.accum_steps: batch entry {key!r} (shape {tuple(value.shape)}) is not "
            f"per sample, so the batch of {n} cannot be split; use train.accum_steps=1"
        )
    return value.chunk(parts)


def split_batch(batch: dict[str, Any], parts: int) -> list[dict[str, Any]]:
    """``batch`` as ``parts`` micro-batches of equal size; non-tensor entries are shared."""
    if parts == 1:
        return [batch]
    n = _batch_size(batch)
    if n % parts or n // parts < 2:
        raise ConfigError(
            f"train.accum_steps={parts} does not divide this rank's batch of {n} samples "
            "into micro-batches of >= 2"
        )
    micro: list[dict[str, Any]] = [{} for _ in range(parts)]
    for key, value in batch.items():
        if torch.is_tensor(value):
            pieces: Any = _split(key, value, n, parts)
        elif isinstance(value, list) and value and torch.is_tensor(value[0]):
            per_view = [_split(key, v, n, parts) for v in value]
            pieces = [[v[i] for v in per_view] for i in range(parts)]
        else:
            pieces = [value] * parts
        for i in range(parts):
            micro[i][key] = pieces[i]
    return micro
