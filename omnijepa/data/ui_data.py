"""The ``uijepa`` recipe's data: unlabelled recordings to pre-train on, and intent-labelled
recordings in UI-JEPA's few-shot (train, test) and zero-shot (test) splits.

Built in: generated episodes (``data.ui_episodes``). Pre-training draws ``pretrain_episodes``
unlabelled episodes of any intent (as the paper pre-trains on unlabelled recordings); the
decoder learns from ``shots`` episodes of each seen slot combination; few-shot test holds
``test_per_intent`` new episodes of each seen combination, zero-shot test as many of each
unseen one (``data.ui_intents.split_intents``). Every episode's text is a random paraphrase.

``data.path=DIR``: the user's recordings with ``DIR/annotations.csv`` (``data.ui_folder``;
``data.ui_sources`` picks between the two).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from omnijepa.data.canvas import resize_batch
from omnijepa.data.image_data import derived_rng
from omnijepa.data.ui_draw import SCREEN
from omnijepa.data.ui_episodes import render_episode
from omnijepa.data.ui_intents import ACTIONS, Intent, all_intents, split_intents
from omnijepa.errors import ConfigError

SPLITS = ("few_train", "few_test", "zero_test")


@dataclass
class UIDataConfig:
    """What recordings to load and their shape (``path`` replaces the generator)."""

    path: str | None = None
    annotations: str = "annotations.csv"  # path: the intent file inside data.path
    frames: int = 16
    size: int = 64
    channels: int = 1
    pretrain_episodes: int = 1200
    shots: int = 8  # few-shot: decoder-training episodes per seen slot combination
    test_per_intent: int = 3  # test episodes per slot combination (few- and zero-shot)
    heldout_share: float = 0.2  # share of the seen actions' combinations held out (zero-shot)
    unseen_actions: list[str] = field(default_factory=lambda: ["video call"])
    notify: float = 0.5  # chance of a notification banner (a distractor)
    clock: float = 0.5  # chance the status-bar clock ticks over
    end_home: float = 0.5  # chance the user goes back home at the end (hides the result)
    test_fraction: float = 0.25  # path without a split column: share held out per intent

    def __post_init__(self) -> None:
        if self.frames < 2 or self.size < 8 or self.channels not in (1, 3):
            raise ConfigError(f"data.frames >= 2, data.size >= 8 and data.channels 1 or 3; got "
                              f"{self.frames}, {self.size} and {self.channels}")  # fmt: skip
        if min(self.shots, self.test_per_intent) < 1 or self.pretrain_episodes < 1:
            raise ConfigError("data.shots, data.test_per_intent, data.pretrain_episodes >= 1")
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"data.test_fraction must be in (0, 1), got {self.test_fraction}")
        if not 0.0 <= self.heldout_share < 1.0:
            raise ConfigError(f"data.heldout_share must be in [0, 1), got {self.heldout_share}")
        for key in ("notify", "clock", "end_home"):  # chances
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ConfigError(f"data.{key} is a chance in [0, 1], got {getattr(self, key)}")


@dataclass
class IntentClips:
    """uint8 clips (N, C, T, H, W), their intent texts and, for generated data, gold slots."""

    x: np.ndarray
    texts: list[str]
    slots: list[set[tuple[str, str]]] | None = None

    def __len__(self) -> int:
        return len(self.x)


@dataclass
class UIData:
    """Unlabelled pre-training clips, the three labelled splits and where they came from."""

    pretrain: np.ndarray
    splits: dict[str, IntentClips]
    source: str


def to_clips(frames: np.ndarray, size: int, channels: int) -> np.ndarray:
    """(N, T, 64, 64) screens -> (N, C, T, size, size) uint8 clips."""
    n, t = frames.shape[:2]
    if size != SCREEN:
        frames = resize_batch(frames.reshape(n * t, SCREEN, SCREEN), size).reshape(n, t, size, size)
    return np.repeat(frames[:, None], channels, axis=1)


def render_intents(intents: list[Intent], cfg: UIDataConfig, rng: np.random.Generator
                   ) -> IntentClips:  # fmt: skip
    """One episode per listed intent, each with a random paraphrase of its text."""
    frames = (
        np.stack(
            [
                render_episode(i, cfg.frames, rng, cfg.notify, cfg.clock, cfg.end_home).frames
                for i in intents
            ]
        )
        if intents
        else np.zeros(  # fmt: skip
            (0, cfg.frames, SCREEN, SCREEN), np.uint8
        )
    )
    texts = [i.text(int(rng.integers(0, len(ACTIONS[i.action][3])))) for i in intents]
    return IntentClips(
        to_clips(frames, cfg.size, cfg.channels), texts, [i.slots() for i in intents]
    )


def generate_ui_data(cfg: UIDataConfig, seed: int) -> UIData:
    """Pre-training episodes and the few-/zero-shot splits of the generated phone tasks."""
    split = split_intents(tuple(cfg.unseen_actions), cfg.heldout_share,
                          derived_rng(seed, "ui_split"))  # fmt: skip
    every = all_intents()
    rng = derived_rng(seed, "ui_pretrain")
    pre = [every[k] for k in rng.integers(0, len(every), cfg.pretrain_episodes)]
    pretrain = render_intents(pre, cfg, rng).x
    plan = {"few_train": split.seen * cfg.shots, "few_test": split.seen * cfg.test_per_intent,
            "zero_test": split.unseen * cfg.test_per_intent}  # fmt: skip
    splits = {k: render_intents(v, cfg, derived_rng(seed, f"ui_{k}")) for k, v in plan.items()}
    source = (
        f"generated phone tasks ({len(split.seen)} seen / {len(split.unseen)} unseen "
        f"slot combinations; unseen actions: {', '.join(cfg.unseen_actions) or 'none'})"
    )
    return UIData(pretrain, splits, source)


__all__ = ["SPLITS", "IntentClips", "UIData", "UIDataConfig", "generate_ui_data", "to_clips"]
