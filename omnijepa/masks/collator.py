"""DataLoader ``collate_fn`` that stacks (input, label) samples and draws masks for the batch.

The one collate path of every masked recipe: stack the samples, optionally ``prepare`` the
batch (a modality's per-batch step, e.g. point clouds: augment, group into patches, order;
it may return per-sample token coordinates), then draw masks with the sampler contract
(``masks.mask_batch``): ``coords`` from ``prepare`` or the fixed ``coords`` given here, and
``progress = batch / steps`` when ``steps`` is given (mask curricula).

Masks of the k-th batch are a pure function of ``(seed, k)``: each call seeds a fresh
``torch.Generator`` from a hash of the pair, so training resumes reproduce the same masks and
the global RNG is never touched.

**Batch index.** Pass ``batch_index`` explicitly when you know it. Otherwise the collator counts
its own calls, starting from ``next_batch``:

* ``num_workers=0``: call c is global batch ``next_batch + c``; ``state_dict()`` tracks it.
* ``num_workers=W > 0``: each worker holds a *copy* of the collator, and PyTorch hands
  map-style batches to workers round-robin, so call c in worker w is taken to be global batch
  ``next_batch + c * W + w``. Indices are unique and deterministic per (seed, worker, call);
  they equal the true global batch index when workers are re-created each epoch (the default,
  ``persistent_workers=False``) or the epoch length is a multiple of W. The main-process copy
  does not see the workers' calls, so before each ``iter(loader)`` set
  ``collator.next_batch = global_step`` (or ``load_state_dict``), otherwise every epoch
  would reuse the first epoch's masks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import get_worker_info

from omnijepa.errors import ConfigError, DataError
from omnijepa.masks.mask_batch import MaskBatch, MaskSampler, check_coords_available

# (stacked inputs, generator) -> (model input, token coords (B, N, A) or None)
Prepare = Callable[[torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor | None]]

__all__ = ["MaskCollator", "batch_generator"]

_U64 = 2**64
_VIEW_SALT = 0x5EC0DD  # seeds the second view's stream apart from the first's


def batch_generator(seed: int, batch_index: int) -> torch.Generator:
    """A CPU generator seeded from a well-mixed hash of ``(seed, batch_index)``."""
    state = np.random.SeedSequence([seed % _U64, batch_index % _U64]).generate_state(
        1, dtype=np.uint64
    )
    return torch.Generator().manual_seed(int(state[0]))


class MaskCollator:
    """Collate ``[(x, y), ...]`` into ``{"x", "y", "context", "targets"}`` with seeded masks.

    ``prepare`` runs on the stacked inputs with the batch's generator before the masks are
    drawn (its randomness and the masks' come from one seeded stream); ``coords`` are fixed
    token coordinates for samplers that need them when ``prepare`` gives none; ``steps`` (the
    run length) turns the batch index into the sampler's ``progress``; ``views=2`` adds
    ``x_view``, the same samples prepared again with other random draws (a second augmented
    view, for C-JEPA's invariance term).
    """

    def __init__(
        self,
        sampler: MaskSampler,
        seed: int,
        *,
        prepare: Prepare | None = None,
        coords: torch.Tensor | None = None,
        steps: int | None = None,
        where: str = "this collator",
        views: int = 1,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an int, got {seed!r}")
        if steps is not None and (
            isinstance(steps, bool) or not isinstance(steps, int) or steps < 1
        ):
            raise ConfigError(f"steps must be an int >= 1 or None, got {steps!r}")
        if views not in (1, 2):
            raise ConfigError(f"views must be 1 or 2, got {views!r}")
        check_coords_available(sampler, prepare is not None or coords is not None, where)
        self.sampler = sampler
        self.seed = int(seed)
        self.prepare, self.coords, self.steps = prepare, coords, steps
        self.views = views
        self.rank, self.world, self.global_batch = 0, 1, 0
        self._start = 0  # global index of this copy's first counted batch
        self._calls = 0  # batches this copy has made without an explicit index

    @property
    def next_batch(self) -> int:
        """Global index the next counted call uses (exact in the process that calls it)."""
        return self._start + self._calls

    @next_batch.setter
    def next_batch(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
            raise ValueError(f"next_batch must be an int >= 0, got {index!r}")
        self._start, self._calls = int(index), 0

    def _counted_index(self) -> int:
        info = get_worker_info()
        if info is None:
            index = self._start + self._calls
        else:
            index = self._start + self._calls * info.num_workers + info.id
        self._calls += 1
        return index

    def __call__(
        self, samples: Sequence[tuple[Any, Any]], batch_index: int | None = None
    ) -> dict[str, torch.Tensor]:
        """Stack the samples and draw masks for batch ``batch_index`` (counted if ``None``)."""
        if len(samples) == 0:
            raise DataError("MaskCollator got an empty batch")
        try:
            xs, ys = zip(*samples)
        except (TypeError, ValueError):
            raise DataError("MaskCollator expects samples of the form (input, label)") from None
        x = torch.stack([torch.as_tensor(v) for v in xs])
        y = torch.as_tensor([v.item() if torch.is_tensor(v) else v for v in ys])  # long or float
        index = self._counted_index() if batch_index is None else int(batch_index)
        gen = batch_generator(self.seed, index)
        coords = self.coords
        raw = x
        if self.prepare is not None:
            x, batch_coords = self.prepare(x, gen)
            coords = batch_coords if batch_coords is not None else coords
        progress = None if self.steps is None else min(1.0, index / self.steps)
        masks = self._draw(len(samples), gen, coords, progress)
        batch = {"x": x, "y": y, "context": masks.context, "targets": masks.targets}
        if self.views == 2:  # a second view from its own stream: the first view's draws and
            # masks stay those of a one-view run; without ``prepare`` it is the same input
            view_gen = batch_generator(self.seed ^ _VIEW_SALT, index)
            batch["x_view"] = x if self.prepare is None else self.prepare(raw, view_gen)[0]
        return batch

    def shard(self, rank: int, world: int, global_batch: int) -> None:
        """Under DDP (the trainer calls this): each rank holds rows ``rank::world`` of the
        global batch, so draw masks for the global batch and keep this rank's rows. Masks then
        do not depend on the number of ranks (equal-length contexts are cut to the *global*
        minimum), and neither does the loss. Per-sample coordinates from ``prepare`` exist
        only for the local rows, so with them each rank draws for its own rows."""
        if isinstance(world, bool) or world < 1 or not 0 <= rank < world or global_batch < world:
            raise ValueError(
                f"need 0 <= rank < world <= global batch, got {rank}, {world}, {global_batch}"
            )
        self.rank, self.world, self.global_batch = int(rank), int(world), int(global_batch)

    def _draw(
        self, local: int, gen: torch.Generator, coords: torch.Tensor | None, progress: float | None
    ) -> MaskBatch:
        per_sample = coords is not None and coords.dim() == 3
        if self.world == 1 or per_sample:
            return self.sampler.sample(local, gen, coords=coords, progress=progress)
        masks = self.sampler.sample(self.global_batch, gen, coords=coords, progress=progress)
        rows = slice(self.rank, None, self.world)  # the trainer's sampler gives rank r these rows
        context, targets = masks.context[rows], masks.targets[rows]
        if len(context) != local:
            raise ValueError(f"rank {self.rank} got {local} samples, expected {len(context)}")
        return MaskBatch(context=context, targets=targets)

    def state_dict(self) -> dict[str, int]:
        """``{"seed", "next_batch"}``: enough to reproduce the following batches' masks."""
        return {"seed": self.seed, "next_batch": self.next_batch}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Restore ``seed`` and ``next_batch`` saved by :meth:`state_dict`."""
        missing = {"seed", "next_batch"} - set(state)
        if missing:
            raise ValueError(f"MaskCollator state is missing {sorted(missing)}")
        self.seed = int(state["seed"])
        self.next_batch = int(state["next_batch"])
