"""The encoder and predictor configs every recipe shares (``model.*`` and ``predictor.*``).

A recipe subclasses them only to change defaults or to add its tokenizer's own keys (patch
size, point groups, regularization tokens); the positional encoding named by ``model.pos`` is
built from the tokenizer's declared axes, and ``predictor.kind`` picks any entry of
``nn.predictors.PREDICTORS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from omnijepa.errors import ConfigError
from omnijepa.nn.encoder import TokenEncoder
from omnijepa.nn.predictors import PREDICTORS
from omnijepa.nn.tokens import Axis, Tokenizer
from omnijepa.objectives.latent_prediction import LatentPrediction

_PREDICTOR_ALIASES = {"ijepa": "mask_tokens"}

# ``omnijepa repro NAME --quick`` sizes of the small token recipes (series, EEG)
TOKEN_QUICK = [
    "train.steps=4", "train.batch_size=16", "data.train_size=64", "data.test_size=32",
    "model.dim=32", "model.depth=1", "model.heads=2", "predictor.dim=16", "predictor.heads=2",
]  # fmt: skip  # the name runs saved before it moved to nn/


def _check_heads(where: str, dim: int, heads: int) -> None:
    if heads < 1 or dim < 1 or dim % heads:
        raise ConfigError(f"{where}.dim={dim} must be a positive multiple of {where}.heads={heads}")


@dataclass
class EncoderConfig:
    """The transformer over tokens: width, depth, heads, MLP ratio, positional encoding."""

    dim: int = 128
    depth: int = 4
    heads: int = 4
    mlp_ratio: float = 4.0
    pos: str = "sincos"

    def __post_init__(self) -> None:
        _check_heads("model", self.dim, self.heads)
        if self.depth < 1 or self.mlp_ratio <= 0:
            raise ConfigError("model.depth must be >= 1 and model.mlp_ratio > 0")


@dataclass
class PredictorConfig:
    """The narrow predictor (I-JEPA: width 384 at ViT-H scale; here about half the encoder).

    ``kind``: ``mask_tokens`` (context and queries updated together), ``context_aware``
    (the encoder context re-fed at every layer) or ``isolated_queries`` (each target from the
    context and its own position only)."""

    kind: str = "mask_tokens"
    dim: int = 64
    depth: int = 1  # shallow: as good on the probes here, half the cost of 3 (TU Delft thesis)
    heads: int = 4
    mlp_ratio: float = 4.0

    def __post_init__(self) -> None:
        _check_heads("predictor", self.dim, self.heads)
        if self.depth < 1:
            raise ConfigError(f"predictor.depth must be >= 1, got {self.depth}")


def build_predictor(
    p: PredictorConfig, enc_dim: int, pos: str, axes: tuple[Axis, ...]
) -> nn.Module:
    """The predictor ``p.kind`` predicting ``enc_dim``-wide targets at coordinates on ``axes``."""
    cls = PREDICTORS.get(_PREDICTOR_ALIASES.get(p.kind, p.kind))
    return cls(enc_dim, p.dim, p.depth, p.heads, p.mlp_ratio, pos, axes)


def build_token_jepa(tokenizer: Tokenizer, cfg: Any) -> LatentPrediction:
    """The latent-prediction objective of a tokenizer-based recipe: ``TokenEncoder`` over
    ``tokenizer`` (``cfg.model``), ``cfg.predictor``, and the EMA target with ``cfg.loss``,
    ``cfg.ema``, ``cfg.anti_collapse`` and ``cfg.position_probe``."""
    m = cfg.model
    encoder = TokenEncoder(tokenizer, m.depth, m.heads, m.mlp_ratio, m.pos)
    predictor = build_predictor(cfg.predictor, m.dim, m.pos, tokenizer.axes)
    return LatentPrediction(
        encoder, predictor, cfg.loss, cfg.ema, cfg.anti_collapse, cfg.position_probe
    )
