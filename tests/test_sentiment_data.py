"""TI-JEPA's data (first increment): generated image-caption-sentiment triples whose label
needs both modalities, and user folders of captioned images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from omnijepa.data.caption_folder import read_caption_folder
from omnijepa.data.sentiment_scenes import (
    TEST_TEMPLATES,
    TRAIN_TEMPLATES,
    WORDS,
    SentimentSceneConfig,
    draw_face,
    generate_split,
    label_rule,
)
from omnijepa.errors import ConfigError, DataError

SMALL = SentimentSceneConfig(size=32, train_size=8, test_size=8)


def best_single_side_accuracy(side: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of the best predictor that sees only ``side`` (the majority label per value)."""
    hits = 0
    for v in np.unique(side):
        hits += np.bincount(labels[side == v]).max()
    return hits / len(labels)


def test_the_rule_needs_both_sides() -> None:
    img, txt = np.meshgrid(np.arange(3), np.arange(3))
    labels = label_rule(img.ravel(), txt.ravel())
    assert labels.tolist() == [0, 0, 1, 0, 1, 2, 1, 2, 2]  # rows: caption neg, neu, pos
    data = generate_split(SentimentSceneConfig(size=32), 3000, 0, "train")
    for side in (data.image_sentiment, data.text_sentiment):
        assert 0.50 < best_single_side_accuracy(side, data.labels) < 0.61  # 5/9 in expectation
    both = data.image_sentiment * 3 + data.text_sentiment
    assert best_single_side_accuracy(both, data.labels) == 1.0


def test_faces_show_their_mood_and_captions_their_word() -> None:
    mouths = []
    for mood in range(3):
        img = np.zeros((48, 48), np.uint8)
        draw_face(img, 24, 24, 16, mood, 255)
        rows = np.nonzero(img[:, 24])[0]
        mouths.append(rows[(rows > 24) & (rows < 39)].mean())  # the mouth's middle
    assert mouths[2] > mouths[1] > mouths[0]  # a smile dips in the middle, a frown rises
    data = generate_split(SMALL, 60, 1, "test")
    for caption, s in zip(data.captions, data.text_sentiment):
        assert any(w in caption.split() for w in WORDS[int(s)])
    train_forms = {t.split("{")[0] for t in TRAIN_TEMPLATES}
    assert not any(c.startswith(tuple(f for f in train_forms if f)) for c in data.captions)
    assert set(TRAIN_TEMPLATES).isdisjoint(TEST_TEMPLATES)


def test_generation_is_seeded() -> None:
    a, b = generate_split(SMALL, 8, 3, "train"), generate_split(SMALL, 8, 3, "train")
    assert np.array_equal(a.images, b.images) and a.captions == b.captions
    assert a.images.shape == (8, 1, 32, 32) and a.images.dtype == np.uint8
    assert not np.array_equal(a.images, generate_split(SMALL, 8, 4, "train").images)
    with pytest.raises(ConfigError, match="face_scale"):
        SentimentSceneConfig(face_scale=(0.5, 0.2))


def _folder(root: Path, rows: str, images: int = 4) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(images):
        Image.fromarray(np.full((20, 30), 40 * i, np.uint8)).save(root / f"im{i}.png")
    (root / "captions.csv").write_text(rows)


def test_a_caption_folder_reads_with_and_without_a_split(tmp_path: Path) -> None:
    _folder(tmp_path / "a", "File,Caption,Label\nim0.png,nice,pos\nim1.png,bad,neg\n"
            "im2.png,great,pos\nim3.png,awful,neg\n")  # fmt: skip
    parts = read_caption_folder(tmp_path / "a", 16, 1, 0, test_fraction=0.5)
    assert parts["train"].classes == ("neg", "pos")
    assert len(parts["train"]) == 2 and len(parts["test"]) == 2
    assert parts["train"].images.shape == (2, 1, 16, 16)
    _folder(tmp_path / "b", "file,caption,label,split\nim0.png,nice,pos,train\n"
            "im1.png,bad,neg,train\nim2.png,great,pos,test\nim3.png,awful,neg,\n")  # fmt: skip
    parts = read_caption_folder(tmp_path / "b", 16, 3, 0)
    assert parts["test"].captions == ["great"] and parts["train"].images.shape[1] == 3


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ("file,caption\nim0.png,nice\n", "missing column"),
        ("file,caption,label\nim0.png,,pos\n", "empty caption"),
        ("file,caption,label,split\nim0.png,a,pos,dev\nim1.png,b,neg,test\n", "dev"),
        ("file,caption,label,split\nnope.png,a,pos,train\nim1.png,b,neg,test\n", "nope.png"),
        ("file,caption,label\nim0.png,a,pos\nim1.png,b,pos\n", "2 labels"),
    ],
)
def test_a_bad_caption_folder_is_one_clear_error(tmp_path: Path, rows: str, match: str) -> None:
    _folder(tmp_path, rows)
    with pytest.raises(DataError, match=match):
        read_caption_folder(tmp_path, 16, 1, 0)


def test_an_unreadable_image_is_named(tmp_path: Path) -> None:
    _folder(tmp_path, "file,caption,label,split\nbroken.png,a,pos,train\nim1.png,b,neg,test\n")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="broken.png"):
        read_caption_folder(tmp_path, 16, 1, 0)
