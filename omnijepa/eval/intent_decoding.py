"""Train UI-JEPA's text decoder on frozen encoder tokens and score what it generates.

The encoder is frozen, so its tokens are computed once per clip; they are standardised per
channel with the training clips' statistics (so encoders whose features differ only in scale
start equal) and are the memory of ``nn.text_decoder.IntentDecoder``, trained from scratch on
the few-shot training intents with teacher forcing (AdamW, cosine schedule, seeded). Every
encoder compared gets the same decoder, steps and seed.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm import tqdm

from omnijepa.errors import ConfigError
from omnijepa.eval.intent_metrics import score_intents
from omnijepa.nn.text_decoder import IntentDecoder, greedy_ensemble
from omnijepa.nn.word_vocab import WordVocab
from omnijepa.schedules import cosine_ramp
from omnijepa.seeding import step_generator


@dataclass
class DecoderConfig:
    """``decoder.*``: the text decoder and its training."""

    dim: int = 64
    depth: int = 2
    heads: int = 4
    dropout: float = 0.0  # 0.1 scored lower (seed 0: 0.672 vs 0.702 similarity) and is slower
    pool: int = 2  # memory tokens average-pooled pool x pool in space (1 = every token)
    steps: int = 500
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    max_len: int = 12  # words + BOS/EOS
    # decoders trained with different seeds, generating together: one decoder's few-shot
    # similarity varied by +-0.04 with its seed alone, three together by +-0.02
    ensemble: int = 3

    def __post_init__(self) -> None:
        for key in ("dim", "depth", "heads", "pool", "steps", "batch_size", "ensemble"):
            if getattr(self, key) < 1:
                raise ConfigError(f"decoder.{key} must be >= 1, got {getattr(self, key)}")
        if self.max_len < 3:
            raise ConfigError(f"decoder.max_len counts BOS + words + EOS: >= 3, got {self.max_len}")
        if not 0.0 <= self.dropout < 1.0 or self.lr <= 0:
            raise ConfigError("decoder.dropout must be in [0, 1) and decoder.lr > 0")
        if self.dim % self.heads:
            raise ConfigError(
                f"decoder.dim={self.dim} is not divisible by decoder.heads={self.heads}"
            )


@dataclass
class DecodeSet:
    """Frozen tokens (N, L, D) of one split with its gold texts and, if known, slots."""

    memory: torch.Tensor
    texts: list[str]
    slots: list[set[tuple[str, str]]] | None = None


Scale = tuple[torch.Tensor, torch.Tensor]  # per-channel mean and std of the training memory


def fit_decoder(memory: torch.Tensor, words: torch.Tensor, vocab: int, cfg: DecoderConfig,
                seed: int, bar: tqdm | None = None) -> IntentDecoder:  # fmt: skip
    """One decoder trained on standardised ``memory`` and word ids (teacher forcing);
    ``bar`` advances once per step."""
    torch.manual_seed(seed)
    dec = IntentDecoder(memory.shape[-1], vocab, cfg.dim, cfg.depth, cfg.heads, cfg.max_len,
                        cfg.dropout).to(memory.device)  # fmt: skip
    opt = torch.optim.AdamW(dec.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = len(words)
    dec.train()
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = cosine_ramp(step, cfg.steps, cfg.lr, 0.0)
        g = step_generator(seed, step, salt=11)
        idx = torch.randint(0, n, (min(cfg.batch_size, n),), generator=g).to(memory.device)
        w = words[idx]
        logits = dec(memory[idx], w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1),
                               ignore_index=0)  # fmt: skip
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if bar is not None:
            bar.update()
    return dec.eval()


def train_decoders(
    train: DecodeSet,
    cfg: DecoderConfig,
    seed: int,
    device: torch.device,
    progress: str | None = None,
) -> tuple[list[IntentDecoder], WordVocab, Scale]:
    """``cfg.ensemble`` decoders fitted on ``train`` (seeds derived from ``seed``), their
    vocabulary and the memory standardisation; ``progress`` names a progress bar (shown on
    a terminal)."""
    vocab = WordVocab(train.texts)
    _say_if_cut(train.texts, vocab, cfg.max_len)
    mem = train.memory.float()
    mean = mem.mean(dim=(0, 1), keepdim=True)
    std = mem.std(dim=(0, 1), keepdim=True).clamp_min(1e-6)
    memory = ((mem - mean) / std).to(device)
    words = vocab.encode(train.texts, cfg.max_len).to(device)
    show = progress is not None and sys.stderr.isatty()
    with tqdm(total=cfg.ensemble * cfg.steps, desc=progress, disable=not show) as bar:
        decoders = [fit_decoder(memory, words, len(vocab), cfg, seed * 1009 + k, bar)
                    for k in range(cfg.ensemble)]  # fmt: skip
    return decoders, vocab, (mean, std)


def _say_if_cut(texts: list[str], vocab: WordVocab, max_len: int) -> None:
    """Warn when intents hold more words than the decoder writes (``max_len`` - BOS - EOS):
    it learns their first words only and can never match them exactly."""
    lengths = [len(vocab.word_ids(t)) for t in texts]
    longer = [n for n in lengths if n > max_len - 2]
    if longer:
        warnings.warn(
            f"{len(longer)} of {len(texts)} training intents hold more than "
            f"decoder.max_len - 2 = {max_len - 2} words (the longest {max(longer)}): the "
            f"decoder writes at most {max_len - 2} and cannot match them exactly; raise "
            f"decoder.max_len to {max(longer) + 2}",
            stacklevel=3,
        )


def generate(
    decoders: list[IntentDecoder],
    vocab: WordVocab,
    scale: Scale,
    memory: torch.Tensor,
    device: torch.device,
    batch: int = 128,
) -> list[str]:
    """Greedy texts of the ensemble for ``memory`` (standardised as the training memory)."""
    mean, std = scale
    out: list[str] = []
    for k in range(0, len(memory), batch):
        m = ((memory[k : k + batch].float() - mean) / std).to(device)
        out += [vocab.decode(row.tolist()) for row in greedy_ensemble(decoders, m).cpu()]
    return out


def decode_and_score(train: DecodeSet, tests: dict[str, DecodeSet], cfg: DecoderConfig,
                     similarity: str, seed: int, device: torch.device,
                     progress: str | None = None
                     ) -> tuple[dict[str, dict[str, float]], dict[str, list[str]]]:  # fmt: skip
    """Scores per test split (empty splits skipped) and the generated texts."""
    decoders, vocab, scale = train_decoders(train, cfg, seed, device, progress)
    scores, texts = {}, {}
    for name, part in tests.items():
        if len(part.texts) == 0:
            continue
        texts[name] = generate(decoders, vocab, scale, part.memory, device)
        scores[name] = score_intents(texts[name], part.texts, part.slots, similarity)
    return scores, texts


__all__ = [
    "DecodeSet",
    "DecoderConfig",
    "decode_and_score",
    "fit_decoder",
    "generate",
    "train_decoders",
]
