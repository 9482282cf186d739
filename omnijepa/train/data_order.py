"""Deterministic, resumable data order: batch k is a pure function of (seed, k).

The batch sampler yields ``(index, step)`` pairs so that collators (which run in DataLoader
workers) can seed their mask/view randomness from the global step; resuming at step k
reproduces exactly the batches and masks an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from omnijepa.errors import ConfigError
from omnijepa.seeding import step_generator


def check_batch_fits(n: int, batch_size: int, key: str = "train.batch_size") -> None:
    """One error when a training set of ``n`` samples cannot fill one batch (checked before
    a run touches its folder, and again by the sampler); ``key`` is the setting to lower."""
    if n < 2:  # train.batch_size is at least 2: lowering it cannot help
        raise ConfigError(
            f"the training set has {n} sample(s): too few to train on (at least 2, and "
            "enough for a test split besides); give more data"
        )
    if n < batch_size:
        raise ConfigError(
            f"the training set has {n} samples, fewer than {key}={batch_size}; lower {key}"
        )


class StepBatchSampler(Sampler[list[tuple[int, int]]]):
    """Yields batches for steps ``start..total-1``; each epoch is a seeded permutation.

    Under DDP each rank takes an interleaved share of the global batch, so the order does not
    depend on the number of ranks. With ``owner`` (the shard of every sample, e.g. tar
    shards) each rank instead reads only the samples of its own shards (shard k belongs to
    rank k mod world), in a seeded permutation of them per epoch: each rank streams its own
    files, and the order then depends on the world size (still a pure function of the step).
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
        owner: np.ndarray | None = None,
    ) -> None:
        check_batch_fits(n, batch_size)
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.start, self.total, self.rank, self.world = start, total, rank, world
        self.per_epoch = n // batch_size
        self.pool: np.ndarray | None = None
        if owner is not None and world > 1:
            self._own_shards(np.asarray(owner))

    def _own_shards(self, owner: np.ndarray) -> None:
        if self.batch_size % self.world:
            raise ConfigError(
                f"train.rank_shards needs train.batch_size ({self.batch_size}) divisible by "
                f"the {self.world} ranks"
            )
        pools = [np.flatnonzero(owner % self.world == r) for r in range(self.world)]
        local = self.batch_size // self.world
        if min(len(p) for p in pools) < local:
            raise ConfigError(
                f"train.rank_shards: with {len(np.unique(owner))} shards over {self.world} "
                f"ranks some rank holds fewer than its {local} samples per step; write more "
                "shards (omnijepa data pack --shard-size) or turn train.rank_shards off"
            )
        self.pool, self.local = pools[self.rank], local
        self.per_epoch = min(len(p) for p in pools) // local  # the same on every rank

    def _perm(self, epoch: int) -> torch.Tensor:
        if self.pool is not None:
            gen = step_generator(self.seed, epoch, salt=2 + self.rank)
            return torch.from_numpy(self.pool)[torch.randperm(len(self.pool), generator=gen)]
        return torch.randperm(self.n, generator=step_generator(self.seed, epoch, salt=1))

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch, perm = -1, None
        for step in range(self.start, self.total):
            e, pos = divmod(step, self.per_epoch)
            if e != epoch:
                epoch, perm = e, self._perm(e)
            if self.pool is not None:
                idx = perm[pos * self.local : (pos + 1) * self.local]
                yield [(int(i), step) for i in idx]
                continue
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
