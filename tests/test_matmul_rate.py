"""The matmul-rate measurement and the warning for a precision the device only emulates."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from omnijepa.train import matmul_rate
from tests.test_cli import run_cli

CPU = torch.device("cpu")


def test_float32_is_not_emulated_and_gets_no_warning() -> None:
    assert not matmul_rate.emulated(CPU, torch.float32)
    assert matmul_rate.emulated_precision_warning(CPU, "fp32") is None


def test_an_emulated_dtype_is_measured_on_small_products(monkeypatch: pytest.MonkeyPatch) -> None:
    """bf16 without a fast path runs ~1 GFLOP/s: ten 1024^2 products took 27 s of a test."""
    sizes = []
    real = torch.randn

    def spy(*shape, **kw):  # noqa: ANN002, ANN003, ANN202
        sizes.append(shape[0])
        return real(*shape, **kw)

    monkeypatch.setattr(matmul_rate, "emulated", lambda device, dtype: True)
    monkeypatch.setattr(matmul_rate.torch, "randn", spy)
    assert matmul_rate.matmul_flops_per_s(CPU, dtype=torch.bfloat16) > 0
    assert max(sizes) == 256


def test_training_in_an_emulated_precision_warns_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    tiny_overrides,  # noqa: ANN001
) -> None:  # fmt: skip
    monkeypatch.setattr(matmul_rate, "emulated", lambda device, dtype: dtype != torch.float32)
    ov = tiny_overrides("ijepa", "train.precision=bf16", "train.steps=1")
    code, _, err = run_cli(capsys, "train", "ijepa", *ov, "--out", tmp_path / "run")
    assert code == 0
    lines = [x for x in err.splitlines() if "train.precision=bf16" in x]
    assert len(lines) == 1 and lines[0].startswith("omnijepa: warning:")
    assert "GFLOP/s" in lines[0] and "fp32" in lines[0]
