"""Where a text-image recipe's captioned images come from: the generated sentiment scenes
(``data.sentiment_scenes``) or a user folder with ``captions.csv`` (``data.path``,
``data.caption_folder``), as ``train`` and ``test`` splits plus a one-line description."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omnijepa.data.caption_folder import read_caption_folder
from omnijepa.data.sentiment_scenes import CaptionedImages, SentimentSceneConfig, generate_split
from omnijepa.errors import ConfigError


@dataclass
class CaptionDataConfig(SentimentSceneConfig):
    """``data.*``: the generated scenes' keys, or ``path`` (a folder with captions.csv) read at
    ``size`` px with ``channels`` (1 grey, 3 RGB); ``test_fraction`` of every label is held out
    when the CSV has no split column."""

    path: str = ""
    channels: int = 1
    test_fraction: float = 0.25

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.channels not in (1, 3):
            raise ConfigError(f"data.channels must be 1 or 3, got {self.channels}")
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"data.test_fraction must be in (0, 1), got {self.test_fraction}")
        if not self.path and self.channels != 1:
            raise ConfigError("the generated sentiment scenes are grey: data.channels=1")


@dataclass
class CaptionData:
    """Train and test captioned images and where they came from."""

    train: CaptionedImages
    test: CaptionedImages
    source: str

    def describe(self) -> str:
        """One line: source, sizes, classes and their test counts."""
        counts = np.bincount(self.test.labels, minlength=len(self.test.classes))
        per_class = ", ".join(f"{c} {n}" for c, n in zip(self.test.classes, counts))
        side = self.train.images.shape[-1]
        return (f"{self.source}: {len(self.train)} train / {len(self.test)} test image-caption "
                f"pairs of {side} px; test labels {per_class}")  # fmt: skip


def load_caption_data(cfg: CaptionDataConfig, seed: int) -> CaptionData:
    """The user's folder when ``cfg.path`` is set, else the generated scenes of ``seed``."""
    if cfg.path:
        splits = read_caption_folder(Path(cfg.path), cfg.size, cfg.channels, seed,
                                     cfg.test_fraction)  # fmt: skip
        return CaptionData(splits["train"], splits["test"], f"captioned folder {cfg.path}")
    return CaptionData(
        generate_split(cfg, cfg.train_size, seed, "train"),
        generate_split(cfg, cfg.test_size, seed, "test"),
        "generated sentiment scenes (face + clutter, templated captions; test templates unseen)",
    )


__all__ = ["CaptionData", "CaptionDataConfig", "load_caption_data"]
