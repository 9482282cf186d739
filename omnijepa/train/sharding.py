"""How the objective is spread over ranks under ``torchrun``: ``train.strategy=ddp|fsdp``.

- ``ddp``: every rank holds the whole objective; gradients are averaged
  (``DistributedDataParallel``).
- ``fsdp``: FSDP2 (``torch.distributed.fsdp.fully_shard``). Every repeated block (a module
  with an ``activation_checkpoint`` attribute: the transformer blocks) is one shard unit,
  then every direct child of the objective that holds parameters (online encoder, EMA
  target encoder, predictor, projector), then the objective itself. The EMA target is built
  like the online encoder, so its shards line up with the online shards and the EMA update
  runs shard by shard, without communication. Each child being its own unit lets it run on
  its own (the online probe, evaluation). Gradients are averaged like DDP's.

Activation checkpointing (``train.activation_checkpointing``) recomputes each block's
activations in the backward pass instead of keeping them; it works with either strategy and
in a single process. Checkpoints hold whole tensors, so they do not depend on the strategy
or the world size (``train.checkpoint``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Literal

import torch
from torch import nn

Strategy = Literal["ddp", "fsdp"]


def blocks(module: nn.Module) -> list[nn.Module]:
    """The repeated blocks of ``module``: those declaring ``activation_checkpoint``."""
    return [m for m in module.modules() if hasattr(m, "activation_checkpoint")]


def set_activation_checkpointing(module: nn.Module, on: bool) -> int:
    """Switch activation checkpointing on every block of ``module``; returns how many."""
    found = blocks(module)
    for block in found:
        block.activation_checkpoint = on
    return len(found)


def fully_shard_objective(objective: nn.Module) -> int:
    """Shard ``objective`` in place with FSDP2 (blocks, then children with parameters, then
    the root); returns the number of shard units. Needs an initialised process group."""
    from torch.distributed.fsdp import fully_shard

    # torch warns whenever a shard unit returns a view, and every nn.Linear on (B, N, D)
    # tokens returns a view of its 2-D product. The warning is about in-place ops on such an
    # output, which skip the unit's pre-backward hook; the objectives here never modify a
    # unit's output in place, and tests/test_sharded_training.py checks that FSDP runs give
    # the one-process losses and weights
    warnings.filterwarnings(
        "ignore", message=r"FSDP2-wrapped module .* returned a view tensor", category=UserWarning
    )
    # FSDP2 shards contiguous parameters only: the conv net's channels-last weights go back to
    # the plain layout (the same values; its kernels then round as a contiguous run does)
    for param in objective.parameters():
        if not param.is_contiguous():
            param.data = param.data.contiguous()
    units = [*blocks(objective)]
    units += [c for c in objective.children() if any(True for _ in c.parameters())]
    for unit in [*units, objective]:
        fully_shard(unit)
    # make the objective the root now: FSDP2 picks the first module to run forward, and the
    # online probe runs the encoder alone before the first step
    objective._get_fsdp_state()._lazy_init()  # type: ignore[operator]
    return len(units) + 1


def wrap(objective: nn.Module, strategy: Strategy, device: torch.device, world: int) -> nn.Module:
    """The module the training step calls: ``objective`` itself in a single process or under
    FSDP (sharded in place), a DDP wrapper under ``ddp``."""
    if world <= 1:
        if strategy == "fsdp":
            print("[train] fsdp: a single process, nothing to shard", flush=True)
        return objective
    if device.type == "cuda":  # BatchNorm statistics over the global batch (in place; CPU
        # ranks cannot: torch's SyncBatchNorm needs a GPU, so there they stay per rank)
        nn.SyncBatchNorm.convert_sync_batchnorm(objective)
    if strategy == "fsdp":
        units = fully_shard_objective(objective)
        if torch.distributed.get_rank() == 0:
            print(f"[train] fsdp: {units} shard units over {world} ranks", flush=True)
        return objective
    return nn.parallel.DistributedDataParallel(
        objective, device_ids=[device.index] if device.type == "cuda" else None
    )


def is_sharded(module: nn.Module) -> bool:
    """True when ``module`` was sharded by :func:`fully_shard_objective`."""
    from torch.distributed.fsdp import FSDPModule

    return isinstance(module, FSDPModule)


@contextmanager
def gradient_sync(model: nn.Module, sync: bool) -> Iterator[None]:
    """Hold back the gradient all-reduce / reduce-scatter for all but the last micro-batch of
    an accumulated step (DDP ``no_sync``; FSDP2 ``set_requires_gradient_sync``)."""
    if sync:
        yield
        return
    if isinstance(model, nn.parallel.DistributedDataParallel):
        with model.no_sync():
            yield
        return
    if is_sharded(model):
        model.set_requires_gradient_sync(False)  # type: ignore[operator]
        try:
            yield
        finally:
            model.set_requires_gradient_sync(True)  # type: ignore[operator]
        return
    with nullcontext():
        yield
