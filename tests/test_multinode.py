"""torchrun across "nodes": 2 nodes x 1 process (gloo, c10d rendezvous on localhost) train the
same run as 1 process on the global batch — the same losses step by step, the same weights."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import tiny

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def losses(run: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in (run / "metrics.jsonl").read_text().splitlines()
            if "loss" in json.loads(line)]  # fmt: skip


def test_two_nodes_match_one_process(tmp_path: Path) -> None:
    ov = tiny(
        "ijepa:vit", "anti_collapse.kind=none", "train.steps=4", "train.log_every=1",
        "train.batch_size=16", "train.probe_every=0", "eval.baselines=false", "eval.few_shot=[]",
    )  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO),
           "GLOO_SOCKET_IFNAME": "lo"}  # fmt: skip
    env.pop("WORLD_SIZE", None)
    port = free_port()

    def launch(host: bool) -> list[str]:  # both "nodes" on this machine: one hosts the store
        return [
            sys.executable, "-m", "torch.distributed.run", "--nnodes", "2",
            "--nproc_per_node", "1", "--rdzv-backend", "c10d",
            "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "omnijepa",
            "--rdzv-conf", f"is_host={str(host).lower()}",
            "-m", "omnijepa", "train", "ijepa", *ov, "--out", str(tmp_path / "ddp"),
        ]  # fmt: skip

    nodes = [
        subprocess.Popen(launch(host), cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
        for host in (True, False)
    ]  # fmt: skip
    outputs = []
    for node in nodes:
        try:
            outputs.append(node.communicate(timeout=240)[0])
        except subprocess.TimeoutExpired:
            for n in nodes:
                n.kill()
            pytest.fail("torchrun nodes did not finish in 240 s")
    assert all(n.returncode == 0 for n in nodes), "\n".join(o[-3000:] for o in outputs)
    single = subprocess.run(
        [sys.executable, "-m", "omnijepa", "train", "ijepa", *ov, "--out", str(tmp_path / "one")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert single.returncode == 0, single.stderr[-3000:]

    a, b = losses(tmp_path / "ddp"), losses(tmp_path / "one")
    assert len(a) == len(b) == 4
    assert a == pytest.approx(b, rel=1e-4), (a, b)
    wa, wb = (
        load_file(tmp_path / "ddp" / "model.safetensors"),
        load_file(tmp_path / "one" / "model.safetensors"),
    )
    assert wa.keys() == wb.keys()
    for key in wa:
        torch.testing.assert_close(wa[key], wb[key], rtol=1e-4, atol=1e-5, msg=key)
    state = json.loads((tmp_path / "ddp" / "state.json").read_text())
    assert state["step"] == 4 and state["finished"] is True
