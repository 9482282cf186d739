"""Tests for SIGReg / Epps-Pulley (omnijepa.objectives.sigreg) and omnijepa.distributed."""

from __future__ import annotations

import math
import os
import traceback
from pathlib import Path

import numpy as np
import pytest
import torch

from omnijepa import distributed as odist
from omnijepa.objectives.sigreg import (
    SIGReg,
    epps_pulley,
    epps_pulley_null_mean,
    epps_pulley_weights,
)

N_COLS = 1000  # independent 1-D slices per distribution: averages make the bars tight


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _samples(kind: str, n: int, m: int = N_COLS, seed: int = 0) -> torch.Tensor:
    g = _gen(seed)
    if kind == "gauss":
        return torch.randn(n, m, generator=g)
    if kind == "uniform":  # unit variance, zero mean, but not Gaussian
        return (torch.rand(n, m, generator=g) * 2 - 1) * math.sqrt(3.0)
    if kind == "shifted":
        return torch.randn(n, m, generator=g) + 5.0
    if kind == "wide":
        return torch.randn(n, m, generator=g) * 10.0
    raise ValueError(kind)


# --------------------------------------------------------------------------- statistic


def test_weights_are_doubled_trapezoid_with_window() -> None:
    t, w = epps_pulley_weights(3.0, 17, dtype=torch.float64)
    dt = 3.0 / 16
    assert torch.allclose(t, torch.linspace(0, 3, 17, dtype=torch.float64))
    raw = w / torch.exp(-0.5 * t**2)
    assert raw[0].item() == pytest.approx(dt) and raw[-1].item() == pytest.approx(dt)
    assert torch.allclose(raw[1:-1], torch.full((15,), 2 * dt, dtype=torch.float64))
    # ∫_{-3}^{3} e^{-t²/2} dt ≈ √(2π)·(1 − 0.0027)
    assert w.sum().item() == pytest.approx(math.sqrt(2 * math.pi) * 0.9973, rel=2e-3)


def test_matches_independent_numpy_reference() -> None:
    """Same number as N·trapz(|φ̂(t) − e^{−t²/2}|² e^{−t²/2}) on the symmetric grid [-3, 3]."""
    x = torch.randn(200, 5, generator=_gen(1), dtype=torch.float64) * 1.3 + 0.2
    got = epps_pulley(x).numpy()
    t = np.linspace(-3.0, 3.0, 33)
    xs = x.numpy()
    for m in range(xs.shape[1]):
        ecf = np.exp(1j * np.outer(xs[:, m], t)).mean(axis=0)
        integrand = np.abs(ecf - np.exp(-(t**2) / 2)) ** 2 * np.exp(-(t**2) / 2)
        ref = xs.shape[0] * np.sum((integrand[1:] + integrand[:-1]) / 2 * np.diff(t))
        assert got[m] == pytest.approx(ref, rel=1e-10)


def test_gaussian_small_and_matches_null_expectation() -> None:
    null = epps_pulley_null_mean()
    assert null == pytest.approx(1.0525, abs=1e-3)
    for n in (64, 512, 2048):
        val = epps_pulley(_samples("gauss", n)).mean().item()
        # E[T] = null for every N; std of a per-slice value is ~0.95, so /√1000 ≈ 0.03.
        assert abs(val - null) < 0.15, (n, val)


def test_non_gaussian_large_and_ordered() -> None:
    n = 512
    vals = {k: epps_pulley(_samples(k, n)).mean().item() for k in ("gauss", "uniform", "shifted")}
    vals["wide"] = epps_pulley(_samples("wide", n)).mean().item()
    assert vals["gauss"] < 1.5
    assert vals["gauss"] < vals["uniform"] < vals["shifted"]
    assert vals["uniform"] > 4 * vals["gauss"]  # measured ≈ 9.5 vs ≈ 1.06
    assert vals["shifted"] > 10 * vals["gauss"]  # measured ≈ 1460
    assert vals["wide"] > 10 * vals["gauss"]  # measured ≈ 590
    # a non-Gaussian distribution's statistic grows linearly with N; the Gaussian's does not
    big = epps_pulley(_samples("uniform", 4 * n)).mean().item()
    assert big > 3 * vals["uniform"]


def test_single_sample_and_shapes() -> None:
    out = epps_pulley(torch.randn(1, 7, generator=_gen(2)))
    assert out.shape == (7,) and torch.isfinite(out).all()
    assert epps_pulley(torch.randn(3, 10, 4)).shape == (3, 4)
    with pytest.raises(ValueError):
        epps_pulley(torch.randn(10))
    with pytest.raises(ValueError):
        epps_pulley(torch.randn(0, 3))
    with pytest.raises(ValueError):
        SIGReg(num_slices=0)
    with pytest.raises(ValueError):
        SIGReg(n_points=1)


