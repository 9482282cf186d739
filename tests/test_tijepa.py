"""TI-JEPA recipe: training on generated and user data, the frozen sides, the evaluation arms,
the VICReg option and the repro's checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from omnijepa.config import load_config
from omnijepa.errors import DataError
from omnijepa.modalities import text as text_module
from omnijepa.modalities.text_image import PairLayout
from omnijepa.recipes import RECIPES
from omnijepa.recipes.run import train_run
from omnijepa.recipes.tijepa import build_objective, frozen_sides, loss_and_penalty
from omnijepa.recipes.tijepa_checks import judge_tijepa
from tests.conftest import TIJEPA_TINY, tiny
from tests.test_cli import assert_one_line_error, run_cli


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def test_train_scores_every_arm_and_what_each_reads(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, stdout, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY, "--out", out)
    assert code == 0, err
    res = _results(out)
    m = res["metrics"]
    arms = {"jepa", "random_init", "image", "text", "concat"}
    for score in ("linear_probe", "macro_f1", "weighted_f1"):
        assert set(m[score]) == arms
    best = max(m["linear_probe"]["image"]["mean"], m["linear_probe"]["text"]["mean"])
    assert m["best_unimodal"]["mean"] == best
    assert m["crosser_std"]["mean"] > 0
    assert set(m["reads_text_sentiment"]) == arms - {"concat"}
    assert "tweets encoder" in res["data"] and "I-JEPA ViT pre-trained here" in res["data"]
    assert "linear_probe" in stdout


def test_without_minilm_the_recipe_says_it_used_the_tweets_encoder(tmp_path, monkeypatch,
                                                                   capsys) -> None:  # fmt: skip
    monkeypatch.setattr(text_module, "minilm_installed", lambda: False)
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY, "text.kind=auto",
                           "--out", out)  # fmt: skip
    assert code == 0, err
    assert "text side: tweets encoder" in _results(out)["data"]


@pytest.mark.skipif(not text_module.minilm_installed(), reason="MiniLM package not installed")
def test_with_minilm_auto_uses_it(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY, "text.kind=auto",
                           "--out", out)  # fmt: skip
    assert code == 0, err
    assert "minilm encoder (384-d tokens)" in _results(out)["data"]


def _caption_folder(root: Path, n: int = 12) -> None:
    root.mkdir()
    rng = np.random.default_rng(0)
    rows = ["file,caption,label"]
    for i in range(n):
        img = (rng.random((40, 50, 3)) * 255).astype(np.uint8)
        Image.fromarray(img).save(root / f"im{i}.png")
        label = ("happy", "sad")[i % 2]
        rows.append(f"im{i}.png,a {label} day number {i},{label}")
    (root / "captions.csv").write_text("\n".join(rows) + "\n")


def test_train_on_a_user_folder_of_captioned_rgb_images(tmp_path: Path, capsys) -> None:
    _caption_folder(tmp_path / "pics")
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY, "data.channels=3",
                           f"data.path={tmp_path / 'pics'}", "--out", out)  # fmt: skip
    assert code == 0, err
    res = _results(out)
    assert "captioned folder" in res["data"] and "test labels happy" in res["data"]
    assert "reads_image_sentiment" not in res["metrics"]  # user data has no per-side labels
    # its image side was pre-trained here and not saved: other data would make another
    code, _, err = run_cli(capsys, "eval", out, f"data.path={tmp_path / 'pics'}")
    assert code != 0
    assert_one_line_error(err, "image side was pre-trained on its own training images")
    assert not (out / "eval.json").exists()


def test_too_few_images_for_the_image_sides_batch_names_its_key(tmp_path: Path) -> None:
    """It said "lower train.batch_size" for the image side's own image.train.batch_size."""
    from omnijepa.errors import ConfigError
    from omnijepa.recipes.tijepa_image import ImageSideConfig, frozen_image_side

    images = np.zeros((9, 1, 16, 16), dtype=np.uint8)
    with pytest.raises(ConfigError, match="fewer than image.train.batch_size=64; lower image"):
        frozen_image_side("", ImageSideConfig(), images, 0, torch.device("cpu"), False, None)  # type: ignore[arg-type]


def test_a_semicolon_or_tab_annotation_file_reads_like_commas(tmp_path: Path) -> None:
    """It was "missing column(s) … found ['file;caption;label']"."""
    from omnijepa.data.annotation_csv import read_annotation_rows

    for sep in (";", "\t"):
        (tmp_path / "c.csv").write_text(f"file{sep}caption{sep}label\nim0.png{sep}a, b{sep}pos\n")
        rows = read_annotation_rows(tmp_path / "c.csv", ("file", "caption", "label"))
        assert rows == [{"file": "im0.png", "caption": "a, b", "label": "pos"}]


