"""`omnijepa doctor`: every check runs (or says why not) and the table names each one."""

from __future__ import annotations

import pytest
import torch

from omnijepa.recipes.doctor import (
    CHECKS,
    _bf16_rate,
    _log_mel,
    _point_groups,
    _sigreg,
    format_doctor,
    run_doctor,
)
from tests.test_cli import assert_one_line_error, run_cli

CPU = torch.device("cpu")


def test_doctor_runs_every_check_or_skips_it_with_a_reason() -> None:
    rows = run_doctor(require_gpu=False)
    assert [r["check"] for r in rows] == [name for name, _, _ in CHECKS]
    cuda = torch.cuda.is_available()
    for row, (_, _, needs_cuda) in zip(rows, CHECKS):
        expected = "skipped" if needs_cuda and not cuda else "ok"
        assert row["status"] == expected, row
    table = format_doctor(rows)
    assert table.count("\n| ") == len(CHECKS) + 1  # header + one row per check


def test_device_comparisons_run_on_the_cpu_too() -> None:
    assert "CPU" in _sigreg(CPU) and "identical" in _point_groups(CPU)
    assert "(101, 64)" in _log_mel(CPU)
    rate = _bf16_rate(CPU)
    assert "GFLOP/s" in rate and ("pays" in rate or "keep float32" in rate)


def test_gpu_flag_without_cuda_is_one_error(capsys: pytest.CaptureFixture[str]) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, _, err = run_cli(capsys, "doctor", "--gpu")
    assert code == 2
    assert_one_line_error(err, "CUDA")
