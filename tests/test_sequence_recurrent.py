"""Mamba and LSTM sequence backbones: scan forms agree, causality, registry smoke test."""

from __future__ import annotations

import pytest
import torch
from mambapy.mamba import MambaBlock

from omnijepa.errors import ConfigError
from omnijepa.nn.recurrent import LSTMBackbone
from omnijepa.nn.selective_ssm import MambaBackbone
from omnijepa.nn.sequence_backbones import build_sequence_backbone, sequence_backbone_names

DIM = 16


def _mamba(causal: bool = True, **options: object) -> MambaBackbone:
    """A small Mamba whose output depends strongly on the scan.

    At mambapy's init the step sizes are tiny (0.001-0.1) and the ``D * x`` skip dominates, so
    a wrong scan would move the output by less than the tolerances; larger steps, no skip and
    a larger output projection make a 0.1 % error in the scan visible.
    """
    torch.manual_seed(0)
    model = MambaBackbone(dim=DIM, depth=2, causal=causal, d_state=8, **options).eval()
    with torch.no_grad():
        for block in model.modules():
            if isinstance(block, MambaBlock):
                block.D.zero_()
                block.dt_proj.bias.fill_(0.5)
                block.out_proj.weight.mul_(5.0)
    return model


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("n", [1, 7, 16, 33])
def test_mamba_parallel_equals_sequential(n: int, causal: bool) -> None:
    model = _mamba(causal)
    x = torch.randn(2, n, DIM, requires_grad=True)
    par = model(x)
    (g_par,) = torch.autograd.grad(par.square().sum(), x)
    model.set_mode("sequential")
    seq = model(x)
    (g_seq,) = torch.autograd.grad(seq.square().sum(), x)
    assert model.mode == "sequential"
    torch.testing.assert_close(par, seq, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(g_par, g_seq, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("n", [1, 7, 16, 33])
def test_mamba_recurrent_step_equals_parallel(n: int) -> None:
    model = _mamba(mode="parallel")
    x = torch.randn(2, n, DIM)
    with torch.no_grad():
        torch.testing.assert_close(model.step_sequence(x), model(x), atol=1e-5, rtol=1e-5)


def test_mamba_step_sequence_needs_causal() -> None:
    with pytest.raises(ValueError, match="causal"):
        _mamba(causal=False).step_sequence(torch.randn(1, 3, DIM))


def _future_change(model: torch.nn.Module, n: int = 12, k: int = 7) -> tuple[float, float]:
    """Max change of outputs before / at-and-after token ``k`` when only token ``k`` changes."""
    x = torch.randn(2, n, DIM)
    x2 = x.clone()
    x2[:, k] += torch.randn(2, DIM)
    with torch.no_grad():
        diff = (model(x) - model(x2)).abs()
    return diff[:, :k].max().item(), diff[:, k:].max().item()


@pytest.mark.parametrize("mode", ["parallel", "sequential"])
def test_mamba_causality(mode: str) -> None:
    before, after = _future_change(_mamba(True, mode=mode))
    assert before < 1e-6
    assert after > 1e-3
    before, after = _future_change(_mamba(False, mode=mode))
    assert before > 1e-3
    assert after > 1e-3


def test_lstm_causality() -> None:
    torch.manual_seed(0)
    before, after = _future_change(LSTMBackbone(DIM, 2, causal=True).eval())
    assert before < 1e-6
    assert after > 1e-3
    before, after = _future_change(LSTMBackbone(DIM, 2, causal=False).eval())
    assert before > 1e-3


@pytest.mark.parametrize("cls", [MambaBackbone, LSTMBackbone])
def test_positions_ignored(cls: type[torch.nn.Module]) -> None:
    torch.manual_seed(0)
    model = cls(dim=DIM, depth=1, causal=False).eval()
    x = torch.randn(2, 5, DIM)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x, positions=torch.tensor([9, 3, 4, 0, 1])))
    assert model.dim == DIM


def test_unknown_options_rejected() -> None:
    with pytest.raises(ConfigError, match="d_stat"):
        MambaBackbone(dim=DIM, depth=1, d_stat=4)
    with pytest.raises(ConfigError, match="mode"):
        MambaBackbone(dim=DIM, depth=1, mode="fast")
    with pytest.raises(ConfigError, match="d_state"):
        LSTMBackbone(dim=DIM, depth=1, d_state=4)


def _forward_backward(model: torch.nn.Module) -> None:
    x = torch.randn(3, 9, 32)
    out = model(x)
    assert out.shape == (3, 9, 32)
    out.square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("cls", [MambaBackbone, LSTMBackbone])
def test_direct_forward_backward(cls: type[torch.nn.Module], causal: bool) -> None:
    torch.manual_seed(0)
    _forward_backward(cls(dim=32, depth=2, heads=4, causal=causal))


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("name", sequence_backbone_names())
def test_registry_forward_backward(name: str, causal: bool) -> None:
    """The backbone contract, for every registered backbone."""
    torch.manual_seed(0)
    _forward_backward(build_sequence_backbone(name, dim=32, depth=2, heads=4, causal=causal))
    with pytest.raises(ConfigError, match="d_stat"):
        build_sequence_backbone(name, dim=32, depth=2, d_stat=4)
