"""`omnijepa doctor`: run the device-specific paths once and print one table.

On a GPU (``--gpu``, or whenever CUDA is present) each check runs on CUDA and, where a CPU
reference exists, is compared with it: bf16 autocast through a ViT step, SIGReg, farthest-point
sampling and kNN grouping, the log-mel audio front end, a one-process DDP all-reduce over
NCCL, and a short ViT-B/16 I-JEPA step with its MFU. Without CUDA the GPU-only checks report
"skipped" and ``--gpu`` fails: the test suite never needs a GPU, and this command is how a GPU
session checks one in minutes.
"""

from __future__ import annotations

import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from omnijepa.config import load_config
from omnijepa.errors import OmniJepaError
from omnijepa.masks.collator import batch_generator
from omnijepa.modalities.audio import FrontEndConfig, log_mel
from omnijepa.modalities.point_cloud import group_patches
from omnijepa.objectives.sigreg import SIGReg
from omnijepa.recipes.bench import matmul_flops_per_s, run_bench
from omnijepa.recipes.ijepa import IJEPARecipe, build_objective

Check = Callable[[torch.device], str]


def _bf16_step(device: torch.device) -> str:
    """A tiny I-JEPA step under bf16 autocast: the loss and every gradient must be finite."""
    recipe = IJEPARecipe()
    cfg = load_config(
        recipe.default_config(), None, ["model.backbone=vit", "model.dim=64", "data.image_size=32"]
    )
    objective = build_objective(cfg).to(device)
    sampler = recipe.sampler(cfg)
    masks = sampler.sample(8, batch_generator(0, 0))
    batch = {"x": torch.randn(8, 1, 32, 32, device=device),
             "context": masks.context.to(device), "targets": masks.targets.to(device)}  # fmt: skip
    with torch.autocast(device.type, dtype=torch.bfloat16):
        loss, _ = objective(batch, 0)
    loss.backward()
    grads = [p.grad for p in objective.parameters() if p.grad is not None]
    if not torch.isfinite(loss) or not all(bool(torch.isfinite(g).all()) for g in grads):
        raise RuntimeError(f"non-finite loss or gradient under bf16 (loss {float(loss):.4f})")
    return f"loss {float(loss.detach()):.4f}, {len(grads)} finite gradients"


def _bf16_rate(device: torch.device) -> str:
    """Dense matmul rate in bf16 against float32: whether ``train.precision=bf16`` pays here
    (about 2.3x on a CPU with AVX-512 BF16; below 1 where bf16 is emulated)."""
    fp32 = matmul_flops_per_s(device)
    bf16 = matmul_flops_per_s(device, dtype=torch.bfloat16)
    advice = "train.precision=bf16 pays" if bf16 > 1.3 * fp32 else "keep float32"
    rates = f"bf16 {bf16 / 1e9:.0f} vs float32 {fp32 / 1e9:.0f} GFLOP/s"
    return f"{rates} ({bf16 / fp32:.1f}x): {advice}"


def _sigreg(device: torch.device) -> str:
    """SIGReg on the device equals the CPU value."""
    z = torch.randn(512, 64, generator=torch.Generator().manual_seed(0))
    ref = float(SIGReg(256)(z, step=3))
    got = float(SIGReg(256)(z.to(device), step=3))
    if abs(got - ref) > 1e-3 * max(1.0, abs(ref)):
        raise RuntimeError(f"SIGReg {got:.6f} on {device} vs {ref:.6f} on CPU")
    return f"{got:.5f} (CPU {ref:.5f})"


def _point_groups(device: torch.device) -> str:
    """Farthest-point sampling + kNN grouping on the device pick the CPU's points."""
    pts = torch.randn(4, 1024, 3, generator=torch.Generator().manual_seed(0))
    c_ref, p_ref = group_patches(pts, 64, 32)
    c_dev, p_dev = group_patches(pts.to(device), 64, 32)
    same = torch.allclose(c_dev.cpu(), c_ref) and torch.allclose(p_dev.cpu(), p_ref, atol=1e-5)
    if not same:
        raise RuntimeError("FPS / kNN groups differ from the CPU's")
    return "64 groups x 32 points, identical to the CPU"


