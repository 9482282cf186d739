"""The training loop, top to bottom: data -> objective -> AdamW step -> EMA -> log/checkpoint.

Works on CPU and CUDA, and under ``torchrun`` (the global batch is split over ranks; the
objective is replicated with DDP or sharded with FSDP2: ``train.strategy``), with optional
gradient accumulation (``train.accum_steps``) and activation checkpointing.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from omnijepa.distributed import all_reduce_mean_with_grad, local_rank
from omnijepa.errors import OmniJepaError
from omnijepa.schedules import cosine_ramp, warmup_decay
from omnijepa.train.checkpoint import (
    STATE_FILE,
    load_model_weights,
    load_optimizer,
    read_state,
    save_checkpoint,
    set_rng_state,
)
from omnijepa.train.compilation import compile_blocks
from omnijepa.train.config import TrainConfig
from omnijepa.train.data_order import StepBatchSampler, StepCollate, StepIndexedDataset
from omnijepa.train.matmul_rate import PRECISION_DTYPES, emulated_precision_warning
from omnijepa.train.metrics_log import MetricsLog
from omnijepa.train.micro_batches import split_batch
from omnijepa.train.optim import build_adamw
from omnijepa.train.sharding import gradient_sync, set_activation_checkpointing, wrap


class TrainingDiverged(OmniJepaError):
    """The loss became NaN or infinite."""


@dataclass
class TrainParts:
    """What a recipe hands the trainer."""

    objective: (
        nn.Module
    )  # forward(batch, step) -> (loss, stats); after_optimizer_step; eval_encoder
    dataset: Dataset  # yields (x, y)
    collate: Callable[[list[Any], int], dict]  # (samples, step) -> batch dict
    # learning curve: probe of the online encoder (before step 1, then every probe_every)
    online_probe: Callable[[nn.Module], dict[str, float]] | None = None


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA when present, else CPU; a clear error for an unavailable device.
    A bare ``cuda`` (or ``auto`` on a GPU machine) is this process's own GPU,
    ``cuda:$LOCAL_RANK`` under torchrun, made the current device, so that the ranks on one
    node do not all land on GPU 0."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise OmniJepaError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type not in ("cpu", "cuda"):
        raise OmniJepaError(
            f"device {name!r} is not supported (the library runs on CPU and CUDA); "
            "use auto, cpu, cuda or cuda:N"
        )
    if device.type == "cpu":
        return device
    if not torch.cuda.is_available():
        raise OmniJepaError(f"device {name!r} requested but CUDA is not available")
    index = device.index if device.index is not None else local_rank()
    if index >= torch.cuda.device_count():
        how = f"device {name!r}" if device.index is not None else f"LOCAL_RANK {index}"
        raise OmniJepaError(
            f"{how} needs GPU {index} but this machine has {torch.cuda.device_count()} GPU(s)"
        )
    torch.cuda.set_device(index)
    return torch.device("cuda", index)


def loader_workers(setting: int, device: torch.device) -> int:
    """DataLoader workers: ``setting`` if >= 0; auto (-1): none on CPU, where the training
    process has the cores anyway, and up to 4 on CUDA so collation overlaps the GPU step."""
    if setting >= 0:
        return setting
    return min(4, os.cpu_count() or 1) if device.type == "cuda" else 0


def online_encoder(objective: nn.Module) -> nn.Module:
    """The encoder that receives gradients (the student / context encoder)."""
    encoder = getattr(objective, "encoder", None)
    return encoder if encoder is not None else objective.eval_encoder()


def _ddp_setup(device: torch.device) -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


def batch_to_device(batch: dict, device: torch.device) -> dict:
    """Move the tensors (and lists of tensors, e.g. views) of a batch dict to ``device``."""
    out = {}
    for k, v in batch.items():
        if torch.is_tensor(v):
            out[k] = v.to(device, non_blocking=True)
        elif isinstance(v, list) and v and torch.is_tensor(v[0]):
            out[k] = [t.to(device, non_blocking=True) for t in v]
        else:
            out[k] = v
    return out


def _set_schedules(opt: torch.optim.Optimizer, cfg: TrainConfig, step: int) -> tuple[float, float]:
    warm = int(cfg.warmup * cfg.steps)
    lr = warmup_decay(cfg.lr_schedule, step, cfg.steps, warm, cfg.start_lr, cfg.lr, cfg.final_lr)
    wd = cosine_ramp(step, cfg.steps, *cfg.weight_decay)
    for group in opt.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
        if group.get("decays"):
            group["weight_decay"] = wd
    return lr, wd


def optimizer_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: dict,
    step: int,
    cfg: TrainConfig,
    scaler: torch.amp.GradScaler,
    device: torch.device,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One optimisation step as ``cfg`` asks: the trainer's, and ``omnijepa bench``'s, so a
    benchmark times what training runs. Loss and gradients over ``cfg.accum_steps``
    micro-batches (the gradient sync waits for the last one) under ``cfg.precision``, then
    clipping and the (scaled) update; returns the mean loss and statistics (detached)."""
    optimizer.zero_grad(set_to_none=True)
    dtype = PRECISION_DTYPES[cfg.precision]
    micro = split_batch(batch, cfg.accum_steps)
    losses, per_part = [], []
    for i, part in enumerate(micro):
        with gradient_sync(model, i == len(micro) - 1):
            with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=bool(dtype)):
                part_loss, part_stats = model(part, step)
            scaler.scale(part_loss / len(micro)).backward()
        losses.append(part_loss.detach())
        per_part.append(part_stats)
    loss, stats = losses[0], per_part[0]
    if len(micro) > 1:
        loss = torch.stack(losses).mean()
        stats = {k: torch.stack([torch.as_tensor(st[k]) for st in per_part]).mean(0)
                 for k in per_part[0]}  # fmt: skip
    if cfg.clip_grad > 0:
        scaler.unscale_(optimizer)
        params = [p for group in optimizer.param_groups for p in group["params"]]
        nn.utils.clip_grad_norm_(params, cfg.clip_grad)
    scaler.step(optimizer)
    scaler.update()
    return loss, stats