def test_several_captions_of_one_image_stay_on_one_side(tmp_path: Path) -> None:
    """COCO and MVSA write one row per caption: the split was drawn per row, so an image
    could sit in train and in test, and a random-init twin read 1.000."""
    from omnijepa.data.caption_folder import _splits
    from omnijepa.errors import DataError

    rows = [{"file": f"im{i % 6}.png", "caption": f"c{i}", "label": "ab"[i % 6 % 2], "split": ""}
            for i in range(18)]  # fmt: skip
    sides = _splits(rows, 0.25, 0, tmp_path / "captions.csv")
    by_image: dict[str, set[str]] = {}
    for r, side in zip(rows, sides):
        by_image.setdefault(r["file"], set()).add(side)
    assert all(len(v) == 1 for v in by_image.values()) and "test" in sides and "train" in sides
    rows[0]["split"], rows[6]["split"] = "train", "test"  # im0.png on both sides
    with pytest.raises(DataError, match="image im0.png is listed in both train and test"):
        _splits(rows, 0.25, 0, tmp_path / "captions.csv")


def test_a_label_seen_only_in_test_is_said_before_training(tmp_path: Path, capsys) -> None:
    _caption_folder(tmp_path / "pics", n=18)
    rows = (tmp_path / "pics" / "captions.csv").read_text().splitlines()
    rows = [rows[0] + ",split"] + [
        f"{r},test" if i >= 12 else f"{r},train" for i, r in enumerate(rows[1:])
    ]
    rows[-3:] = [r.replace(",happy,", ",calm,").replace(",sad,", ",calm,") for r in rows[-3:]]
    (tmp_path / "pics" / "captions.csv").write_text("\n".join(rows) + "\n")
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY, "data.channels=3",
                           f"data.path={tmp_path / 'pics'}", "--out", tmp_path / "run")  # fmt: skip
    assert code == 0, err  # calm was kept and scored 0 by every probe; now left out
    assert "label(s) 'calm' appear only in the test split: their rows are left out" in err
    assert "covering 0 of 2 classes" not in err


@pytest.mark.parametrize(
    ("csv_text", "match"),
    [
        (None, "captions.csv"),
        ("file,text,label\nim0.png,hi,a\n", "missing column"),
        ("file,caption,label\nim0.png,,happy\nim1.png,x,sad\n", "empty caption"),
    ],
)
def test_a_bad_caption_csv_is_one_clear_error(tmp_path: Path, csv_text, match, capsys) -> None:
    _caption_folder(tmp_path / "pics", 2)
    if csv_text is None:
        (tmp_path / "pics" / "captions.csv").unlink()
    else:
        (tmp_path / "pics" / "captions.csv").write_text(csv_text)
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY,
                           f"data.path={tmp_path / 'pics'}", "--out", out)  # fmt: skip
    assert code != 0
    assert_one_line_error(err, match)
    assert not (out / "results.json").exists()


def test_a_caption_csv_saved_by_excel_with_a_bom_is_read(tmp_path: Path) -> None:
    from omnijepa.data.annotation_csv import read_annotation_rows

    path = tmp_path / "captions.csv"
    path.write_bytes("file,caption,label\nim0.png,hi,happy\n".encode("utf-8-sig"))
    assert read_annotation_rows(path, ("file", "caption", "label"))[0]["file"] == "im0.png"


def test_windows_separators_in_a_caption_csv_are_read(tmp_path: Path) -> None:
    from omnijepa.data.caption_folder import read_caption_folder

    _caption_folder(tmp_path / "pics")
    (tmp_path / "pics" / "sub").mkdir()
    text = (tmp_path / "pics" / "captions.csv").read_text()
    for i in range(12):
        (tmp_path / "pics" / f"im{i}.png").rename(tmp_path / "pics" / "sub" / f"im{i}.png")
        text = text.replace(f"im{i}.png,", f"sub\\im{i}.png,")
    (tmp_path / "pics" / "captions.csv").write_text(text)
    splits = read_caption_folder(tmp_path / "pics", 16, 3, 0, 0.25)
    assert len(splits["train"].captions) + len(splits["test"].captions) == 12


def test_an_image_run_is_reused_as_the_frozen_image_side(finished_run: Path, tmp_path: Path,
                                                         capsys) -> None:  # fmt: skip
    out = tmp_path / "ti"
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY,
                           f"model.image_encoder={finished_run}", "--out", out)  # fmt: skip
    assert code == 0, err
    assert f"frozen encoder of {finished_run}" in _results(out)["data"]
    assert "conv" in (finished_run / "config.yaml").read_text()  # I-JEPA's default backbone
    bad = tmp_path / "bad"
    vit_run = tmp_path / "vit_run"  # a ViT cuts images into whole patches only
    train_run(RECIPES.get("ijepa"), tiny("ijepa:vit"), vit_run)
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY, "data.size=30",
                           f"model.image_encoder={vit_run}", "--out", bad)  # fmt: skip
    assert code != 0
    assert_one_line_error(err, "does not fit the tokenizer")
    _caption_folder(tmp_path / "pics")  # RGB, read as RGB; the run encodes grey images
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY, "data.channels=3",
                           f"data.path={tmp_path / 'pics'}", f"model.image_encoder={finished_run}",
                           "--out", bad)  # fmt: skip
    assert code != 0  # after the thin-split warning of this 12-image folder
    assert (
        err.strip()
        .splitlines()[-1]
        .endswith("encodes 1-channel images and these are read with 3: set data.channels=1")
    )
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY,
                           f"model.image_encoder={tmp_path / 'none'}", "--out", bad)  # fmt: skip
    assert code != 0
    assert_one_line_error(err, f"model.image_encoder={tmp_path / 'none'}: no run directory")