def _log_mel(device: torch.device) -> str:
    """The audio front end (torch.stft + mel filterbank) on the device matches the CPU."""
    cfg = FrontEndConfig()
    wave = torch.randn(4, cfg.sample_rate, generator=torch.Generator().manual_seed(0))
    ref = log_mel(wave, cfg)
    got = log_mel(wave.to(device), cfg).cpu()
    err = float((got - ref).abs().max())
    if err > 1e-2:
        raise RuntimeError(f"log-mel on {device} differs from the CPU's by {err:.4f}")
    return f"4 x 1 s clips -> {tuple(ref.shape[1:])}, largest difference {err:.1e}"


def _ddp_one_process(device: torch.device) -> str:
    """torch.distributed with one process: NCCL on CUDA (gloo on CPU), an all-reduce."""
    import torch.distributed as dist

    backend = "nccl" if device.type == "cuda" else "gloo"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    try:
        x = torch.ones(4, device=device)
        dist.all_reduce(x)
        if not torch.equal(x.cpu(), torch.ones(4)):
            raise RuntimeError("all_reduce over one process changed the tensor")
    finally:
        dist.destroy_process_group()
    return f"{backend} all_reduce ok"


def _vitb16_step(device: torch.device) -> str:
    """A few I-JEPA ViT-B/16 steps at 224 px (bf16): samples/s and MFU."""
    overrides = [
        f"device={device}", "model.backbone=vit", "data.image_size=224", "data.channels=3",
        "data.train_size=64", "data.test_size=8", "model.patch=16", "model.dim=768",
        "model.depth=12", "model.heads=12",
        "predictor.dim=384", "predictor.depth=6", "predictor.heads=12", "train.batch_size=32",
        "train.precision=bf16",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        res = run_bench(IJEPARecipe(), overrides, Path(tmp), steps=5)
    return f"{res['train_samples_per_s']:.1f} samples/s, MFU {res['mfu']:.1%}"


CHECKS: list[tuple[str, Check, bool]] = [  # (name, check, needs CUDA)
    ("bf16 autocast step", _bf16_step, False),
    ("bf16 matmul rate", _bf16_rate, False),
    ("SIGReg on device", _sigreg, True),
    ("FPS + kNN on device", _point_groups, True),
    ("log-mel front end on device", _log_mel, True),
    ("torch.distributed, 1 process", _ddp_one_process, False),
    ("ViT-B/16 I-JEPA step", _vitb16_step, True),
]


def run_doctor(require_gpu: bool) -> list[dict[str, Any]]:
    """Run every check on CUDA if present (else CPU); rows of name, status, detail, seconds."""
    cuda = torch.cuda.is_available()
    if require_gpu and not cuda:
        raise OmniJepaError("--gpu: CUDA is not available on this machine")
    device = torch.device("cuda" if cuda else "cpu")
    rows = []
    for name, check, needs_cuda in CHECKS:
        t0 = time.perf_counter()
        if needs_cuda and not cuda:
            rows.append({"check": name, "status": "skipped", "detail": "needs CUDA", "s": 0.0})
            continue
        try:
            detail, status = check(device), "ok"
        except Exception as exc:  # noqa: BLE001 — every failure becomes a row of the table
            detail, status = f"{type(exc).__name__}: {exc}", "FAILED"
        rows.append({"check": name, "status": status, "detail": detail,
                     "s": time.perf_counter() - t0})  # fmt: skip
    return rows


def format_doctor(rows: list[dict[str, Any]]) -> str:
    """The rows as one Markdown table, with the device and torch version on top."""
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "CPU only"
    lines = [f"torch {torch.__version__}, {name}", "",
             "| check | status | detail | seconds |", "|---|---|---|---|"]  # fmt: skip
    lines += [f"| {r['check']} | {r['status']} | {r['detail']} | {r['s']:.1f} |" for r in rows]
    return "\n".join(lines)