def train(
    parts: TrainParts,
    cfg: TrainConfig,
    seed: int,
    device: torch.device,
    run_dir: Path,
    resume: bool = False,
    extra_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train ``parts.objective``; returns the last logged record. Writes into ``run_dir``."""
    rank, world = _ddp_setup(device)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    objective = parts.objective.to(device)
    if cfg.activation_checkpointing and not set_activation_checkpointing(objective, True):
        print("train.activation_checkpointing: this model has no blocks to checkpoint", flush=True)
    if cfg.compile and not compile_blocks(objective):
        print("train.compile: this model has no blocks to compile", flush=True)
    start = 0
    if resume:  # whole tensors, loaded before sharding: any strategy and world size resumes
        state = load_model_weights(run_dir, objective)
        set_rng_state(state.get("rng"), str(run_dir / STATE_FILE))
        start = int(state["step"])
    model = wrap(objective, cfg.strategy, device, world)  # FSDP shards ``objective`` in place
    # on the final parameters
    optimizer = build_adamw(objective, cfg.lr, cfg.weight_decay[0], cfg.tokenizer_lr_scale)
    if resume:
        load_optimizer(run_dir, optimizer, state)
    if world > 1 and hasattr(parts.collate, "shard"):
        parts.collate.shard(rank, world, cfg.batch_size)  # global-batch masks, this rank's rows
    end = min(cfg.steps, cfg.stop_at) if cfg.stop_at else cfg.steps
    owner = getattr(parts.dataset, "shard_of", None) if cfg.rank_shards else None
    if cfg.rank_shards and owner is None and world > 1:
        raise OmniJepaError("train.rank_shards needs sharded data (data.path=SHARDS/)")
    sampler = StepBatchSampler(
        len(parts.dataset),  # type: ignore[arg-type]
        cfg.batch_size,
        seed,
        start,
        end,
        rank,
        world,
        owner,
    )
    loader = DataLoader(
        StepIndexedDataset(parts.dataset),
        batch_sampler=sampler,
        collate_fn=StepCollate(parts.collate),
        num_workers=loader_workers(cfg.num_workers, device),
        pin_memory=device.type == "cuda",
    )
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.precision == "fp16")
    is_main = rank == 0
    if is_main and (slow := emulated_precision_warning(device, cfg.precision)):
        warnings.warn(slow, stacklevel=1)
    log = MetricsLog(run_dir, start if resume else None, cfg.tensorboard) if is_main else None
    state_base = dict(extra_state or {})
    bar = tqdm(
        total=cfg.steps,  # a run stopped early (train.stop_at) shows how far it got
        initial=start,
        disable=not (cfg.progress and is_main and sys.stderr.isatty()),
        desc="train",
        dynamic_ncols=True,
    )
    plain_every = max(1, (end - start) // 10)
    last: dict[str, Any] = {}
    if cfg.probe_every and parts.online_probe and start == 0:  # every rank: FSDP gathers
        first = {"step": 0, **parts.online_probe(online_encoder(objective))}  # = the twin
        if log is not None:
            log.log(first)
        objective.train()
    t0, seen = time.perf_counter(), 0
    objective.train()
    for batch in loader:
        step = batch["step"]
        lr, wd = _set_schedules(optimizer, cfg, step)
        batch = batch_to_device(batch, device)
        loss, stats = optimizer_step(model, optimizer, batch, step, cfg, scaler, device)
        ema = objective.after_optimizer_step(step + 1, cfg.steps)
        seen += cfg.batch_size
        done = step + 1
        probe_now = bool(
            cfg.probe_every and parts.online_probe and (done % cfg.probe_every == 0 or done == end)
        )
        if done % cfg.log_every == 0 or done == end or probe_now:
            # the global batch's loss (equal local batches): every rank logs the same value
            value = float(all_reduce_mean_with_grad(loss.detach()))
            if not math.isfinite(value):
                raise TrainingDiverged(
                    f"loss is {value} at step {done}; lower train.lr or enable train.clip_grad"
                )
            now = time.perf_counter()
            last = {
                "step": done,
                "loss": value,
                "lr": lr,
                "wd": wd,
                **{k: float(v) for k, v in stats.items()},
                **ema,
                "samples_per_s": seen / max(now - t0, 1e-9),
            }
            if hasattr(objective, "diagnostics"):
                last.update(objective.diagnostics(done, cfg.steps))
            if probe_now and hasattr(objective, "encoder_gradients") and world == 1:
                last.update(objective.encoder_gradients(batch, step))
            if probe_now:
                last.update(parts.online_probe(online_encoder(objective)))  # type: ignore[misc]
                objective.train()
            t0, seen = time.perf_counter(), 0
            if log is not None:
                log.log(last)
            bar.set_postfix(loss=f"{value:.4f}")
            plain = bar.disable and is_main and cfg.progress
            if plain and (done % plain_every == 0 or done == end):
                print(f"step {done}/{cfg.steps} loss {value:.4f}", flush=True)  # of the whole run
        bar.update(1)
        if cfg.checkpoint_every and done % cfg.checkpoint_every == 0 and done < end:
            meta = {**state_base, "step": done, "finished": False}
            save_checkpoint(run_dir, objective, optimizer, meta, write=is_main)
    bar.close()
    meta = {**state_base, "step": end, "finished": end == cfg.steps}
    save_checkpoint(run_dir, objective, optimizer, meta, write=is_main)  # every rank gathers
    if log is not None:
        log.close()
    return last


def checkpoint_step(run_dir: Path) -> int:
    """Step stored in a run directory's checkpoint."""
    return int(read_state(run_dir)["step"])
