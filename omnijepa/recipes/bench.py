"""`omnijepa bench`: train-step throughput, collator throughput, memory, FLOPs and MFU."""

from __future__ import annotations

import contextlib
import platform
import resource
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from omnijepa.config import load_config, to_dict
from omnijepa.nn.attention_kernel import explicit_everywhere
from omnijepa.recipes.base import Recipe
from omnijepa.recipes.run import write_json
from omnijepa.train.compilation import compile_blocks
from omnijepa.train.matmul_rate import PRECISION_DTYPES, emulated, matmul_flops_per_s, sync
from omnijepa.train.optim import build_adamw
from omnijepa.train.sharding import set_activation_checkpointing
from omnijepa.train.trainer import batch_to_device, optimizer_step, resolve_device


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_bench(
    recipe: Recipe,
    overrides: list[str],
    out: Path,
    steps: int = 10,
    config: str | Path | None = None,
) -> dict[str, Any]:
    """Time ``steps`` optimisation steps of ``recipe`` and its collator; write bench.json.
    FLOPs are counted over the same ``steps`` batches in an untimed pass first (the warm-up).
    ``config`` is a YAML file or shipped preset applied before the overrides, as in train."""
    if config is None:  # a preset names its own step in full
        overrides = [*recipe.bench_overrides, *overrides]
    cfg = load_config(recipe.default_config(), config, overrides, recipe=recipe.name)
    device = resolve_device(cfg.device)
    built = recipe.build(cfg, device)
    objective = built.parts.objective.to(device)
    if cfg.train.compile:
        compile_blocks(objective)
    bsz = cfg.train.batch_size
    samples = [built.parts.dataset[i] for i in range(bsz)]
    collate = built.parts.collate

    t0 = time.perf_counter()
    n_collate = 20
    for k in range(n_collate):
        collate(samples, k)
    collate_s = (time.perf_counter() - t0) / n_collate

    batches = [batch_to_device(collate(samples, k), device) for k in range(steps)]
    opt = build_adamw(objective, cfg.train.lr, cfg.train.weight_decay[0])
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.train.precision == "fp16")
    if cfg.train.activation_checkpointing:
        set_activation_checkpointing(objective, True)

    def step(k: int) -> None:  # the trainer's step: precision, accumulation, clipping
        optimizer_step(objective, opt, batches[k], k, cfg.train, scaler, device)
        objective.after_optimizer_step(k + 1, cfg.train.steps)

    # FLOPs of the very batches timed below: a mask draw changes a step's work (the official
    # I-JEPA collator's from 1.2 to 1.7 GFLOP per sample), so one batch's count does not
    # describe the mean of the timed ones. torch's counter has no formula for the CPU flash
    # kernel: write attention out while counting there. This pass is also the warm-up.
    written_out = explicit_everywhere() if device.type == "cpu" else contextlib.nullcontext()
    with FlopCounterMode(display=False) as counter, written_out:
        for k in range(steps):
            step(k)
    flops_per_sample = counter.get_total_flops() / (bsz * steps)
    step(0)  # the kernels the timed steps use, once, outside the clock
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    sync(device)
    t0 = time.perf_counter()
    for k in range(steps):
        step(k)
    sync(device)
    step_s = (time.perf_counter() - t0) / steps
    matmul_dtype = PRECISION_DTYPES[cfg.train.precision] or torch.float32
    # an emulated dtype (bf16 on a CPU without AVX-512 BF16) runs on the float32 units, at a
    # rate that depends on the shape: its 256^2 rate made MFUs of 150-290 %, so measure
    # against the hardware's float32 peak instead
    was_emulated = matmul_dtype != torch.float32 and emulated(device, matmul_dtype)
    if was_emulated:
        matmul_dtype = torch.float32
    peak = matmul_flops_per_s(device, dtype=matmul_dtype)
    achieved = flops_per_sample * bsz / step_s
    result = {
        "recipe": recipe.name,
        "device": str(device),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        },
        "batch_size": bsz,
        "params": sum(p.numel() for p in objective.parameters()),
        "train_step_s": step_s,
        "train_samples_per_s": bsz / step_s,
        "collate_batch_s": collate_s,
        "masks_per_s": bsz / collate_s,
        "peak_memory_mb": _peak_memory_mb(device),
        "flops_per_sample": flops_per_sample,
        "achieved_flops_per_s": achieved,
        "matmul_flops_per_s": peak,
        "matmul_dtype": str(matmul_dtype).removeprefix("torch."),
        "precision_emulated": was_emulated,
        "mfu": achieved / peak,
        "config": to_dict(cfg),
    }
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "bench.json", result)
    return result
