"""One attention call for every layer: PyTorch's SDPA kernel, except for short sequences in
bf16/fp16 on CPU.

On CPU, SDPA's fused (flash) kernel is about twice as fast as plain matrix products in
float32, but in bfloat16 (``train.precision=bf16``, autocast) its forward + backward is 2-6x
slower than ``softmax(q kᵀ) v`` written out up to about 192 x 192 scores (64 tokens: 4-6x;
head width 32-64, torch 2.13, 2 cores); in the I-JEPA bench step it took 30 % of the time.
Beyond about 256 keys the fused kernel wins again (1,024 tokens: 4x) and saves the memory of
the score matrix, so only short sequences take the explicit form, with the softmax in float32.

On CUDA, SDPA may pick cuDNN's attention (torch 2.11, H100), which builds an execution plan
for every new sequence length on the CPU: I-JEPA's context lengths change from batch to
batch, and that planning took 62 % of a ViT-B/16 step's host time, leaving the GPU idle. The
CUDA calls therefore choose among the flash, memory-efficient and math kernels only; measured
on one H100 (bf16, 224 px, `omnijepa bench`): I-JEPA ViT-B/16 batch 128 584 -> 1,734-1,995
samples/s, ViT-H/14 158 -> 404, LeJEPA ViT-B/16 (fixed lengths) 301 -> 383 (measured with
cuDNN's SDPA switched off process-wide: the same kernel choice as the scope below).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

LOW_PRECISION = (torch.bfloat16, torch.float16)
EXPLICIT_MAX_SCORES = 192 * 192  # queries x keys up to which the explicit form is faster
_explicit_everywhere = False
# CUDA kernels SDPA may choose from: not cuDNN's, which re-plans for every sequence length
CUDA_BACKENDS = [SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION, SDPBackend.MATH]


@contextmanager
def explicit_everywhere() -> Iterator[None]:
    """Route every call through the explicit form while inside: torch's FLOP counter has no
    formula for the CPU flash kernel and would count attention as free."""
    global _explicit_everywhere
    before, _explicit_everywhere = _explicit_everywhere, True
    try:
        yield
    finally:
        _explicit_everywhere = before


def explicit_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """``softmax(q kᵀ / √d + mask) v`` with SDPA's mask convention (boolean: True = may attend;
    float: added to the scores). The scores are formed in the inputs' dtype (bf16 rounding,
    about one bf16 step on the outputs) and the softmax runs in float32. A query row with every
    key masked gets zeros, as SDPA gives on CPU, with zero (not NaN) gradients."""
    scores = (q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attn_mask, float("-inf"))
        else:
            scores = scores + attn_mask.to(scores.dtype)
        dead = torch.isneginf(scores).all(-1, keepdim=True)
        scores = scores.masked_fill(dead, 0.0)  # finite, so the softmax's gradient stays finite
    weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(v.dtype)
    if attn_mask is not None:
        weights = weights.masked_fill(dead, 0.0)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p)
    return weights @ v


def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """(B, H, Nq, d) queries over (B, H, Nk, d) keys and values -> (B, H, Nq, d)."""
    short = q.shape[-2] * k.shape[-2] <= EXPLICIT_MAX_SCORES
    if _explicit_everywhere or (q.device.type == "cpu" and q.dtype in LOW_PRECISION and short):
        return explicit_attention(q, k, v, attn_mask, dropout_p)
    if q.device.type == "cuda":
        with sdpa_kernel(CUDA_BACKENDS):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p)


__all__ = ["attention", "explicit_attention", "explicit_everywhere"]
