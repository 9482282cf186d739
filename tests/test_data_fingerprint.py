"""A resumed run refuses data whose counts match but whose samples changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from omnijepa.config import load_config
from omnijepa.recipes import RECIPES
from omnijepa.train.data_fingerprint import data_fingerprint
from tests.test_cli import assert_one_line_error, run_cli, write_png

CPU = torch.device("cpu")


def test_fingerprint_follows_content_and_order() -> None:
    items = [torch.arange(6).view(2, 3) + k for k in range(100)]
    base = data_fingerprint(items)
    assert data_fingerprint([t.clone() for t in items]) == base
    assert data_fingerprint(items[::-1]) != base
    assert data_fingerprint(items[:-1]) != base
    changed = [*items[:-1], items[-1] + 1]  # the last item is always read
    assert data_fingerprint(changed) != base
    mixed = [(np.zeros(3), {"y": k, "x": torch.ones(2)}) for k in range(5)]
    assert data_fingerprint(mixed) != data_fingerprint(mixed[:4] + [mixed[0]])
    assert data_fingerprint([]) == data_fingerprint([])


@pytest.mark.parametrize("name", sorted(RECIPES.names()))
def test_every_recipe_fingerprints_its_data_the_same_way_twice(name: str, tiny_overrides) -> None:
    """No recipe's dataset draws randomness when indexed: else every resume would fail."""
    cfg = load_config(RECIPES.get(name).default_config(), None, tiny_overrides(name))
    recipe = RECIPES.get(name)
    first = data_fingerprint(recipe.build(cfg, CPU).parts.dataset)
    assert data_fingerprint(recipe.build(cfg, CPU).parts.dataset) == first


def _stopped_run(capsys, tmp_path: Path, tiny_overrides, run: Path) -> tuple[Path, list[str]]:
    """A two-class image folder and a tiny ijepa run on it stopped at step 2 of 4."""
    folder = tmp_path / "imgs"
    for cls in ("cat", "dog"):
        (folder / cls).mkdir(parents=True)
        for k in range(16):
            write_png(folder / cls / f"{k}.png", k + (0 if cls == "cat" else 100))
    ov = [*tiny_overrides("ijepa", "train.steps=4", "train.stop_at=2"), f"data.path={folder}"]
    ov += ["data.image_size=12", "model.patch=4", "data.test_fraction=0.25"]
    code, _, err = run_cli(capsys, "train", "ijepa", *ov, "--out", run)
    assert code == 0, err
    return folder, ov


def test_resume_refuses_a_file_moved_between_classes(
    capsys, tmp_path: Path, tiny_overrides
) -> None:
    folder, ov = _stopped_run(capsys, tmp_path, tiny_overrides, tmp_path / "run")
    shutil.move(folder / "cat" / "1.png", folder / "dog" / "1b.png")
    shutil.move(folder / "dog" / "15.png", folder / "cat" / "15b.png")  # same counts
    code, _, err = run_cli(capsys, "train", "--resume", tmp_path / "run")
    assert code == 2
    assert_one_line_error(err, "data changed", "same counts")


def test_resume_follows_the_same_data_moved_elsewhere(
    capsys, tmp_path: Path, tiny_overrides
) -> None:
    """Scratch space on a cluster moves: ``--resume RUN data.path=NEW`` continues when NEW
    holds the same data (counts and fingerprint), and the run's config.yaml then points there."""
    run = tmp_path / "run"
    folder, ov = _stopped_run(capsys, tmp_path, tiny_overrides, run)
    moved = tmp_path / "elsewhere"
    shutil.move(folder, moved)
    code, _, err = run_cli(capsys, "train", "--resume", run, f"data.path={moved}")
    assert code == 0, err
    assert f"path: {moved}" in (run / "config.yaml").read_text()
    assert (run / "results.json").is_file()
    other = tmp_path / "other"
    shutil.copytree(moved, other)
    (other / "cat" / "0.png").unlink()  # not the same data: refused
    run2 = tmp_path / "run2"
    code, _, err = run_cli(capsys, "train", "ijepa", *ov[:-3], f"data.path={moved}",
                           *ov[-3:], "--out", run2)  # fmt: skip
    assert code == 0, err
    code, _, err = run_cli(capsys, "train", "--resume", run2, f"data.path={other}")
    assert code == 2
    assert_one_line_error(err, "data changed")
