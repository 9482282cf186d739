"""S-JEPA's three downstream heads, fine-tuned on a fixed montage (Guetschel et al. 2024, §2.4).

Each head mixes the C real channels into ``virtual`` virtual channels (a learned spatial
filter, ``heads.filter``: the paper's free mix or learned scalp spots,
``eval/eeg_spatial_filters.py``) and ends in one linear layer over the (virtual, window, dim)
features:

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
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from omnijepa.errors import ConfigError
from omnijepa.eval.eeg_spatial_filters import SPATIAL_FILTERS
from omnijepa.modalities.eeg import POSITION_COLUMNS
from omnijepa.registry import Registry

HEAD_KINDS = ("contextual", "post_local", "pre_local")
POOLS = ("flatten", "time_mean", "time_mean_std")
NORMS = ("none", "batch")
MODES = ("new", "full")


@dataclass
class HeadsConfig:
    """Which heads and modes to fine-tune, and how (``kinds=[]`` skips them)."""

    kinds: tuple[str, ...] = HEAD_KINDS
    modes: tuple[str, ...] = MODES
    virtual: int = 4  # virtual channels of the spatial filter
    pool: str = "time_mean"  # average the windows; flatten (the paper); time_mean_std (+ std)
    norm: str = "none"  # batch: BatchNorm without affine before the linear layer (MAE's probe)
    # every head's spatial filter: spots, or free (the paper's; at chance on 100 trials)
    filter: str = "spots"
    epochs: int = 30  # 60 before; halved so that repro sjepa fits 10 minutes
    warmup: int = 5  # full: epochs of new layers alone before everything trains
    lr: float = 1e-2  # the paper's 1e-3 leaves the heads at chance in 60 epochs here
    batch_size: int = 32
    train_per_class: int = 50  # generated task: trials per class to fine-tune on
    test_size: int = 400
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
        if self.pool not in POOLS:
            raise ConfigError(f"heads.pool={self.pool!r}; use {', '.join(POOLS)}")
        if self.norm not in NORMS:
            raise ConfigError(f"heads.norm={self.norm!r}; use {', '.join(NORMS)}")
        SPATIAL_FILTERS.get(self.filter)  # one error naming the choices
        if self.virtual < 1 or self.epochs < 1 or self.warmup < 0:
            raise ConfigError("heads.virtual and heads.epochs >= 1, heads.warmup >= 0")


class Readout(nn.Module):
    """(B, V, W, d) -> logits: one linear layer on the flattened features (``flatten``) or on
    their average over the W windows (``time_mean``, W times fewer weights); ``norm="batch"``
    puts a BatchNorm without affine parameters before it, as MAE's linear probe does, so that
    features of very different scales train at one learning rate."""

    def __init__(self, virtual: int, windows: int, dim: int, classes: int, pool: str,
                 norm: str = "none") -> None:  # fmt: skip
        super().__init__()
        self.pool = pool
        width = {"flatten": windows, "time_mean": 1, "time_mean_std": 2}[pool]
        n_in = virtual * dim * width
        self.norm = nn.BatchNorm1d(n_in, affine=False) if norm == "batch" else nn.Identity()
        self.out = nn.Linear(n_in, classes)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        if self.pool == "flatten":
            return self.out(self.norm(feats.flatten(1)))
        pooled = [feats.mean(2)] + ([feats.std(2)] if self.pool == "time_mean_std" else [])
        return self.out(self.norm(torch.cat(pooled, dim=-1).flatten(1)))


class SpatialLinear(nn.Module):
    """(B, C, 3 + W * d) features packed as a recording is (each channel's position, then
    its (W, d) features flattened) -> the spatial filter mixes the C channels into V virtual
    ones -> ``Readout``."""

    def __init__(self, channels: int, windows: int, dim: int, classes: int, virtual: int,
                 pool: str, norm: str = "none", spatial: str = "spots") -> None:  # fmt: skip
        super().__init__()
        self.windows, self.dim = windows, dim
        self.mix = SPATIAL_FILTERS.get(spatial)(channels, virtual)
        self.out = Readout(virtual, windows, dim, classes, pool, norm)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        mixed = self.mix(feats)
        return self.out(mixed.reshape(*mixed.shape[:2], self.windows, self.dim))


class HeadModel(nn.Module):
    """A pre-trained encoder (its ``tokenizer`` is the local encoder) with a new head."""

    def __init__(self, encoder: nn.Module, classes: int, virtual: int, pool: str,
                 norm: str = "none", spatial: str = "spots") -> None:  # fmt: skip
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

    def packed(self, x: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """(B, C * W, d) channel-major tokens of recordings ``x`` -> (B, C, 3 + W * d): each
        channel's position, then its features (what a spatial filter reads)."""
        grid = tokens.reshape(tokens.shape[0], self.channels, -1)
        return torch.cat([x[..., :POSITION_COLUMNS].to(grid.dtype), grid], dim=-1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """What the pre-trained part makes of a batch before the new layers (frozen in
        ``new`` mode, so it is computed once)."""
        raise NotImplementedError

    def readout(self, feats: torch.Tensor) -> torch.Tensor:
        """The new layers (and whatever follows them) on ``features``."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.features(x))


HEAD_MODELS: Registry[type[HeadModel]] = Registry("S-JEPA head (heads.kinds)")


@HEAD_MODELS.register("contextual")
class ContextualHead(HeadModel):
    """Encoder output tokens -> spatial mix -> linear."""

    def __init__(self, encoder: nn.Module, classes: int, virtual: int, pool: str,
                 norm: str = "none", spatial: str = "spots") -> None:  # fmt: skip
        super().__init__(encoder, classes, virtual, pool)
        self.head = SpatialLinear(self.channels, self.windows, self.dim, classes, virtual, pool,
                                  norm, spatial)  # fmt: skip

    def pretrained(self) -> nn.Module:
        return self.encoder

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.packed(x, self.encoder(x))

    def readout(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head(feats)


@HEAD_MODELS.register("post_local")
class PostLocalHead(ContextualHead):
    """Local embeddings of the real channels -> spatial mix -> linear (no transformer)."""

    def pretrained(self) -> nn.Module:
        return self.encoder.tokenizer

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.packed(x, self.encoder.tokenizer(x))


@HEAD_MODELS.register("pre_local")
class PreLocalHead(HeadModel):
    """Spatial filter on the raw signals -> local embedding of each virtual channel -> linear."""

    def __init__(self, encoder: nn.Module, classes: int, virtual: int, pool: str,
                 norm: str = "none", spatial: str = "spots") -> None:  # fmt: skip
        super().__init__(encoder, classes, virtual, pool)
        self.spatial = SPATIAL_FILTERS.get(spatial)(self.channels, virtual)
        self.head = Readout(virtual, self.windows, self.dim, classes, pool, norm)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x  # the filter comes first, and may read the positions: nothing to cache

    def readout(self, feats: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder.tokenizer.embed_signals(self.spatial(feats)))


def _fit(step: Callable[[torch.Tensor], torch.Tensor], params: list, data: Dataset,
         epochs: int, cfg: HeadsConfig, gen: torch.Generator,
         device: torch.device) -> None:  # fmt: skip
    if epochs < 1:
        return
    opt = torch.optim.Adam(params, lr=cfg.lr)
    loss_fn = nn.CrossEntropyLoss()
    # a batch of one breaks heads.norm=batch's BatchNorm
    last_alone = cfg.norm == "batch" and len(data) > 1 and len(data) % cfg.batch_size == 1
    for _ in range(epochs):
        for x, y in DataLoader(data, batch_size=cfg.batch_size, shuffle=True, generator=gen,
                               drop_last=last_alone):  # fmt: skip
            loss = loss_fn(step(x.to(device)), torch.as_tensor(y).to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def _frozen_features(model: HeadModel, data: Dataset, device: torch.device) -> TensorDataset:
    feats, labels = [], []
    with torch.no_grad():
        for x, y in DataLoader(data, batch_size=256):
            feats.append(model.features(x.to(device)))
            labels.append(torch.as_tensor(y))
    return TensorDataset(torch.cat(feats), torch.cat(labels))


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
    build = HEAD_MODELS.get(kind)
    model = build(copy.deepcopy(encoder), classes, cfg.virtual, cfg.pool, cfg.norm,
                  cfg.filter).to(device)  # fmt: skip
    model.encoder.requires_grad_(False).eval()
    gen = torch.Generator().manual_seed(seed)
    new = model.new_parameters()
    # the new layers alone: on the frozen part's features, computed once
    warm = cfg.epochs if mode == "new" else min(cfg.warmup, cfg.epochs)
    _fit(model.readout, new, _frozen_features(model, train, device), warm, cfg, gen, device)
    if mode == "full":
        model.pretrained().requires_grad_(True).train()
        every = new + list(model.pretrained().parameters())
        _fit(model, every, train, cfg.epochs - warm, cfg, gen, device)
    model.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in DataLoader(test, batch_size=256):
            pred = model(x.to(device)).argmax(-1).cpu()
            right += int((pred == torch.as_tensor(y)).sum())
            total += len(pred)
    return right / max(total, 1)


__all__ = ["HEAD_KINDS", "HEAD_MODELS", "MODES", "HeadModel", "HeadsConfig", "head_accuracy"]
