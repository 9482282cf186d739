"""Image-caption-sentiment triples where neither modality alone gives the label (TI-JEPA's
small-scale multimodal sentiment task, in place of MVSA).

Each image is a grey ``size`` x ``size`` scene: a face (a ring with two eyes and a mouth that
smiles, is flat or frowns) near the centre (``face_spread``) at a random scale among clutter
(rectangles, rings, bars). Each caption fills a template with a sentiment word (positive,
neutral or negative) and a noun ("the morning at the park was lovely"). The face's sentiment
is uniform; the caption copies it with probability ``agreement`` (captions describe their
images, somewhat, as real ones do) and is otherwise uniform and independent. The label
(negative, neutral, positive) follows a fixed rule:

- a neutral caption takes the image's sentiment, a neutral face takes the caption's;
- agreeing sentiments keep it; a smile with a negative caption or a frown with a positive one
  is mixed, hence neutral.

So with ``agreement=0`` the face alone predicts the label at most 5/9 of the time, as does the
caption alone (the best guess from one side is right in 1/3 of the neutral cases and 2/3 of
the others); with the default 0.25, at most 2/3; the two together always. Face size, mouth
depth and placement were set so that a 300-step I-JEPA ViT's mean-pooled tokens read the
face's sentiment at about 75% (at random init 64%; anywhere in the scene, 40%).
Test captions use templates never seen in training, so a text model has
to read the sentiment word, not the template.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnijepa.data.image_data import derived_rng
from omnijepa.errors import ConfigError

CLASSES = ("negative", "neutral", "positive")
WORDS = {
    0: ("awful", "terrible", "gloomy", "miserable", "dreadful"),
    1: ("ordinary", "usual", "plain", "typical", "regular"),
    2: ("lovely", "wonderful", "great", "delightful", "fantastic"),
}
NOUNS = ("park", "beach", "office", "kitchen", "street", "garden", "station", "party")
TRAIN_TEMPLATES = (
    "the morning at the {n} was {w}",
    "the {n} looks {w} today",
    "feeling {w} at the {n}",
    "our day at the {n} was {w}",
)
TEST_TEMPLATES = (
    "honestly the {n} was {w}",
    "everything at the {n} felt {w}",
)


def label_rule(image: np.ndarray, text: np.ndarray) -> np.ndarray:
    """Labels (0 negative, 1 neutral, 2 positive) from image and caption sentiments."""
    image, text = np.asarray(image), np.asarray(text)
    out = np.where(text == 1, image, np.where(image == 1, text, np.where(image == text, image, 1)))
    return out.astype(np.int64)


@dataclass
class SentimentSceneConfig:
    """``data.*`` of the generated triples."""

    size: int = 48
    train_size: int = 3000
    test_size: int = 1000
    clutter: int = 3  # distractor shapes per scene
    face_scale: tuple[float, float] = (0.5, 0.8)  # face diameter / image side
    mouth_bend: float = 0.5  # smile / frown depth, x face radius
    mouth_width: float = 0.12  # mouth half-thickness, x face radius
    face_spread: float = 0.15  # share of the free room the face centre wanders (0 = centred)
    agreement: float = 0.5  # chance that the caption copies the face's sentiment

    def __post_init__(self) -> None:
        lo, hi = (float(v) for v in self.face_scale)
        if self.size < 24 or not 0.15 <= lo <= hi <= 0.9:
            raise ConfigError("data.size >= 24 and 0.15 <= data.face_scale lo <= hi <= 0.9")
        if min(self.train_size, self.test_size) < 1 or self.clutter < 0:
            raise ConfigError("data.train_size, data.test_size >= 1 and data.clutter >= 0")
        if not (0 <= self.agreement <= 1 and 0 <= self.face_spread <= 1
                and 0 < self.mouth_bend <= 1 and 0 < self.mouth_width <= 0.3):  # fmt: skip
            raise ConfigError("data.agreement and data.face_spread in [0, 1], data.mouth_bend "
                              "in (0, 1], data.mouth_width in (0, 0.3]")  # fmt: skip


@dataclass
class CaptionedImages:
    """uint8 images (N, 1, H, W), captions and labels; for generated data also each side's
    own sentiment (``image_sentiment``, ``text_sentiment``), else None."""

    images: np.ndarray
    captions: list[str]
    labels: np.ndarray
    classes: tuple[str, ...]
    image_sentiment: np.ndarray | None = None
    text_sentiment: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)


def draw_face(img: np.ndarray, cy: float, cx: float, radius: float, mood: int,
              value: int, bend: float = 0.25, mouth: float = 0.07) -> None:  # fmt: skip
    """A ring face with two eyes and a mouth: a smile (mood 2), a flat line (1) or a frown (0)
    whose middle sits ``bend`` x radius off its ends, ``mouth`` x radius half-thick."""
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]].astype(float)
    d = np.hypot(yy - cy, xx - cx)
    img[np.abs(d - radius) <= max(1.0, radius * 0.09)] = value
    for side in (-1, 1):
        img[np.hypot(yy - (cy - 0.3 * radius), xx - (cx + side * 0.35 * radius))
            <= max(1.0, 0.12 * radius)] = value  # fmt: skip
    bend = (1 - mood) * bend * radius  # smile (mood 2): the middle sits lower than the ends
    u = (xx - cx) / (0.45 * radius)
    mouth_row = cy + 0.4 * radius - bend * (1 - u**2) + bend * 0.5
    on = (np.abs(u) <= 1) & (np.abs(yy - mouth_row) <= max(0.8, mouth * radius))
    img[on] = value


def _clutter(img: np.ndarray, rng: np.random.Generator, n: int) -> None:
    s = img.shape[0]
    yy, xx = np.mgrid[:s, :s]
    for _ in range(n):
        kind, v = int(rng.integers(0, 3)), int(rng.integers(60, 200))
        y, x = rng.integers(0, s, 2)
        if kind == 0:
            h, w = rng.integers(3, s // 4, 2)
            img[y : y + h, x : x + w] = v
        elif kind == 1:
            r = rng.uniform(2, s / 8)
            img[np.abs(np.hypot(yy - y, xx - x) - r) <= 0.7] = v
        else:
            img[y : y + 2, max(0, x - s // 6) : x + s // 6] = v


def render_scenes(mood: np.ndarray, cfg: SentimentSceneConfig, rng: np.random.Generator
                  ) -> np.ndarray:  # fmt: skip
    """One (1, size, size) scene per face ``mood``: clutter first, the face drawn over it."""
    s = cfg.size
    out = np.zeros((len(mood), 1, s, s), np.uint8)
    for i, m in enumerate(mood):
        img = (rng.random((s, s)) * 25).astype(np.uint8)
        _clutter(img, rng, cfg.clutter)
        radius = rng.uniform(*cfg.face_scale) * s / 2
        free = (s - 2 * radius - 2) / 2 * cfg.face_spread  # off-centre range, px
        cy, cx = s / 2 + rng.uniform(-free, free, 2)
        value = int(rng.integers(190, 256))
        draw_face(img, cy, cx, radius, int(m), value, cfg.mouth_bend, cfg.mouth_width)
        out[i, 0] = img
    return out


def captions(sentiment: np.ndarray, templates: tuple[str, ...], rng: np.random.Generator
             ) -> list[str]:  # fmt: skip
    """A caption per sentiment: a random template, word of that sentiment and noun."""
    return [templates[int(rng.integers(0, len(templates)))].format(
                w=WORDS[int(c)][int(rng.integers(0, len(WORDS[int(c)])))],
                n=NOUNS[int(rng.integers(0, len(NOUNS)))]) for c in sentiment]  # fmt: skip


def generate_split(cfg: SentimentSceneConfig, n: int, seed: int, split: str) -> CaptionedImages:
    """``n`` triples of the ``train`` or ``test`` split (test: held-out caption templates)."""
    rng = derived_rng(seed, f"sentiment_{split}")
    image_s, text_s = rng.integers(0, 3, n), rng.integers(0, 3, n)
    text_s = np.where(rng.random(n) < cfg.agreement, image_s, text_s)
    templates = TRAIN_TEMPLATES if split == "train" else TEST_TEMPLATES
    return CaptionedImages(render_scenes(image_s, cfg, rng), captions(text_s, templates, rng),
                           label_rule(image_s, text_s), CLASSES, image_s, text_s)  # fmt: skip


__all__ = [
    "CLASSES",
    "CaptionedImages",
    "SentimentSceneConfig",
    "draw_face",
    "generate_split",
    "label_rule",
]
