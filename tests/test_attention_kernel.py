"""The explicit attention used in bf16 on CPU computes what SDPA computes."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from omnijepa.nn import attention_kernel
from omnijepa.nn.attention_kernel import attention, explicit_attention
from omnijepa.nn.transformer import TransformerStack


def _qkv(n_q: int = 9, n_k: int = 11) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, n_q, 8, generator=gen)
    k, v = (torch.randn(2, 3, n_k, 8, generator=gen) for _ in range(2))
    return q, k, v


@pytest.mark.parametrize("mask_kind", ["none", "bool_keys", "bool_full", "additive"])
def test_explicit_attention_matches_sdpa(mask_kind: str) -> None:
    q, k, v = _qkv()
    mask = None
    if mask_kind == "bool_keys":
        mask = torch.ones(2, 1, 1, 11, dtype=torch.bool)
        mask[1, ..., :4] = False
    elif mask_kind == "bool_full":
        mask = torch.rand(2, 1, 9, 11, generator=torch.Generator().manual_seed(1)) > 0.4
        mask[..., 0] = True  # every query keeps a key
    elif mask_kind == "additive":
        mask = torch.randn(1, 3, 9, 11)
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(explicit_attention(q, k, v, mask), want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["bool", "additive"])
def test_a_query_with_every_key_masked_gets_what_sdpa_gives(kind: str) -> None:
    q, k, v = (t.requires_grad_(True) for t in _qkv())
    mask = torch.ones(2, 1, 9, 11, dtype=torch.bool)
    mask[0, 0, 3] = False
    if kind == "additive":
        mask = torch.zeros(2, 1, 9, 11).masked_fill(~mask, float("-inf"))
    out = explicit_attention(q, k, v, mask)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    assert out[0, :, 3].abs().max() == 0
    out.sum().backward()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))


def test_bf16_on_cpu_takes_the_explicit_path_and_fp32_takes_sdpa(monkeypatch) -> None:
    calls: list[torch.dtype] = []
    real = attention_kernel.explicit_attention

    def spy(q, *args, **kwargs):
        calls.append(q.dtype)
        return real(q, *args, **kwargs)

    monkeypatch.setattr(attention_kernel, "explicit_attention", spy)
    q, k, v = _qkv()
    attention(q, k, v)
    assert calls == []
    out = attention(q.bfloat16(), k.bfloat16(), v.bfloat16())
    assert calls == [torch.bfloat16] and out.dtype == torch.bfloat16
    want = F.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out.float(), want, atol=3e-2, rtol=3e-2)
    long_q = torch.randn(1, 1, 300, 8, dtype=torch.bfloat16)  # the fused kernel wins there
    attention(long_q, long_q, long_q)
    assert calls == [torch.bfloat16]


def test_a_stack_under_cpu_autocast_trains_close_to_float32() -> None:
    """Forward and gradients of a transformer stack in bf16 autocast stay near float32's."""
    torch.manual_seed(0)
    stack = TransformerStack(32, 2, 4)
    x, target = torch.randn(4, 16, 32), torch.randn(4, 16, 32)
    pad = torch.zeros(4, 16, dtype=torch.bool)
    pad[2, -5:] = True
    mask = ~pad[:, None, None, :]
    outs, grads = [], []
    for bf16 in (False, True):
        stack.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = stack(x, mask)
        (out.float() - target).square().mean().backward()
        outs.append(out.float().detach())
        grads.append(stack.blocks[0].attn.qkv.weight.grad.clone())
    assert torch.isfinite(grads[1]).all()
    torch.testing.assert_close(outs[1], outs[0], atol=5e-2, rtol=5e-2)
    cos = F.cosine_similarity(grads[0].flatten(), grads[1].flatten(), dim=0)
    assert cos > 0.999


def test_inside_explicit_everywhere_a_flop_counter_sees_attention() -> None:
    from torch.utils.flop_counter import FlopCounterMode

    from omnijepa.nn.attention_kernel import explicit_everywhere

    q, k, v = _qkv()
    with FlopCounterMode(display=False) as counter, explicit_everywhere():
        attention(q, k, v)
    assert counter.get_total_flops() == 2 * 2 * (2 * 3 * 9 * 11 * 8)  # two matmuls
    assert attention_kernel._explicit_everywhere is False  # restored on the way out


def test_cuda_calls_leave_out_cudnn_attention() -> None:
    """cuDNN's SDPA plans anew for every sequence length on the host; with I-JEPA's changing
    context lengths that made a ViT-B/16 step 3x slower on an H100 (module docstring)."""
    from torch.nn.attention import SDPBackend

    from omnijepa.nn.attention_kernel import CUDA_BACKENDS

    assert SDPBackend.CUDNN_ATTENTION not in CUDA_BACKENDS
    assert SDPBackend.FLASH_ATTENTION in CUDA_BACKENDS and SDPBackend.MATH in CUDA_BACKENDS
