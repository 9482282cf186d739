"""A small text decoder conditioned on frozen encoder tokens (UI-JEPA's decoder, scaled down).

UI-JEPA projects the video encoder's tokens with a dense layer into a language model's input
space and fine-tunes Phi-3 on the intent text. Here the projected tokens are the memory of a
2-4 layer pre-norm transformer decoder over a word vocabulary, trained from scratch with
teacher forcing; generation is greedy.
"""

from __future__ import annotations

import torch
from torch import nn


class IntentDecoder(nn.Module):
    """``memory`` (B, L, memory_dim) + previous words (B, S) -> next-word logits (B, S, V)."""

    def __init__(self, memory_dim: int, vocab: int, dim: int = 64, depth: int = 2,
                 heads: int = 4, max_len: int = 16, dropout: float = 0.1) -> None:  # fmt: skip
        super().__init__()
        self.max_len = max_len
        self.project = nn.Sequential(nn.LayerNorm(memory_dim), nn.Linear(memory_dim, dim))
        self.embed = nn.Embedding(vocab, dim)
        self.position = nn.Parameter(torch.randn(max_len, dim) * 0.02)
        layer = nn.TransformerDecoderLayer(dim, heads, 4 * dim, dropout, batch_first=True,
                                           norm_first=True)  # fmt: skip
        self.layers = nn.TransformerDecoder(layer, depth)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, memory: torch.Tensor, words: torch.Tensor) -> torch.Tensor:
        s = words.shape[1]
        x = self.embed(words) + self.position[:s]
        causal = torch.triu(torch.ones(s, s, dtype=torch.bool, device=words.device), 1)
        h = self.layers(x, self.project(memory), tgt_mask=causal, tgt_is_causal=True)
        return self.head(self.norm(h))

    @torch.no_grad()
    def generate(self, memory: torch.Tensor, bos: int = 1, eos: int = 2) -> torch.Tensor:
        """Greedy ids (B, <= max_len - 1) after BOS (see ``greedy_ensemble``)."""
        return greedy_ensemble([self], memory, bos, eos)


@torch.no_grad()
def greedy_ensemble(decoders: list[IntentDecoder], memory: torch.Tensor, bos: int = 1,
                    eos: int = 2) -> torch.Tensor:  # fmt: skip
    """Greedy ids (B, <= max_len - 1) after BOS from the decoders' mean log-probabilities,
    stopping when every row has ended (EOS, then EOS padding)."""
    b, max_len = memory.shape[0], decoders[0].max_len
    words = torch.full((b, 1), bos, dtype=torch.long, device=memory.device)
    done = torch.zeros(b, dtype=torch.bool, device=memory.device)
    for _ in range(max_len - 1):
        logp = torch.stack([d(memory, words)[:, -1].log_softmax(-1) for d in decoders]).mean(0)
        nxt = torch.where(done, torch.full_like(done, eos, dtype=torch.long), logp.argmax(-1))
        words = torch.cat([words, nxt[:, None]], 1)
        done |= nxt == eos
        if bool(done.all()):
            break
    return words[:, 1:]


__all__ = ["IntentDecoder", "greedy_ensemble"]
