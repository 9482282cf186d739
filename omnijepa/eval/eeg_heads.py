"""S-JEPA's three downstream heads, fine-tuned on a fixed montage (Guetschel et al. 2024, §2.4).

Each head mixes the C real channels into ``virtual`` virtual channels (a learned spatial
filter) and ends in one linear layer over the flattened (virtual, window, dim) features:

- ``contextual``: the whole pre-trained encoder (local embedding, positions, transformer), then
  the spatial mix of its output tokens;
- ``post_local``: only the pre-trained local encoder (the window embedding), then the mix;
- ``pre_local``: the spatial filter first, on the raw signals; the pre-trained local encoder
  then embeds each virtual channel.

``mode="new"`` trains only the new layers (the pre-trained parts frozen); ``mode="full"``
trains the new layers alone for ``warmup`` epochs, then everything (the paper's "full-").
Pre-local and post-local need a local encoder worth keeping: with ``model.local=linear`` they
are linear models of the samples and cannot measure a rhythm's power.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from omnijepa.errors import ConfigError
from omnijepa.registry import Registry

HEAD_KINDS = ("contextual", "post_local", "pre_local")
MODES = ("new", "full")


@dataclass
class HeadsConfig:
    """Which heads and modes to fine-tune, and how (``kinds=[]`` skips them)."""

    kinds: tuple[str, ...] = HEAD_KINDS
    modes: tuple[str, ...] = MODES
    virtual: int = 4  # virtual channels of the spatial filter
    epochs: int = 60
    warmup: int = 10  # full: epochs of new layers alone before everything trains
    lr: float = 1e-3
    batch_size: int = 32
    train_per_class: int = 30  # generated task: trials per class to fine-tune on
    test_size: int = 200
    montage: tuple[str, ...] = field(default_factory=tuple)  # generated task: () = Emotiv-14

    def __post_init__(self) -> None:
        bad = [k for k in self.kinds if k not in HEAD_KINDS] + [
            m for m in self.modes if m not in MODES
        ]
        if bad:
            raise ConfigError(
                f"unknown heads.kinds/modes {bad}; kinds: {', '.join(HEAD_KINDS)}, "
                f"modes: {', '.join(MODES)}"
            )
        if self.virtual < 1 or self.epochs < 1 or self.warmup < 0:
            raise ConfigError("heads.virtual and heads.epochs >= 1, heads.warmup >= 0")


class SpatialLinear(nn.Module):
    """(B, C, W, d) -> C mixed into V virtual channels -> flatten -> logits."""

    def __init__(self, channels: int, windows: int, dim: int, classes: int, virtual: int) -> None:
        super().__init__()
        self.mix = nn.Linear(channels, virtual, bias=False)
        self.out = nn.Linear(virtual * windows * dim, classes)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        mixed = torch.einsum("bcwd,vc->bvwd", feats, self.mix.weight)
        return self.out(mixed.flatten(1))


class HeadModel(nn.Module):
    """A pre-trained encoder (its ``tokenizer`` is the local encoder) with a new head."""

    def __init__(self, encoder: nn.Module, classes: int, virtual: int) -> None:
        super().__init__()
        self.encoder = encoder
        tok = encoder.tokenizer
        self.channels, self.windows, self.dim = tok.channels, tok.windows, tok.dim

    def pretrained(self) -> nn.Module:
        """The pre-trained part this head uses (the local encoder unless overridden)."""
        return self.encoder.tokenizer

    def new_parameters(self) -> list[nn.Parameter]:
        """The head's own layers."""
        return [p for n, p in self.named_parameters() if not n.startswith("encoder.")]

    def grid(self, tokens: torch.Tensor) -> torch.Tensor:
        """(B, C * W, d) channel-major tokens -> (B, C, W, d)."""
        return tokens.reshape(tokens.shape[0], self.channels, self.windows, -1)


HEAD_MODELS: Registry[type[HeadModel]] = Registry("S-JEPA head (heads.kinds)")


@HEAD_MODELS.register("contextual")
class ContextualHead(HeadModel):
    """Encoder output tokens -> spatial mix -> linear."""

    def __init__(self, encoder: nn.Module, classes: int, virtual: int) -> None:
        super().__init__(encoder, classes, virtual)
        self.head = SpatialLinear(self.channels, self.windows, self.dim, classes, virtual)

    def pretrained(self) -> nn.Module:
        return self.encoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.grid(self.encoder(x)))


@HEAD_MODELS.register("post_local")
class PostLocalHead(HeadModel):
    """Local embeddings of the real channels -> spatial mix -> linear (no transformer)."""

    def __init__(self, encoder: nn.Module, classes: int, virtual: int) -> None:
        super().__init__(encoder, classes, virtual)
        self.head = SpatialLinear(self.channels, self.windows, self.dim, classes, virtual)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.grid(self.encoder.tokenizer(x)))


@HEAD_MODELS.register("pre_local")
class PreLocalHead(HeadModel):
    """Spatial filter on the raw signals -> local embedding of each virtual channel -> linear."""

    def __init__(self, encoder: nn.Module, classes: int, virtual: int) -> None:
        super().__init__(encoder, classes, virtual)
        self.spatial = nn.Linear(self.channels, virtual, bias=False)
        self.head = nn.Linear(virtual * self.windows * self.dim, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        signal = torch.nan_to_num(x[..., 3:], nan=0.0)
        virtual = torch.einsum("bct,vc->bvt", signal, self.spatial.weight)
        return self.head(self.encoder.tokenizer.embed_signals(virtual).flatten(1))


def _fit(model: HeadModel, params: list, data: Dataset, epochs: int, cfg: HeadsConfig,
         gen: torch.Generator, device: torch.device) -> None:  # fmt: skip
    if epochs < 1:
        return
    opt = torch.optim.Adam(params, lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for x, y in DataLoader(data, batch_size=cfg.batch_size, shuffle=True, generator=gen):
            loss = loss_fn(model(x.to(device)), torch.as_tensor(y).to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def head_accuracy(
    encoder: nn.Module,
    kind: str,
    mode: str,
    train: Dataset,
    test: Dataset,
    classes: int,
    cfg: HeadsConfig,
    device: torch.device,
    seed: int = 0,
) -> float:
    """Fine-tune a copy of ``encoder`` with the ``kind`` head in ``mode``; test accuracy."""
    if mode not in MODES:
        raise ConfigError(f"unknown head mode {mode!r}; use {', '.join(MODES)}")
    torch.manual_seed(seed)
    model = HEAD_MODELS.get(kind)(copy.deepcopy(encoder), classes, cfg.virtual).to(device)
    model.encoder.requires_grad_(False)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    new = model.new_parameters()
    if mode == "new":
        _fit(model, new, train, cfg.epochs, cfg, gen, device)
    else:
        _fit(model, new, train, min(cfg.warmup, cfg.epochs), cfg, gen, device)
        model.pretrained().requires_grad_(True)
        every = new + list(model.pretrained().parameters())
        _fit(model, every, train, cfg.epochs - min(cfg.warmup, cfg.epochs), cfg, gen, device)
    model.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in DataLoader(test, batch_size=256):
            pred = model(x.to(device)).argmax(-1).cpu()
            right += int((pred == torch.as_tensor(y)).sum())
            total += len(pred)
    return right / max(total, 1)

__all__ = ["HEAD_KINDS", "HEAD_MODELS", "MODES", "HeadModel", "HeadsConfig", "head_accuracy"]
