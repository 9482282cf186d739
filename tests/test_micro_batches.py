"""Gradient accumulation splits a collated batch by sample; activation checkpointing gives the
same gradients as a plain backward and really recomputes each block."""

from __future__ import annotations

import pytest
import torch

from omnijepa.errors import ConfigError
from omnijepa.nn.transformer import TransformerStack
from omnijepa.train.micro_batches import split_batch
from omnijepa.train.sharding import set_activation_checkpointing


def test_split_batch_cuts_every_per_sample_entry() -> None:
    batch = {
        "x": torch.arange(8).view(8, 1),
        "context": torch.arange(16).view(8, 2),
        "views": [torch.zeros(8, 3), torch.ones(8, 5)],
        "step": 7,
    }
    parts = split_batch(batch, 4)
    assert len(parts) == 4
    assert torch.equal(torch.cat([p["x"] for p in parts]), batch["x"])
    assert torch.equal(torch.cat([p["context"] for p in parts]), batch["context"])
    assert [p["views"][1].shape for p in parts] == [torch.Size([2, 5])] * 4
    assert all(p["step"] == 7 for p in parts)
    assert split_batch(batch, 1)[0] is batch


def test_split_batch_refuses_what_it_cannot_split() -> None:
    with pytest.raises(ConfigError, match="does not divide"):
        split_batch({"x": torch.zeros(6, 2)}, 4)
    with pytest.raises(ConfigError, match="'shared' .* is not per sample"):
        split_batch({"x": torch.zeros(8, 2), "shared": torch.zeros(3)}, 2)


def test_activation_checkpointing_same_gradients_and_recomputes() -> None:
    torch.manual_seed(0)
    stack = TransformerStack(dim=16, depth=2, heads=2)
    x = torch.randn(3, 5, 16)
    calls = []
    stack.blocks[0].attn.register_forward_hook(lambda *_: calls.append(1))

    def grads() -> list[torch.Tensor]:
        stack.zero_grad()
        stack(x).square().sum().backward()
        return [p.grad.clone() for p in stack.parameters()]

    plain = grads()
    assert len(calls) == 1
    assert set_activation_checkpointing(stack, True) == 2
    calls.clear()
    again = grads()
    assert len(calls) == 2  # forward, then the recomputation in backward
    for a, b in zip(plain, again):
        torch.testing.assert_close(a, b)


def test_compiled_blocks_give_the_same_outputs_and_gradients_at_every_length() -> None:
    from omnijepa.train.compilation import compile_blocks

    torch.manual_seed(0)
    stack = TransformerStack(dim=16, depth=2, heads=2)
    keys = list(stack.state_dict())

    def run(n: int) -> list[torch.Tensor]:
        stack.zero_grad()
        x = torch.randn(3, n, 16, generator=torch.Generator().manual_seed(n))
        out = stack(x)
        out.square().sum().backward()
        return [out.detach(), *(p.grad.clone() for p in stack.parameters())]

    eager = {n: run(n) for n in (5, 7)}
    assert compile_blocks(stack) == 2
    assert list(stack.state_dict()) == keys  # checkpoints unchanged
    for n in (5, 7):  # a new sequence length reuses the dynamic graph
        for a, b in zip(eager[n], run(n)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


@pytest.mark.slow
def test_a_compiled_run_logs_the_per_term_encoder_gradients(tmp_path, capsys) -> None:  # noqa: ANN001
    """The probe steps' gradient diagnostic runs one pass per term: compiled blocks cannot
    keep their graph for a second backward (it used to crash every train.compile run)."""
    import json

    from tests.conftest import tiny
    from tests.test_cli import run_cli

    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "ijepa", *tiny("ijepa", "train.compile=true",
                           "train.probe_every=1"), "--out", str(out))  # fmt: skip
    assert code == 0, err
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert any("encoder_grad_prediction" in r for r in rows)
