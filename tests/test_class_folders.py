"""Users' class folders, listed one way by the image, point, audio and series loaders: hidden
files skipped, suffixes in any case, the top-level sub-folder is the class at any depth, a
class with a single file still leaves a test split, and a folder that holds its own
train/test split (``train/CLASS`` or ``CLASS/train``) is read with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omnijepa.data.class_folders import list_class_folder
from omnijepa.errors import DataError


def labelled_files(
    root: Path, suffixes: tuple[str, ...]
) -> tuple[list[Path], list[int], list[str]]:
    got = list_class_folder(root, suffixes, "test")
    return got.files, got.labels.tolist(), got.classes


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00")
    return path


def test_hidden_case_and_depth(tmp_path: Path) -> None:
    keep = [_touch(tmp_path / "walk" / "2020" / "a.NPY"), _touch(tmp_path / "walk" / "b.csv"),
            _touch(tmp_path / "run" / "2021" / "c.npy")]  # fmt: skip
    for hidden in ("walk/._a.npy", "run/.cache/d.npy", ".git/e.npy", "run/notes.txt"):
        _touch(tmp_path / hidden)
    files, labels, classes = labelled_files(tmp_path, (".npy", ".csv"))
    assert classes == ["run", "walk"]
    assert dict(zip(files, labels)) == {keep[2]: 0, keep[0]: 1, keep[1]: 1}


def test_flat_folder_is_unlabelled(tmp_path: Path) -> None:
    a, b = _touch(tmp_path / "x.wav"), _touch(tmp_path / "Y.WAV")
    _touch(tmp_path / "._x.wav")
    assert labelled_files(tmp_path, (".wav",)) == ([b, a], [-1, -1], [])  # sorted by name


def test_series_folders_label_by_class_at_any_depth(tmp_path: Path) -> None:
    from omnijepa.data.series_data import SeriesDataConfig, load_series_folder

    rng = np.random.default_rng(0)
    for cls in ("fast", "sine"):
        for year in ("2020", "2021"):
            for k in range(3):
                (tmp_path / cls / year).mkdir(parents=True, exist_ok=True)
                with open(tmp_path / cls / year / f"s{k}.NPY", "wb") as f:  # upper case
                    np.save(f, rng.standard_normal(50))
    (tmp_path / "fast" / "._s0.npy").write_bytes(b"\x00\x05\x16\x07")
    data = load_series_folder(SeriesDataConfig(path=str(tmp_path)), 0)
    assert data.class_names == ["fast", "sine"]
    assert len(data.train.series) + len(data.test.series) == 12


def test_audio_class_with_one_file_still_leaves_a_test_split(tmp_path: Path) -> None:
    import soundfile as sf

    from omnijepa.data.audio_data import AudioDataConfig, load_audio_data

    tone = 0.3 * np.sin(np.arange(8000) / 5).astype(np.float32)
    for j in range(4):
        (tmp_path / f"c{j}").mkdir()
        sf.write(tmp_path / f"c{j}" / "a.wav", tone, 16000)
    (tmp_path / "c0" / "._a.wav").write_bytes(b"\x00\x05\x16\x07")  # not read
    data = load_audio_data(AudioDataConfig(path=str(tmp_path)), 0)
    assert len(data.test.labels) == 1 and len(data.train.labels) == 3


def test_loose_files_beside_class_folders_are_left_out_with_a_warning(tmp_path: Path) -> None:
    _touch(tmp_path / "a" / "x.npy")
    _touch(tmp_path / "stray.npy")
    with pytest.warns(UserWarning, match="1 file.*stray.npy.*left out"):
        files, _, _ = labelled_files(tmp_path, (".npy",))
    assert [f.name for f in files] == ["x.npy"]


def test_files_no_reader_takes_are_named_in_one_warning(tmp_path: Path) -> None:
    for c in ("x", "y"):
        for i in range(3):
            _touch(tmp_path / c / f"{i}.wav")
            _touch(tmp_path / c / f"{i}.M4A")  # audio, but not a format read here
        _touch(tmp_path / c / "notes.txt")  # companions and hidden files stay silent
        _touch(tmp_path / c / ".cache" / "z.m4a")
    with pytest.warns(UserWarning, match=r"left out 6 file.*\.m4a x6.*read: \.wav") as got:
        files, _, classes = labelled_files(tmp_path, (".wav",))
    assert len(got) == 1 and len(files) == 6 and classes == ["x", "y"]


def test_empty_class_folders_are_left_out_with_a_warning(tmp_path: Path) -> None:
    _touch(tmp_path / "a" / "x.npy")
    _touch(tmp_path / "b" / "notes.txt")
    with pytest.warns(UserWarning, match="no usable files in b"):
        _, labels, classes = labelled_files(tmp_path, (".npy",))
    assert classes == ["a"] and labels == [0]


@pytest.mark.parametrize("nesting", ["split/class", "class/split"])
def test_a_folder_with_its_own_split_keeps_it(tmp_path: Path, nesting: str) -> None:
    where = {"train": {"cat": 3, "dog": 2}, "test": {"cat": 1, "dog": 2, "owl": 1}}
    for split, counts in where.items():
        for cls, n in counts.items():
            for k in range(n):
                parts = (split, cls) if nesting == "split/class" else (cls, split)
                _touch(tmp_path.joinpath(*parts, f"{k}.npy"))
    _touch(tmp_path.joinpath(*(("val", "cat") if nesting == "split/class" else ("cat", "val")),
                             "v.npy"))  # fmt: skip
    with pytest.warns(UserWarning) as caught:
        got = list_class_folder(tmp_path, (".npy",), "series")
    said = " ".join(str(w.message) for w in caught)
    assert "owl" in said and "val" in said  # a test-only class and the validation folder
    assert got.classes == ["cat", "dog"]
    train, test = got.split(0.5, np.random.default_rng(0))
    by_split = {
        name: sorted((got.classes[got.labels[i]], got.files[i].name) for i in idx)
        for name, idx in (("train", train), ("test", test))
    }
    assert by_split["train"] == [("cat", "0.npy"), ("cat", "1.npy"), ("cat", "2.npy"),
                                 ("dog", "0.npy"), ("dog", "1.npy")]  # fmt: skip
    assert by_split["test"] == [("cat", "0.npy"), ("dog", "0.npy"), ("dog", "1.npy")]
    assert all(("test" in f.parts) == bool(t) for f, t in zip(got.files, got.is_test))


@pytest.mark.parametrize("nesting", ["split/class", "class/split"])
def test_a_train_and_val_layout_holds_out_val(tmp_path: Path, nesting: str) -> None:
    """Kaggle's ``train`` + ``val`` used to train as two classes named after the splits."""
    for split, n in (("train", 3), ("val", 1)):
        for cls in ("cat", "dog"):
            for k in range(n):
                parts = (split, cls) if nesting == "split/class" else (cls, split)
                _touch(tmp_path.joinpath(*parts, f"{k}.npy"))
    with pytest.warns(UserWarning, match="no test folder: its val folders are the held-out"):
        got = list_class_folder(tmp_path, (".npy",), "series")
    assert got.classes == ["cat", "dog"]
    assert sorted(f.parent.parts[-2:] for f, t in zip(got.files, got.is_test) if t) == sorted(
        [("val", "cat"), ("val", "dog")] if nesting == "split/class" else
        [("cat", "val"), ("dog", "val")])  # fmt: skip


