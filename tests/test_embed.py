"""``omnijepa embed``: a run's frozen pooled features, exported for a user's own work."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import omnijepa.eval.protocol as protocol
from omnijepa.cli.main import main
from omnijepa.errors import ConfigError, RunDirError
from omnijepa.eval.features import pooled_features
from omnijepa.recipes import RECIPES
from omnijepa.recipes.saved_encoder import run_encoder
from omnijepa.recipes.saved_runs import embed_run


def test_embed_writes_the_verdict_encoders_features(
    finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {}
    original = protocol.encoder_splits

    def spy(encoder, train, test, cfg, device, pool=None):  # noqa: ANN001, ANN202
        seen["test"] = test
        return original(encoder, train, test, cfg, device, pool)

    monkeypatch.setattr(protocol, "encoder_splits", spy)
    out = tmp_path / "feats.npz"
    res = embed_run(finished_run, [], out)
    data = np.load(out)
    assert "target" in res["encoder"] and res["pool"] == "mean"
    assert data["train_x"].shape == tuple(res["train"]) and data["train_x"].dtype == np.float32
    assert len(data["train_y"]) == len(data["train_x"]) and (data["test_y"] >= 0).all()
    # built-in data: class names, no files
    assert len(data["classes"]) == 10 and "train_files" not in data and res["names"] == ["classes"]
    # the run's verdict encoder, its trained weights, on the whole test split
    encoder = run_encoder(finished_run, torch.device("cpu"), RECIPES)
    x, y = pooled_features(encoder, seen["test"], torch.device("cpu"), 64, "mean", 1)
    np.testing.assert_allclose(data["test_x"], x, rtol=1e-5, atol=1e-6)
    assert (data["test_y"] == y).all()
    with pytest.raises(RunDirError, match="never overwrites"):
        embed_run(finished_run, [], out)
    with pytest.raises(ConfigError, match="model.dim=8 would change the trained network"):
        embed_run(finished_run, ["model.dim=8"], tmp_path / "other.npz")
    monkeypatch.setattr(RECIPES.get("ijepa"), "embeds", False)  # as UI-/TI-/ACT-JEPA declare
    with pytest.raises(RunDirError, match="not evaluated on pooled frozen features"):
        embed_run(finished_run, [], tmp_path / "other.npz")
    assert not (tmp_path / "other.npz").exists()


def test_embed_on_a_users_own_folder_from_the_cli(
    finished_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "imgs"
    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (folder / c).mkdir(parents=True)
        for i in range(12):
            arr = (rng.random((20, 20)) * 255).astype(np.uint8)
            Image.fromarray(arr).save(folder / c / f"{i}.png")
    out = tmp_path / "mine.npz"
    code = main(["embed", str(finished_run), f"data.path={folder}", "--out", str(out)])
    assert code == 0 and "wrote" in capsys.readouterr().out
    data = np.load(out)
    assert len(data["train_x"]) + len(data["test_x"]) == 24
    assert set(np.concatenate([data["train_y"], data["test_y"]]).tolist()) == {0, 1}
    # every row names its file, and the label names its class folder
    assert data["classes"].tolist() == ["a", "b"]
    files = [*data["train_files"], *data["test_files"]]
    labels = [*data["train_y"], *data["test_y"]]
    assert len(set(files)) == 24 and all(Path(f).is_file() for f in files)
    assert all(Path(f).parent.name == data["classes"][y] for f, y in zip(files, labels))
    assert main(["embed", str(finished_run), "--out", str(tmp_path / "x.txt")]) == 2
    assert "writes a .npz" in capsys.readouterr().err


def test_embed_says_what_it_does_with_odd_requests(finished_run: Path, tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="attentive .* embed writes mean-pooled features"):
        embed_run(finished_run, ["eval.pool=attentive"], tmp_path / "att.npz")
    with pytest.raises(ConfigError, match="data.channels=3: this data does not fit the network"):
        embed_run(finished_run, ["data.channels=3"], tmp_path / "rgb.npz")
    state = finished_run / "state.json"
    state.write_text(state.read_text().replace('"finished": true', '"finished": false'))
    with pytest.warns(UserWarning, match=r"stopped at step \d+ of \d+.*--resume"):
        embed_run(finished_run, [], tmp_path / "unfinished.npz")
    with pytest.raises(RunDirError, match="is a file, not a run directory"):
        embed_run(tmp_path / "att.npz", [], tmp_path / "x.npz")


def test_embed_never_replaces_a_file_that_appears_while_it_works(
    finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "race.npz"
    original = protocol.encoder_splits

    def slow(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        out.write_bytes(b"another embed's file")  # written meanwhile by someone else
        return original(*args, **kwargs)

    monkeypatch.setattr(protocol, "encoder_splits", slow)
    with pytest.raises(RunDirError, match="appeared while embedding"):
        embed_run(finished_run, [], out)
    assert out.read_bytes() == b"another embed's file"
    assert not list(tmp_path.glob(".race.npz.*"))  # no temporary file left behind


def _point_folder(root: Path, rng: np.random.Generator) -> None:
    for c, scale in (("ball", 1.0), ("rod", (3.0, 0.3, 0.3))):
        (root / c).mkdir(parents=True)
        for i in range(8):
            np.save(root / c / f"{i}.npy", rng.normal(size=(80, 3)) * scale)


def _series_folder(root: Path, rng: np.random.Generator) -> None:
    for c, hz in (("slow", 0.05), ("fast", 0.3)):
        (root / c).mkdir(parents=True)
        for i in range(8):
            t = np.arange(30 + 4 * i)
            np.save(root / c / f"{i}.npy", np.sin(hz * t) + 0.1 * rng.normal(size=t.shape))


def _audio_folder(root: Path, rng: np.random.Generator) -> None:
    import soundfile as sf

    for c, hz in (("low", 220.0), ("high", 880.0)):
        (root / c).mkdir(parents=True)
        for i in range(6):
            t = np.arange(int(16000 * (0.3 + 0.05 * i))) / 16000
            sf.write(str(root / c / f"{i}.wav"), np.sin(2 * np.pi * hz * t), 16000)


@pytest.mark.parametrize(
    ("recipe", "make", "extra"),
    [
        ("pointjepa", _point_folder, []),
        ("series_jepa", _series_folder, ["train.batch_size=8"]),
        ("ajepa", _audio_folder, ["eval.few_shot=[]", "train.batch_size=4"]),
    ],
)
def test_embed_names_the_file_of_every_row_beyond_images(
    recipe: str,
    make,
    extra: list[str],
    tmp_path: Path,
    tiny_overrides,  # noqa: ANN001
) -> None:
    """Only image folders wrote ``train_files``/``classes``: a user embedding a folder of
    meshes, series or recordings could not tell which row came from which file."""
    from omnijepa.recipes.run import train_run

    make(tmp_path / "data", np.random.default_rng(0))
    run = tmp_path / "run"
    train_run(
        RECIPES.get(recipe), tiny_overrides(recipe, f"data.path={tmp_path / 'data'}", *extra), run
    )
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        data = np.load(embed_run(run, [], tmp_path / "f.npz")["out"])
    assert not [w for w in said if "episodes" in str(w.message)]  # embed runs no episodes
    files = [*data["train_files"], *data["test_files"]]
    labels = [*data["train_y"], *data["test_y"]]
    assert len(files) == len(data["train_x"]) + len(data["test_x"]) == len(set(files))
    assert all(Path(f).is_file() and Path(f).parent.name == data["classes"][y]
               for f, y in zip(files, labels))  # fmt: skip


def test_embed_names_the_source_of_every_eeg_trial(tmp_path: Path, tiny_overrides) -> None:
    """EEG trials are cut from recordings (class folders) or stacked in one file: each row's
    source is the file and where in it the trial starts (``path@seconds`` / ``path#index``)."""
    from omnijepa.recipes.run import train_run

    rng = np.random.default_rng(0)
    for c in ("rest", "move"):
        (tmp_path / "eeg" / c).mkdir(parents=True)
        for i in range(3):  # 6 s at 128 Hz: three 2 s trials each
            np.save(tmp_path / "eeg" / c / f"{i}.npy", rng.normal(size=(4, 768)))
    run = tmp_path / "run"
    extra = [f"data.path={tmp_path / 'eeg'}", "data.ch_names=[C3,C4,Cz,Pz]", "heads.kinds=[]",
             "train.batch_size=4"]  # fmt: skip
    train_run(RECIPES.get("sjepa"), tiny_overrides("sjepa", *extra), run)
    data = np.load(embed_run(run, [], tmp_path / "f.npz")["out"])
    rows = [*data["train_files"], *data["test_files"]]
    labels = [*data["train_y"], *data["test_y"]]
    assert len(rows) == len(data["train_x"]) + len(data["test_x"]) == len(set(rows)) == 18
    for row, y in zip(rows, labels):
        path, _, start = row.rpartition("@")
        assert Path(path).is_file() and Path(path).parent.name == data["classes"][y], row
        assert start in ("0s", "2s", "4s")

    x = rng.normal(size=(12, 4, 256))
    names = ["C3", "C4", "Cz", "Pz"]
    np.savez(tmp_path / "trials.npz", X=x, y=np.repeat(["a", "b"], 6), ch_names=names)
    from omnijepa.data.eeg_files import ReadOptions, read_eeg_path

    trials = read_eeg_path(tmp_path / "trials.npz", ReadOptions())
    assert trials.sources == [f"{tmp_path / 'trials.npz'}#{i}" for i in range(12)]
    assert trials.subset([3, 1]).sources == [trials.sources[3], trials.sources[1]]


def test_embed_names_the_file_of_every_fmri_subject(tmp_path: Path, tiny_overrides) -> None:
    """A folder of subjects' tables names each row by its file (and the labels by their
    class folders); an .npz of stacked subjects by ``path#index``."""
    from omnijepa.data.fmri_data import FMRIDataConfig, load_fmri_data
    from omnijepa.recipes.run import train_run

    rng = np.random.default_rng(0)
    for c in ("ctl", "pat"):
        (tmp_path / "fmri" / c).mkdir(parents=True)
        for k in range(6):
            np.save(tmp_path / "fmri" / c / f"s{k}.npy", rng.standard_normal((48, 8)))
    run = tmp_path / "run"
    extra = [f"data.path={tmp_path / 'fmri'}", "train.batch_size=4"]
    train_run(RECIPES.get("brainjepa"), tiny_overrides("brainjepa", *extra), run)
    data = np.load(embed_run(run, [], tmp_path / "f.npz")["out"])
    rows = [*data["train_files"], *data["test_files"]]
    labels = [*data["train_y"], *data["test_y"]]
    assert len(rows) == len(data["train_x"]) + len(data["test_x"]) == len(set(rows)) == 12
    assert list(data["classes"]) == ["ctl", "pat"]
    assert all(Path(f).is_file() and Path(f).parent.name == data["classes"][y]
               for f, y in zip(rows, labels))  # fmt: skip

    y = np.array(["hc", "mdd"] * 4)
    np.savez(tmp_path / "subjects.npz", X=rng.standard_normal((8, 8, 48)), y=y)
    splits = load_fmri_data(FMRIDataConfig(path=str(tmp_path / "subjects.npz")), 0)
    got = sorted(s for split in splits.values() for s in split.sources)
    assert got == sorted(f"{tmp_path / 'subjects.npz'}#{i}" for i in range(8))
    for split in splits.values():  # the labels' names, as class folders give them
        assert split.classes == ["hc", "mdd"]
        for source, label in zip(split.sources, split.labels):
            assert y[int(source.rpartition("#")[2])] == split.classes[label]


def test_embed_names_the_data_row_of_every_table_row(tmp_path: Path, tiny_overrides) -> None:
    """A table's rows are named ``file#i`` (0-based data row, header not counted), counted
    as read: rows dropped for a missing target do not shift the others."""
    import pandas as pd

    from omnijepa.recipes.run import train_run

    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    frame["label"] = np.where(frame["a"] + 0.3 * rng.normal(size=n) > 0, "yes", "no")
    frame.loc[[5, 17], "label"] = None  # no target: left out
    frame.to_csv(tmp_path / "t.csv", index=False)
    run = tmp_path / "run"
    extra = [f"data.path={tmp_path / 't.csv'}", "data.target=label", "train.batch_size=8"]
    train_run(RECIPES.get("tjepa"), tiny_overrides("tjepa", *extra), run)
    data = np.load(embed_run(run, [], tmp_path / "f.npz")["out"])
    rows = [*data["train_files"], *data["test_files"]]
    labels = [*data["train_y"], *data["test_y"]]
    assert len(rows) == len(data["train_x"]) + len(data["test_x"]) == len(set(rows))
    numbers = {int(r.rpartition("#")[2]) for r in rows}
    assert numbers <= set(range(n)) - {5, 17}
    for row, y in zip(rows, labels):
        path, _, i = row.rpartition("#")
        assert path == str(tmp_path / "t.csv") and frame["label"][int(i)] == data["classes"][y]


def test_embed_refuses_a_data_path_that_would_change_nothing(
    tmp_path: Path, tiny_overrides
) -> None:
    """MC-JEPA's exported features are of its generated content scenes; data.path only sets
    the images its flow pairs are warped from, so embed must not pretend to read it."""
    from omnijepa.recipes.run import train_run

    run = tmp_path / "mc"
    train_run(RECIPES.get("mcjepa"), tiny_overrides("mcjepa"), run)
    with pytest.raises(ConfigError, match="mcjepa: embed exports .* leave it out"):
        embed_run(run, [f"data.path={tmp_path}"], tmp_path / "mc.npz")
    assert not (tmp_path / "mc.npz").exists()