# --------------------------------------------------------------------------- SIGReg module


def test_directions_seeded_by_step() -> None:
    reg = SIGReg(num_slices=64)
    a5 = reg.directions(16, step=5)
    assert a5.shape == (16, 64)
    assert torch.allclose(a5.norm(dim=0), torch.ones(64), atol=1e-6)
    assert torch.equal(SIGReg(num_slices=64).directions(16, step=5), a5)  # fresh instance
    a6 = reg.directions(16, step=6)
    assert (a5 - a6).abs().max() > 0.1

    z = torch.randn(128, 16, generator=_gen(3)) * 2.0
    v5 = reg(z, step=5)
    assert v5.ndim == 0
    assert torch.equal(v5, SIGReg(num_slices=64)(z, step=5))
    assert not torch.equal(v5, reg(z, step=6))


def test_views_and_gaussian_level() -> None:
    reg = SIGReg(num_slices=256)
    z = torch.randn(4, 512, 32, generator=_gen(4))
    val = reg(z, step=0)
    per_view = torch.stack([reg(z[v], step=0) for v in range(4)]).mean()
    assert torch.allclose(val, per_view, atol=1e-5)
    assert val.item() < 2.0
    assert reg(torch.zeros(512, 32), step=0).item() > 100  # collapse is heavily penalised


def test_autocast_and_dtypes() -> None:
    reg = SIGReg(num_slices=32)
    z = torch.randn(64, 8, generator=_gen(5))
    ref = reg(z, step=1)
    assert ref.dtype == torch.float32
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        got = reg(z, step=1)
    assert got.dtype == torch.float32
    assert torch.allclose(got, ref, atol=1e-6)
    assert reg(z.bfloat16(), step=1).dtype == torch.float32
    assert reg(z.double(), step=1).dtype == torch.float64


