"""How fast this device multiplies matrices in a dtype: the denominator of ``omnijepa bench``'s
MFU, ``omnijepa doctor``'s bf16 advice, and the trainer's warning when ``train.precision``
asks for a dtype the device only emulates (bf16 on a CPU without AVX-512 BF16 runs ~100x
slower than float32)."""

from __future__ import annotations

import time

import torch

PRECISION_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


def matmul_flops_per_s(
    device: torch.device,
    size: int | None = None,
    repeats: int = 10,
    dtype: torch.dtype = torch.float32,
) -> float:
    """Measured dense matmul throughput of this machine in ``dtype`` (the MFU denominator: a
    bf16 run is measured against the bf16 rate, 2-3x the float32 one on CPUs with AVX-512)."""
    size = size or (8192 if device.type == "cuda" else 1024)
    if emulated(device, dtype):  # e.g. bf16 on a CPU without AVX-512 BF16: ~1 GFLOP/s, so
        size = min(size, 256)  # ten 1024^2 products would take half a minute; 256 says enough
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    sync(device)
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2 * size**3 * repeats / (time.perf_counter() - t0)


def emulated(device: torch.device, dtype: torch.dtype, floor: float = 20e9) -> bool:
    """True when one 256^2 product in ``dtype`` runs below ``floor`` FLOP/s: a dtype this
    device has no fast path for (every real matmul unit, even a 2-core CPU's, runs faster);
    the fastest of three products, so one scheduling hiccup does not count."""
    a = torch.randn(256, 256, device=device, dtype=dtype)
    a @ a
    best = float("inf")
    for _ in range(3):
        sync(device)
        t0 = time.perf_counter()
        a @ a
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * 256**3 / max(best, 1e-9) < floor


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU), so timings cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def emulated_precision_warning(device: torch.device, precision: str) -> str | None:
    """A one-line warning when ``train.precision`` names a dtype this device emulates."""
    dtype = PRECISION_DTYPES.get(precision)
    if dtype is None or not emulated(device, dtype):
        return None
    low = matmul_flops_per_s(device, dtype=dtype) / 1e9
    full = matmul_flops_per_s(device) / 1e9
    name = str(dtype).removeprefix("torch.")
    return (
        f"train.precision={precision}: this {device.type} multiplies {name} matrices at "
        f"{low:.0f} GFLOP/s against {full:.0f} in float32, so the run will be far slower than "
        "in float32; train.precision=fp32 is the faster choice here"
    )


__all__ = ["PRECISION_DTYPES", "emulated", "emulated_precision_warning", "matmul_flops_per_s",
           "sync"]  # fmt: skip
