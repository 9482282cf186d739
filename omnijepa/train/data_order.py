"""Deterministic, resumable data order: batch k is a pure function of (seed, k).

The batch sampler yields ``(index, step)`` pairs so that collators (which run in DataLoader
workers) can seed their mask/view randomness from the global step; resuming at step k
reproduces exactly the batches and masks an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import Dataset, Sampler

from omnijepa.errors import ConfigError
from omnijepa.seeding import step_generator


class StepBatchSampler(Sampler[list[tuple[int, int]]]):
    """Yields batches for steps ``start..total-1``; each epoch is a seeded permutation.

    Under DDP each rank takes an interleaved share of the global batch.
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        seed: int,
        start: int,
        total: int,
        rank: int = 0,
        world: int = 1,
    ) -> None:
        if n < batch_size:
            raise ConfigError(
                f"the training set has {n} samples, fewer than train.batch_size={batch_size}; "
                "lower train.batch_size"
            )
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.start, self.total, self.rank, self.world = start, total, rank, world
        self.per_epoch = n // batch_size

    def _perm(self, epoch: int) -> torch.Tensor:
        return torch.randperm(self.n, generator=step_generator(self.seed, epoch, salt=1))

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch, perm = -1, None
        for step in range(self.start, self.total):
            e, pos = divmod(step, self.per_epoch)
            if e != epoch:
                epoch, perm = e, self._perm(e)
            idx = perm[pos * self.batch_size : (pos + 1) * self.batch_size]
            yield [(int(i), step) for i in idx[self.rank :: self.world]]

    def __len__(self) -> int:
        return self.total - self.start


class StepIndexedDataset(Dataset):
    """Wraps a dataset so that items carry the step they are drawn for."""

    def __init__(self, base: Dataset) -> None:
        self.base = base

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, key: tuple[int, int]) -> tuple[Any, int]:
        idx, step = key
        return self.base[idx], step


class StepCollate:
    """Calls ``collate(samples, step)`` and records the step in the batch dict."""

    def __init__(self, collate: Callable[[list[Any], int], dict]) -> None:
        self.collate = collate

    def __call__(self, items: list[tuple[Any, int]]) -> dict:
        step = items[0][1]
        batch = self.collate([s for s, _ in items], step)
        batch["step"] = step
        return batch