def test_a_lone_train_folder_holds_the_classes(tmp_path: Path) -> None:
    for cls in ("cat", "dog"):
        for k in range(3):
            _touch(tmp_path / "train" / cls / f"{k}.npy")
    with pytest.warns(UserWarning, match="only a train folder: its sub-folders are the classes"):
        got = list_class_folder(tmp_path, (".npy",), "series")
    assert got.classes == ["cat", "dog"] and got.is_test is None and len(got.files) == 6


def test_a_split_with_an_empty_side_is_one_error(tmp_path: Path) -> None:
    _touch(tmp_path / "train" / "a" / "x.npy")
    (tmp_path / "test" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match="test side"), pytest.warns(UserWarning):
        list_class_folder(tmp_path, (".npy",), "series")


def test_class_folders_named_like_splits_only_in_part_stay_classes(tmp_path: Path) -> None:
    for cls in ("train", "test", "other"):  # three top folders: classes, not a split
        _touch(tmp_path / cls / "x.npy")
    got = list_class_folder(tmp_path, (".npy",), "series")
    assert got.classes == ["other", "test", "train"] and got.is_test is None


def test_series_beyond_float32_are_refused(tmp_path: Path) -> None:
    from omnijepa.data.series_data import _read_series
    from omnijepa.errors import DataError

    np.save(tmp_path / "big.npy", np.full(20, 1e35))
    with pytest.raises(DataError, match="big.npy: values up to 1e.35; rescale"):
        _read_series(tmp_path / "big.npy", 1)


def test_linked_folders_inside_a_class_are_read_once(tmp_path: Path) -> None:
    elsewhere = _touch(tmp_path / "store" / "deep" / "x.npy").parent
    data = tmp_path / "data"
    _touch(data / "a" / "y.npy")
    (data / "a" / "more").symlink_to(elsewhere, target_is_directory=True)
    (data / "a" / "more" / "loop").symlink_to(data / "a", target_is_directory=True)
    _touch(data / "b" / "z.npy")
    files, labels, classes = labelled_files(data, (".npy",))
    assert sorted(f.name for f in files) == ["x.npy", "y.npy", "z.npy"] and labels.count(0) == 2


def test_many_text_tables_left_out_are_named(tmp_path: Path) -> None:
    """12 ``.csv`` clouds beside 12 ``.npy`` ones were left out in silence as if notes."""
    for c in ("x", "y"):
        for i in range(6):
            _touch(tmp_path / c / f"{i}.npy")
            _touch(tmp_path / c / f"{i}.csv")
    with pytest.warns(UserWarning, match=r"left out 12 file.*\.csv x12"):
        files, _, _ = labelled_files(tmp_path, (".npy",))
    assert len(files) == 12


def test_series_saved_by_np_savetxt_are_read(tmp_path: Path) -> None:
    from omnijepa.data.series_data import SeriesDataConfig, load_series_folder

    rng = np.random.default_rng(0)
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for k in range(3):
            np.savetxt(tmp_path / cls / f"{k}.txt", rng.standard_normal((40, 2)))
    data = load_series_folder(SeriesDataConfig(path=str(tmp_path), channels=2), 0)
    series = data.train.series + data.test.series
    assert len(series) == 6 and all(s.shape == (2, 40) for s in series)


def test_links_to_missing_files_are_said(tmp_path: Path) -> None:
    """They were skipped without a word: the file count was the only hint."""
    for cls in ("a", "b"):
        _touch(tmp_path / cls / "x.npy")
    (tmp_path / "a" / "gone.npy").symlink_to(tmp_path / "elsewhere" / "gone.npy")
    with pytest.warns(UserWarning, match=r"1 link\(s\) to missing files, e.g. a/gone.npy"):
        got = list_class_folder(tmp_path, (".npy",), "series")
    assert len(got.files) == 2
