"""UI-JEPA: the intent grammar, generated episodes, temporal masks, the text decoder, the
intent metrics, user folders of recordings, and the recipe end to end."""

from __future__ import annotations

import dataclasses
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from omnijepa.data.ui_data import UIDataConfig, generate_ui_data
from omnijepa.data.ui_episodes import render_episode
from omnijepa.data.ui_folder import export_ui_folder, read_ui_folder
from omnijepa.data.ui_intents import ACTIONS, Intent, all_intents, parse_slots, split_intents
from omnijepa.data.ui_sources import load_ui_data
from omnijepa.errors import ConfigError, DataError
from omnijepa.eval.intent_decoding import DecoderConfig, DecodeSet, decode_and_score
from omnijepa.eval.intent_metrics import exact_match, resolve_similarity, score_intents
from omnijepa.masks.frames import (
    FramesAndTubesConfig,
    FramesAndTubesSampler,
    TemporalConfig,
    TemporalMaskSampler,
)
from omnijepa.nn.word_vocab import WordVocab
from omnijepa.recipes.uijepa import pool_space, varied_examples
from tests.conftest import UIJEPA_TINY
from tests.test_cli import assert_one_line_error, run_cli

SMALL = UIDataConfig(frames=8, size=32, pretrain_episodes=6, shots=1, test_per_intent=1)


def test_every_paraphrase_parses_back_to_its_slots() -> None:
    for intent in all_intents():
        for k in range(len(ACTIONS[intent.action][3])):
            assert parse_slots(intent.text(k)) == intent.slots(), intent.text(k)
    assert parse_slots("add an event on monday") == {("app", "calendar"), ("action", "add event"),
                                                     ("value", "monday")}  # fmt: skip
    assert parse_slots("the weather is nice") == set()


def test_the_split_holds_out_actions_and_combinations_of_seen_values() -> None:
    split = split_intents(("video call",), 0.25, np.random.default_rng(0))
    assert not {i.action for i in split.seen} & {"video call"}
    assert {i for i in split.unseen if i.action == "video call"} == {
        i for i in all_intents() if i.action == "video call"
    }
    seen_values = set().union(*(i.slots() for i in split.seen))
    for i in split.unseen:
        if i.action != "video call":
            assert i.slots() <= seen_values  # a new combination of values seen in training
    assert not set(split.seen) & set(split.unseen)
    assert len(split.unseen) > 8
    with pytest.raises(ConfigError, match="unseen_actions"):
        split_intents(("fly",), 0.2, np.random.default_rng(0))


def test_episodes_are_deterministic_and_differ_by_intent() -> None:
    a = Intent("phone", "call", "bob", "")
    b = Intent("phone", "call", "heidi", "")
    ea = render_episode(a, 16, np.random.default_rng(3))
    assert ea.frames.shape == (16, 64, 64) and ea.frames.dtype == np.uint8
    assert np.array_equal(ea.frames, render_episode(a, 16, np.random.default_rng(3)).frames)
    eb = render_episode(b, 16, np.random.default_rng(3))
    assert not np.array_equal(ea.frames[-1], eb.frames[-1])  # another contact's call screen
    for intent in all_intents():  # every script runs, also on few frames
        assert render_episode(intent, 6, np.random.default_rng(0)).frames.shape[0] == 6


def test_generated_splits_have_the_planned_sizes_and_texts() -> None:
    data = generate_ui_data(SMALL, 0)
    assert data.pretrain.shape == (6, 1, 8, 32, 32)
    few, zero = data.splits["few_train"], data.splits["zero_test"]
    assert len(few) == len(data.splits["few_test"]) and len(zero) > 0
    assert all(parse_slots(t) == s for t, s in zip(few.texts, few.slots))
    assert any("video" in t or "facetime" in t for t in zero.texts)
    assert not any("video" in t or "facetime" in t for t in few.texts)


