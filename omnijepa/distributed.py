"""Small, device-agnostic helpers around ``torch.distributed``.

Every helper is a no-op (identity / single-process answer) when no process group is
initialised, so library code can call them unconditionally. They work with any backend
(gloo on CPU, nccl on GPU): tensors for collectives are put on the device the backend expects.
"""

from __future__ import annotations

import gc
import os

import torch
import torch.distributed as dist
from torch import Tensor

from omnijepa.errors import OmniJepaError

__all__ = [
    "all_reduce_max_int",
    "all_reduce_mean_with_grad",
    "all_reduce_sum_int",
    "all_reduce_sum_with_grad",
    "finish",
    "full_tensor",
    "is_distributed",
    "local_rank",
    "shard_like",
    "rank",
    "world_size",
]


def is_distributed() -> bool:
    """True when ``torch.distributed`` is available and a default process group is initialised."""
    return dist.is_available() and dist.is_initialized()


def local_rank() -> int:
    """This process's index on its node (torchrun's ``LOCAL_RANK``; 0 outside torchrun):
    the GPU a bare ``device=cuda`` means here."""
    value = os.environ.get("LOCAL_RANK", "0")
    try:
        index = int(value)
    except ValueError:
        raise OmniJepaError(f"LOCAL_RANK={value!r} is not an integer") from None
    if index < 0:
        raise OmniJepaError(f"LOCAL_RANK={value!r} is negative")
    return index


def finish() -> None:
    """End a distributed run cleanly: wait for every rank (rank 0 may still be evaluating),
    then tear the process group down together. A rank that exits while its group is alive
    can abort in the backend's destructors ("terminate called without an active exception");
    so can one whose modules (FSDP's state, a device mesh) still hold the group when the
    interpreter shuts down, so garbage cycles are collected on both sides of the teardown
    (a rank of CI's DDP -> FSDP resume test aborted so under load, session 26)."""
    if is_distributed():
        gc.collect()
        dist.barrier()
        dist.destroy_process_group()
        gc.collect()


def world_size() -> int:
    """Number of ranks in the default group (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    """This process's rank in the default group (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


class _AllReduceSum(torch.autograd.Function):
    """Differentiable all-reduce (SUM).

    Forward: ``y = Σ_r x_r`` on every rank. Backward: the gradient w.r.t. ``x_r`` is
    ``Σ_r' ∂L_r'/∂y``, i.e. the upstream gradients of all ranks are summed too. This is the
    same rule as ``torch.distributed.nn.functional.all_reduce`` (deprecated in recent torch,
    and warns on every call), re-stated here so the library does not emit FutureWarnings.
    """

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, tensor: Tensor) -> Tensor:  # type: ignore[override]
        out = tensor.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(out, op=dist.ReduceOp.SUM)
        return out

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: Tensor) -> Tensor:  # type: ignore[override]
        grad = grad.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad


def all_reduce_sum_with_grad(t: Tensor) -> Tensor:
    """Differentiable sum of ``t`` over ranks; identity when not distributed.

    Gradient convention: the backward pass all-reduces (sums) the incoming gradient. If every
    rank computes the same loss ``L`` from the reduced value, the gradient each rank receives
    for its local ``t`` is ``world_size · ∂L/∂t_local``; DDP's gradient *averaging* then turns
    the parameter gradients back into exactly ``∂L/∂θ``.
    """
    if not is_distributed() or world_size() == 1:
        return t
    return _AllReduceSum.apply(t)


def all_reduce_mean_with_grad(t: Tensor) -> Tensor:
    """Differentiable average of ``t`` over ranks (SUM all-reduce / world size).

    Identity when not distributed. Same gradient convention as :func:`all_reduce_sum_with_grad`.
    """
    ws = world_size()
    if ws == 1:
        return t
    return all_reduce_sum_with_grad(t) / ws


def _collective_device() -> torch.device:
    """Device for small bookkeeping tensors: CUDA for nccl, CPU otherwise."""
    if is_distributed() and dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _all_reduce_int(x: int, op: dist.ReduceOp.RedOpType) -> int:
    if not is_distributed() or world_size() == 1:
        return int(x)
    buf = torch.tensor([int(x)], dtype=torch.int64, device=_collective_device())
    dist.all_reduce(buf, op=op)
    return int(buf.item())


def all_reduce_max_int(x: int) -> int:
    """Maximum of an integer over ranks (``x`` itself when not distributed)."""
    return _all_reduce_int(x, dist.ReduceOp.MAX)


def all_reduce_sum_int(x: int) -> int:
    """Sum of an integer over ranks (``x`` itself when not distributed)."""
    return _all_reduce_int(x, dist.ReduceOp.SUM)


def full_tensor(t: Tensor) -> Tensor:
    """The whole tensor behind ``t``: a sharded DTensor (FSDP2) is all-gathered (a collective:
    every rank must call it), anything else is returned as it is."""
    from torch.distributed.tensor import DTensor

    return t.full_tensor() if isinstance(t, DTensor) else t


def shard_like(full: Tensor, reference: Tensor) -> Tensor:
    """``full`` laid out like ``reference``: this rank's shard when ``reference`` is a DTensor
    (every rank holds the same ``full``), else ``full`` in ``reference``'s memory layout — a
    checkpoint's tensors come back contiguous, and an optimizer moment of a channels-last
    weight must stay channels-last for a resumed run to round as the uninterrupted one."""
    from torch.distributed.tensor import DTensor, distribute_tensor

    if not isinstance(reference, DTensor):
        if full.shape == reference.shape and full.stride() != reference.stride():
            return torch.empty_like(reference, dtype=full.dtype, device=full.device).copy_(full)
        return full
    full = full.to(device=reference.device, dtype=reference.dtype)
    return distribute_tensor(full, reference.device_mesh, reference.placements)