def test_the_vicreg_loss_replaces_the_collapse_term_and_trains(tmp_path: Path, capsys) -> None:
    recipe = RECIPES.get("tijepa")
    cfg = load_config(recipe.default_config(), None, ["loss=vicreg"])
    loss, penalty = loss_and_penalty(cfg)
    assert loss == "l2" and penalty.kind == "vicreg" and penalty.on == "prediction"
    assert loss_and_penalty(recipe.default_config())[1].kind == "vc"
    layout = PairLayout(tokens=4, image_dim=8, text_len=3, text_dim=6)
    objective = build_objective(cfg, layout, (2, 2))
    assert objective.penalty is not None
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY, "loss=vicreg",
                           "--out", tmp_path / "run")  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli(capsys, "train", "tijepa", *TIJEPA_TINY, "loss=l3",
                           "--out", tmp_path / "bad")  # fmt: skip
    assert code != 0 and "l3" in err


def test_the_random_init_arm_is_the_exact_starting_crosser() -> None:
    cfg = RECIPES.get("tijepa").default_config()
    layout = PairLayout(tokens=4, image_dim=8, text_len=3, text_dim=6)
    a, b = build_objective(cfg, layout, (2, 2)), build_objective(cfg, layout, (2, 2))
    for p, q in zip(a.eval_encoder().parameters(), b.eval_encoder().parameters()):
        assert torch.equal(p, q)


def test_frozen_sides_average_real_text_tokens_only() -> None:
    layout = PairLayout(tokens=2, image_dim=1, text_len=3, text_dim=1)
    image = torch.tensor([[[1.0], [3.0]]])
    text = torch.tensor([[[2.0], [4.0]]])
    packed = layout.pack(image, text, torch.tensor([[False, False]]))  # the third is padding
    sides = frozen_sides(layout, packed)
    assert sides["image"].item() == 2.0 and sides["text"].item() == 3.0
    assert sides["concat"].tolist() == [[2.0, 3.0]]
    with pytest.raises(DataError):
        frozen_sides(layout, packed[:, :-1])


def _run(jepa: float, image: float, text: float, concat: float, random: float,
         std: float = 0.4) -> dict:  # fmt: skip
    arms = {"jepa": jepa, "image": image, "text": text, "concat": concat, "random_init": random}
    return {"linear_probe": arms, "macro_f1": arms, "weighted_f1": arms,
            "best_unimodal": max(image, text), "crosser_std": std}  # fmt: skip


def test_the_checks_pass_and_fail_on_their_numbers() -> None:
    good = [_run(0.80 + d, 0.6, 0.70, 0.72, 0.65) for d in (0.0, 0.01, 0.02)]
    metrics: dict = {}
    vicreg = [_run(0.75, 0.6, 0.70, 0.72, 0.65)] * 3
    checks = judge_tijepa({"default": good, "vicreg": vicreg}, metrics)
    assert [c.passed for c in checks] == [True, True, True, True]
    assert metrics["gap_vs_concat"]["n"] == 3 and "text" in metrics["weighted_f1_gaps"]
    assert metrics["gap_vs_vicreg"]["mean"] == pytest.approx(0.06)
    weak = [_run(0.72 + d, 0.6, 0.70, 0.74, 0.73, std=0.01) for d in (0.0, 0.01, 0.02)]
    checks = judge_tijepa({"default": weak, "vicreg": vicreg}, {})
    assert [c.passed for c in checks] == [False] * 4


def test_a_quick_repro_judges_every_arm(tmp_path: Path, capsys) -> None:
    out = tmp_path / "repro"
    code, _, err = run_cli(capsys, "repro", "tijepa", *TIJEPA_TINY, "--quick", "--seeds", "2",
                           "--out", out)  # fmt: skip
    assert code == 0, err
    res = _results(out)
    assert len(res["checks"]) == 4 and res["verdict"] in ("reproduced", "not reproduced", "partial")
    m = res["metrics"]
    assert m["gap_vs_concat"]["n"] == 2 and m["gap_vs_vicreg"]["n"] == 2
    assert set(m["vicreg"]["linear_probe"]) == {"jepa", "image", "text", "concat"}


def test_the_mask_picture_shows_the_image_token_grid(tmp_path: Path, capsys) -> None:
    path = tmp_path / "m.png"
    code, _, err = run_cli(capsys, "masks", "tijepa", *TIJEPA_TINY, "--out", path)
    assert code == 0, err
    assert path.stat().st_size > 0