def test_gradient_descent_reaches_isotropic_gaussian() -> None:
    """Minimising SIGReg alone whitens an anisotropic, rotated uniform cloud: no collapse."""
    n, k, steps = 1024, 16, 400
    g = _gen(6)
    scales = torch.logspace(-1.0, 0.5, k)  # std 0.06 .. 1.8: nearly collapsed dims included
    rot, _ = torch.linalg.qr(torch.randn(k, k, generator=g))
    z0 = ((torch.rand(n, k, generator=g) * 2 - 1) * scales + 0.5) @ rot
    z = torch.nn.Parameter(z0.clone())
    reg = SIGReg(num_slices=64)
    opt = torch.optim.Adam([z], lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    start = reg(z, step=0).item()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small ops: one thread is fastest and robust on a busy machine
    try:
        for step in range(steps):
            opt.zero_grad()
            reg(z, step=step).backward()
            opt.step()
            sched.step()
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        zc = z - z.mean(0)
        cov = zc.T @ zc / (n - 1)
        final = SIGReg(num_slices=256)(z, step=10_000).item()  # unseen directions
    dev = (cov - torch.eye(k)).abs().max().item()
    # measured (seeds 1, 2, 6): start ≈ 400, final ≈ 0.2, max|Cov − I| ≈ 0.04-0.06
    assert start > 100 and final < 1.0, (start, final)
    assert dev < 0.15, dev
    assert torch.linalg.eigvalsh(cov).min().item() > 0.8  # the collapsed directions were revived
    assert z.mean(0).abs().max().item() < 0.05


# --------------------------------------------------------------------------- distributed


def test_distributed_helpers_single_process() -> None:
    assert not odist.is_distributed()
    assert odist.world_size() == 1 and odist.rank() == 0
    t = torch.randn(3, requires_grad=True)
    assert odist.all_reduce_mean_with_grad(t) is t
    assert odist.all_reduce_sum_with_grad(t) is t
    assert odist.all_reduce_max_int(7) == 7 and odist.all_reduce_sum_int(7) == 7


_DDP_SPLITS = {"equal": (64, 64), "unequal": (40, 88)}
_DDP_SLICES = 48


def _ddp_worker(rank: int, world: int, init_method: str, out_dir: str) -> None:
    """Child process: SIGReg on this rank's share of the batch; results go to out_dir."""
    import torch.distributed as dist

    try:
        torch.set_num_threads(1)
        dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world)
        full = torch.load(os.path.join(out_dir, "batch.pt"))
        res: dict[str, object] = {
            "world": odist.world_size(),
            "rank": odist.rank(),
            "max": odist.all_reduce_max_int(10 * (rank + 1)),
        }
        # differentiable mean helper: d/dx of the global mean, times world (sum-backward)
        x = torch.tensor([float(rank + 1)], requires_grad=True)
        m = odist.all_reduce_mean_with_grad(x)
        m.backward()
        res["mean"], res["mean_grad"] = m.item(), x.grad.item()
        for name, sizes in _DDP_SPLITS.items():
            lo = sum(sizes[:rank])
            z = full[lo : lo + sizes[rank]].clone().requires_grad_(True)
            # ranks pass different steps on purpose: SIGReg must use the MAX (= 11)
            loss = SIGReg(num_slices=_DDP_SLICES)(z, step=5 if rank == 0 else 11)
            loss.backward()
            res[name] = (loss.detach(), z.grad.detach())
        torch.save(res, os.path.join(out_dir, f"rank{rank}.pt"))
    except BaseException:
        Path(out_dir, f"rank{rank}.err").write_text(traceback.format_exc())
        raise
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def test_ddp_two_ranks_match_single_process(tmp_path: Path) -> None:
    """2 gloo ranks on CPU, each with part of a fixed batch, reproduce the global statistic.

    Gradient convention: every rank returns the *global* loss L; the all-reduce backward sums
    the ranks' upstream grads, so the grad each rank gets for its local rows is
    ``world_size · ∂L/∂z_local``. DDP then averages parameter grads over ranks (÷ world_size),
    recovering exactly ∂L/∂θ of the single-process loss on the concatenated batch.
    """
    import torch.multiprocessing as mp

    world = 2
    n = sum(_DDP_SPLITS["equal"])
    assert all(sum(s) == n for s in _DDP_SPLITS.values())
    full = torch.randn(n, 12, generator=_gen(7)) * torch.linspace(0.3, 2.0, 12) + 0.3
    torch.save(full, tmp_path / "batch.pt")
    init_method = (tmp_path / "store").resolve().as_uri()

    ctx = mp.get_context("spawn")
    procs = [
        ctx.Process(target=_ddp_worker, args=(r, world, init_method, str(tmp_path)), daemon=True)
        for r in range(world)
    ]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.join(timeout=120)
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join(5)
    errs = [f.read_text() for f in sorted(tmp_path.glob("rank*.err"))]
    assert not errs, "\n".join(errs)
    assert [p.exitcode for p in procs] == [0] * world

    results = [torch.load(tmp_path / f"rank{r}.pt") for r in range(world)]
    for r, res in enumerate(results):
        assert res["world"] == world and res["rank"] == r
        assert res["max"] == 20
        assert res["mean"] == pytest.approx(1.5)
        assert res["mean_grad"] == pytest.approx(1.0)  # world · (1/world)

    z = full.clone().requires_grad_(True)
    ref_loss = SIGReg(num_slices=_DDP_SLICES)(z, step=11)
    ref_loss.backward()
    assert ref_loss.item() > 5.0  # far from Gaussian: gradients are not tiny
    for name, sizes in _DDP_SPLITS.items():
        lo = 0
        for r in range(world):
            loss, grad = results[r][name]
            assert torch.allclose(loss, ref_loss.detach(), rtol=1e-5, atol=1e-5), (name, r)
            ref_grad = world * z.grad[lo : lo + sizes[r]]
            assert grad.shape == ref_grad.shape
            assert torch.allclose(grad, ref_grad, rtol=1e-4, atol=1e-5), (name, r)
            lo += sizes[r]
    # sanity: the wrong step (5) would give a different value, so the MAX really mattered
    assert not torch.allclose(SIGReg(num_slices=_DDP_SLICES)(full, step=5), ref_loss)


# --------------------------------------------------------------------------- CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA not available")
def test_cuda_device_placement() -> None:
    reg = SIGReg(num_slices=64)
    z_cpu = torch.randn(256, 16, generator=_gen(8)) * 1.5
    z = z_cpu.cuda().requires_grad_(True)
    val = reg(z, step=3)
    assert val.device.type == "cuda"
    val.backward()
    assert z.grad is not None and z.grad.device.type == "cuda"
    assert torch.equal(reg.directions(16, 3, device="cuda").cpu(), reg.directions(16, 3))
    assert torch.allclose(val.cpu(), reg(z_cpu, step=3), rtol=1e-4, atol=1e-4)
    with torch.autocast(device_type="cuda", dtype=torch.float16):
        amp = reg(z, step=3)
    assert amp.dtype == torch.float32
    assert torch.allclose(amp, val, rtol=1e-4, atol=1e-4)
