"""Trainer settings shared by every recipe (``train.*`` keys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass
class TrainConfig:
    """Optimisation and bookkeeping; schedules follow I-JEPA's configs by default."""

    steps: int = 1000
    batch_size: int = 128
    lr: float = 1e-3
    start_lr: float = 2e-4
    final_lr: float = 1e-6
    warmup: float = 0.1  # fraction of steps with linear LR warmup
    lr_schedule: Literal["cosine", "linear"] = "cosine"  # decay after the warmup
    weight_decay: tuple[float, float] = (0.04, 0.4)  # cosine ramp start -> end
    # LR multiplier for the tokenizer (local encoder / patch embedding): its weights start at
    # the signal's scale, 10-30x the transformer's, so the same Adam steps barely move them
    tokenizer_lr_scale: float = 1.0
    clip_grad: float = 0.0  # max grad norm; 0 disables clipping
    precision: Literal["fp32", "bf16", "fp16"] = "fp32"
    # under torchrun: replicate the objective (ddp) or shard it with FSDP2 (fsdp)
    strategy: Literal["ddp", "fsdp"] = "ddp"
    accum_steps: int = 1  # gradient accumulation: micro-batches per step (same global batch)
    activation_checkpointing: bool = False  # recompute block activations in backward
    compile: bool = False  # torch.compile every transformer block (train.compilation)
    # sharded data (tar shards) under torchrun: each rank reads only its own shards
    rank_shards: bool = False
    num_workers: int = -1  # DataLoader workers; -1 = auto (0 on CPU, up to 4 on CUDA)
    log_every: int = 10
    probe_every: int = 0  # online probe every N steps; 0 = off
    checkpoint_every: int = 0  # 0 = only at the end
    stop_at: int = 0  # stop (resumably) after this step; 0 = run all steps
    tensorboard: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ValueError(f"train.steps must be >= 1, got {self.steps}")
        if self.batch_size < 2:
            raise ValueError(f"train.batch_size must be >= 2, got {self.batch_size}")
        if not 0.0 <= self.warmup < 1.0:
            raise ValueError(f"train.warmup is a fraction in [0, 1), got {self.warmup}")
        if self.lr <= 0:
            raise ValueError(f"train.lr must be > 0, got {self.lr}")
        if self.tokenizer_lr_scale <= 0:
            raise ValueError(f"train.tokenizer_lr_scale must be > 0, got {self.tokenizer_lr_scale}")
        if self.accum_steps < 1:
            raise ValueError(f"train.accum_steps must be >= 1, got {self.accum_steps}")
        if self.batch_size // self.accum_steps < 2:
            raise ValueError(
                f"train.accum_steps={self.accum_steps} splits train.batch_size="
                f"{self.batch_size} into micro-batches of under 2 samples; batch statistics "
                "(the variance terms) need >= 2"
            )
        if self.num_workers < -1:
            raise ValueError(f"train.num_workers must be >= -1 (auto), got {self.num_workers}")
        if self.log_every < 1:
            raise ValueError(f"train.log_every must be >= 1, got {self.log_every}")
        for key in ("probe_every", "checkpoint_every", "stop_at", "clip_grad"):
            if getattr(self, key) < 0:
                raise ValueError(f"train.{key} must be >= 0 (0 = off), got {getattr(self, key)}")