def test_temporal_masks_hide_whole_time_steps() -> None:
    grid = (4, 3, 3)
    sampler = TemporalMaskSampler(grid, TemporalConfig(share=(0.25, 0.5)))
    for seed in range(5):
        m = sampler.sample(3, torch.Generator().manual_seed(seed))
        for ctx, tgt in zip(m.context, m.targets[:, 0]):
            assert not set(ctx.tolist()) & set(tgt.tolist())
            assert sorted([*ctx.tolist(), *tgt.tolist()]) == list(range(36))
            steps = {i // 9 for i in tgt.tolist()}
            assert len(tgt) == 9 * len(steps) and 1 <= len(steps) <= 2
    with pytest.raises(ConfigError, match="2 time steps"):
        TemporalMaskSampler((1, 3, 3))
    tubes_only = FramesAndTubesSampler(grid, FramesAndTubesConfig(temporal_share=0.0))
    assert tubes_only.temporal is None
    both = FramesAndTubesSampler(grid, FramesAndTubesConfig(temporal_share=1.0))
    m = both.sample(2, torch.Generator().manual_seed(0))
    assert m.targets.shape[1] == 1 and len(m.targets[0, 0]) % 9 == 0


def test_the_vocabulary_round_trips_and_marks_unknown_words() -> None:
    vocab = WordVocab(["call bob", "text bob hi"])
    ids = vocab.encode(["text bob hi", "call zed"], 6)
    assert vocab.decode(ids[0, 1:].tolist()) == "text bob hi"
    assert ids[1, 2].item() == 3  # zed is unknown
    assert ids[0, 0].item() == 1 and ids[0, 4].item() == 2


def test_the_decoder_learns_texts_its_memory_determines_and_not_others() -> None:
    g = torch.Generator().manual_seed(0)
    texts = ["call bob", "turn on wifi", "text carol hi", "add an event on monday"]
    keys = torch.randn(4, 6, 16, generator=g)
    idx = torch.arange(64) % 4
    train = DecodeSet(keys[idx] + 0.05 * torch.randn(64, 6, 16, generator=g),
                      [texts[k] for k in idx])  # fmt: skip
    test = DecodeSet(keys + 0.05 * torch.randn(4, 6, 16, generator=g), texts)
    cfg = DecoderConfig(dim=32, steps=150, dropout=0.0)
    scores, gen = decode_and_score(train, {"t": test}, cfg, "tfidf", 0, torch.device("cpu"))
    assert gen["t"] == texts and scores["t"]["exact_match"] == 1.0
    noise = DecodeSet(torch.randn(64, 6, 16, generator=g), train.texts)  # memory says nothing
    scores, _ = decode_and_score(noise, {"t": test}, cfg, "tfidf", 0, torch.device("cpu"))
    assert scores["t"]["exact_match"] <= 0.5
    short = dataclasses.replace(cfg, max_len=5, steps=2)  # 3 words at most: one intent cut
    with pytest.warns(UserWarning, match=r"16 of 64 .* more than decoder.max_len - 2 = 3 .*to 7"):
        decode_and_score(train, {"t": test}, short, "tfidf", 0, torch.device("cpu"))


def test_intent_metrics() -> None:
    gold = ["call bob", "turn on wifi"]
    s = score_intents(["Call Bob!", "text carol hi"], gold, [{("action", "call"),
                      ("app", "phone"), ("object", "bob")}, {("action", "turn on"),
                      ("app", "settings"), ("object", "wifi")}], "tfidf")  # fmt: skip
    assert s["exact_match"] == 0.5 and s["slot_f1"] == 0.5
    assert 0.45 < s["similarity"] < 0.55  # 1 and 0
    assert exact_match(["a b"], ["a  b"]).tolist() == [1.0]
    assert resolve_similarity("tfidf") == "tfidf"
    assert resolve_similarity("auto") in ("tfidf", "minilm")
    with pytest.raises(ConfigError, match="intent similarity"):
        resolve_similarity("bleu")


def test_intents_in_any_script_are_words_not_empty() -> None:
    """Words were [a-z0-9']: a Chinese or Cyrillic intent was an empty list, which an empty
    decoded text matched exactly (exact match 1.0 for both encoders), and TF-IDF on such
    intents raised "empty vocabulary"; "zoë" became "zo"."""
    from omnijepa.data.text_words import tokenize

    assert tokenize("打开设置 Wi-Fi") == ["打", "开", "设", "置", "wi", "fi"]
    assert tokenize("Позвонить Зоë, don't wait!") == ["позвонить", "зоë", "don't", "wait"]
    assert exact_match([""], ["打开设置"]).tolist() == [0.0]
    s = score_intents(["打开设置", "открыть карту"], ["打开设置", "открыть почту"], None, "tfidf")
    assert s["exact_match"] == 0.5 and 0.5 < s["similarity"] < 1.0


def test_an_exported_folder_reads_back_losslessly(tmp_path: Path) -> None:
    data = generate_ui_data(SMALL, 0)
    n = export_ui_folder(data, tmp_path / "ui")
    assert n == sum(len(v) for v in data.splits.values()) + len(data.pretrain)
    back = read_ui_folder(UIDataConfig(path=str(tmp_path / "ui"), frames=8, size=32), 0)
    for k, part in data.splits.items():
        assert back.splits[k].texts == part.texts
        assert np.array_equal(back.splits[k].x, part.x)
    assert len(back.pretrain) == len(data.pretrain) + len(data.splits["few_train"])
    with pytest.raises(DataError, match="already holds"):
        export_ui_folder(data, tmp_path / "ui")
    with pytest.warns(UserWarning, match=r"recording\(s\) hold fewer than data.frames=12 .*: 8\)"):
        read_ui_folder(UIDataConfig(path=str(tmp_path / "ui"), frames=12, size=32), 0)


def test_a_folder_without_a_split_column_holds_out_videos_per_intent(tmp_path: Path) -> None:
    data = generate_ui_data(SMALL, 0)
    export_ui_folder(data, tmp_path)
    rows = (tmp_path / "annotations.csv").read_text().splitlines()
    body = [",".join(r.split(",")[:2]) for r in rows[1:]]
    for k, r in enumerate(rows[1:4]):  # one intent with 3 videos (copies: one split each)
        copy = f"videos/bob_{k}.avi"
        (tmp_path / copy).write_bytes((tmp_path / r.split(",")[0]).read_bytes())
        body.append(f"{copy},call bob")
    (tmp_path / "annotations.csv").write_text("Video,Intent\n" + "\n".join(body) + "\n")
    back = load_ui_data(UIDataConfig(path=str(tmp_path), frames=8, size=32), 0)
    assert len(back.splits["few_test"]) >= 1 and len(back.splits["zero_test"]) == 0
    assert back.splits["few_test"].slots is None
    body += body[-3:]  # the same rows again: each video keeps one split (it used to raise)
    (tmp_path / "annotations.csv").write_text("Video,Intent\n" + "\n".join(body) + "\n")
    twice = load_ui_data(UIDataConfig(path=str(tmp_path), frames=8, size=32), 0)

    def bob(part) -> int:  # noqa: ANN001
        return sum(t == "call bob" for t in part.texts)

    assert bob(twice.splits["few_test"]) == 2 * bob(back.splits["few_test"])
    assert bob(twice.splits["few_train"]) == 2 * bob(back.splits["few_train"])


def test_a_users_folder_without_zero_shot_videos_trains_and_is_scored(
    tmp_path: Path, capsys
) -> None:
    """Hidden files are skipped, a video in two splits is refused, and a folder with no
    zero-shot rows is scored on its few-shot test (it crashed in the evaluation)."""
    export_ui_folder(generate_ui_data(SMALL, 0), tmp_path)
    (tmp_path / "unlabelled" / "._episode_00000.avi").write_bytes(b"\x00\x05\x16\x07")
    rows = (tmp_path / "annotations.csv").read_text().splitlines()
    kept = [r for r in rows[1:] if not r.endswith(",zero_shot")]
    dup = kept[0].rsplit(",", 1)[0] + ",test"  # the same video again, as a test video
    (tmp_path / "annotations.csv").write_text("\n".join([rows[0], *kept, dup]) + "\n")
    with pytest.raises(DataError, match="listed in two splits"):
        read_ui_folder(UIDataConfig(path=str(tmp_path), frames=8, size=32), 0)
    alias = "./" + dup  # the same file spelled another way slipped past the check
    (tmp_path / "annotations.csv").write_text("\n".join([rows[0], *kept, alias]) + "\n")
    with pytest.raises(DataError, match="listed in two splits"):
        read_ui_folder(UIDataConfig(path=str(tmp_path), frames=8, size=32), 0)
    (tmp_path / "annotations.csv").write_text("\n".join([rows[0], *kept]) + "\n")
    out = tmp_path.with_name(tmp_path.name + "_run")  # outside data.path
    code, _, err = run_cli(capsys, "train", "uijepa", f"data.path={tmp_path}", *UIJEPA_TINY,
                           "data.frames=8", "data.size=32", "--out", out)  # fmt: skip
    assert code == 0, err
    metrics = json.loads((out / "results.json").read_text())["metrics"]
    assert "few_shot_similarity" in metrics and "zero_shot_similarity" not in metrics


@pytest.mark.parametrize(
    ("csv_text", "match"),
    [
        (None, "annotations.csv not found"),
        ("file,text\na.avi,call bob\n", "missing column"),
        ("video,intent\nnope.avi,call bob\nnope2.avi,call bob\n", "nope.avi"),
        ("video,intent,split\na.avi,call bob,dev\n", "split 'dev'"),
        ("video,intent\na.avi,\n", "empty intent"),
        (b"\xff\xfe\x00garbage\x00", "not a readable UTF-8 CSV"),
    ],
)
def test_a_bad_folder_is_one_clear_error(tmp_path: Path, csv_text, match, capsys) -> None:
    if isinstance(csv_text, bytes):
        (tmp_path / "annotations.csv").write_bytes(csv_text)
    elif csv_text is not None:
        (tmp_path / "annotations.csv").write_text(csv_text)
    with pytest.raises(DataError, match=match):
        read_ui_folder(UIDataConfig(path=str(tmp_path)), 0)
    code, _, err = run_cli(capsys, "train", "uijepa", f"data.path={tmp_path}", *UIJEPA_TINY,
                           "--out", tmp_path.with_name(tmp_path.name + "_run"))  # fmt: skip
    assert code != 0
    assert_one_line_error(err, match.split()[0].strip("'"))
    assert not (tmp_path.with_name(tmp_path.name + "_run") / "results.json").exists()


def test_a_garbled_video_is_named(tmp_path: Path) -> None:
    (tmp_path / "v.avi").write_bytes(b"not a video at all")
    (tmp_path / "annotations.csv").write_text("video,intent\nv.avi,call bob\n")
    with pytest.raises(DataError, match="v.avi"):
        read_ui_folder(UIDataConfig(path=str(tmp_path)), 0)


def test_train_writes_scores_examples_and_intents(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, stdout, err = run_cli(capsys, "train", "uijepa", *UIJEPA_TINY, "--out", out)
    assert code == 0, err
    m = json.loads((out / "results.json").read_text())["metrics"]
    for key in ("few_shot_similarity", "few_shot_slot_f1", "zero_shot_exact_match"):
        assert {"jepa", "random_init"} <= set(m[key])
    assert "few_shot" in stdout
    assert (out / "examples.png").stat().st_size > 0
    pairs = json.loads((out / "intents.json").read_text())
    assert set(pairs) == {"jepa", "random_init"} and pairs["jepa"]["few_shot"][0]["gold"]


def test_the_data_export_command_writes_a_trainable_folder(tmp_path: Path, capsys) -> None:
    code, stdout, err = run_cli(capsys, "data", "export-ui", "--out", tmp_path / "ui",
                                "--pretrain", "4", "--frames", "8", "--size", "32")  # fmt: skip
    assert code == 0, err
    assert (tmp_path / "ui" / "annotations.csv").is_file() and "data.path=" in stdout
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "uijepa", *UIJEPA_TINY,
                           f"data.path={tmp_path / 'ui'}", "--out", out)  # fmt: skip
    assert code == 0, err
    assert "annotated" in json.loads((out / "results.json").read_text())["data"]


def test_memory_pooling_averages_cells_and_checks_the_grid() -> None:
    z = torch.arange(2 * 4 * 4 * 4 * 1, dtype=torch.float32).reshape(2, 64, 1)
    pooled = pool_space(z, (4, 4, 4), 2)
    assert pooled.shape == (2, 16, 1)
    assert pooled[0, 0, 0].item() == (0 + 1 + 4 + 5) / 4  # rows 0-1, cols 0-1 of time step 0
    assert torch.equal(pool_space(z, (4, 4, 4), 1), z)
    with pytest.raises(ConfigError, match="decoder.pool=3"):
        pool_space(z, (4, 4, 4), 3)


def test_the_per_frame_baseline_scores_its_last_frame_too(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "uijepa", *UIJEPA_TINY, "model.per_frame=true",
                           "eval.baselines=false", "--out", out)  # fmt: skip
    assert code == 0, err
    res = json.loads((out / "results.json").read_text())
    assert set(res["metrics"]["few_shot_similarity"]) == {"jepa", "last_frame"}
    assert "(1, 4, 4) tokens" in res["data"]


def test_example_pictures_pick_different_intents() -> None:
    texts = ["call bob", "call ann", "text bob hi", "call eve", "turn on wifi", "text ann ok"]
    pick = varied_examples(texts, 3)
    assert len(pick) == 3 and len({texts[i].split()[0] for i in pick}) == 3
    assert len(varied_examples(texts, 10)) == 6


def test_a_quick_repro_judges_every_arm(tmp_path: Path, capsys) -> None:
    out = tmp_path / "repro"
    code, stdout, err = run_cli(capsys, "repro", "uijepa", *UIJEPA_TINY, "--quick", "--seeds",
                                "2", "--out", out)  # fmt: skip
    assert code == 0, err
    res = json.loads((out / "results.json").read_text())
    assert len(res["checks"]) == 4 and res["verdict"] in ("reproduced", "not reproduced", "partial")
    m = res["metrics"]
    for key in ("gap_vs_per_frame", "gap_vs_last_frame", "gap_vs_no_temporal"):
        assert m[key]["n"] == 2
    assert set(m["per_frame"]["few_shot_similarity"]) == {"jepa", "last_frame"}
    assert res["headline"]["metric"] == "few_shot_similarity" and "verdict" in stdout


def test_decoder_training_shows_a_progress_bar_on_a_terminal(monkeypatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    g = torch.Generator().manual_seed(0)
    train = DecodeSet(torch.randn(8, 4, 8, generator=g), ["call bob", "turn on wifi"] * 4)
    cfg = DecoderConfig(dim=16, steps=5, ensemble=2)
    decode_and_score(train, {}, cfg, "tfidf", 0, torch.device("cpu"), "decoders (jepa)")
    assert "decoders (jepa)" in screen.getvalue() and "10/10" in screen.getvalue()
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    decode_and_score(train, {}, cfg, "tfidf", 0, torch.device("cpu"))
    assert quiet.getvalue() == ""


def test_an_intent_without_words_is_one_error(tmp_path: Path) -> None:
    export_ui_folder(generate_ui_data(SMALL, 0), tmp_path)
    rows = (tmp_path / "annotations.csv").read_text().splitlines()
    video, _, rest = rows[1].partition(",")
    rows[1] = ",".join([video, "😀 !!", *rest.split(",")[1:]])
    (tmp_path / "annotations.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"1 intent\(s\) hold no word to decode"):
        read_ui_folder(UIDataConfig(path=str(tmp_path), frames=8, size=32), 0)
