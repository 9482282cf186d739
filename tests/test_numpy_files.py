"""A user's .npy/.npz files, damaged or foreign in the ways people's files are, give one
DataError naming the file in every loader that reads them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omnijepa.data.numpy_files import positive_scalar, read_npy, read_npz
from omnijepa.errors import DataError


def test_damaged_and_foreign_files_are_one_error(tmp_path: Path) -> None:
    (tmp_path / "empty.npz").write_bytes(b"")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY broken")
    np.savez(tmp_path / "archive.npz", a=np.ones(3))
    (tmp_path / "archive.npz").rename(tmp_path / "archive.npy")
    np.save(tmp_path / "single.npy", np.ones(3))
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for name in ("empty.npz", "junk.npz", "single.npz"):
        with pytest.raises(DataError, match=name):
            read_npz(tmp_path / name, "test data", ("a",))
    for name, why in [("junk.npy", "cannot read"), ("archive.npy", "an .npz archive"),
                      ("objects.npy", "cannot read")]:  # fmt: skip
        with pytest.raises(DataError, match=f"{why}.*{name}|{name}.*{why}"):
            read_npy(tmp_path / name, "test data")


def test_required_arrays_and_scalars(tmp_path: Path) -> None:
    np.savez(tmp_path / "ok.npz", X=np.zeros((2, 3)), sfreq=np.array([128.0]))
    assert set(read_npz(tmp_path / "ok.npz", "x", ("X",))) == {"X", "sfreq"}
    with pytest.raises(DataError, match=r"missing array\(s\) \['y'\].*found \['X', 'sfreq'\]"):
        read_npz(tmp_path / "ok.npz", "EEG", ("X", "y"))
    assert positive_scalar(np.array([128.0]), "sfreq", tmp_path) == 128.0
    for bad, why in [(np.array([1.0, 2.0]), "one number"), (np.array(-5.0), "a positive"),
                     (np.array(np.nan), "a positive"), (np.array("x"), "one number")]:  # fmt: skip
        with pytest.raises(DataError, match=f"sfreq must be {why}"):
            positive_scalar(bad, "sfreq", tmp_path)


@pytest.mark.parametrize("recipe_loader", ["eeg", "fmri", "points", "series", "trajectories"])
def test_every_loader_reports_a_damaged_numpy_file(tmp_path: Path, recipe_loader: str) -> None:
    from omnijepa.data.eeg_files import ReadOptions
    from omnijepa.data.eeg_files import read_npz as read_eeg_npz
    from omnijepa.data.fmri_data import read_roi_path
    from omnijepa.data.point_files import load_point_file
    from omnijepa.data.series_data import _read_series
    from omnijepa.data.trajectories import read_trajectories

    suffix = ".npy" if recipe_loader in ("points", "series") else ".npz"
    bad = tmp_path / f"damaged{suffix}"
    bad.write_bytes(b"PK\x03\x04 truncated")
    call = {
        "eeg": lambda: read_eeg_npz(bad, ReadOptions()),
        "fmri": lambda: read_roi_path(bad),
        "points": lambda: load_point_file(bad, 64, np.random.default_rng(0)),
        "series": lambda: _read_series(bad, 1),
        "trajectories": lambda: read_trajectories(bad),
    }[recipe_loader]
    with pytest.raises(DataError, match="damaged"):
        call()


def test_object_arrays_get_a_hint_not_numpys_wording(tmp_path: Path) -> None:
    """``y`` saved from pandas values is an object array; numpy's own message said only
    "Object arrays cannot be loaded when allow_pickle=False"."""
    np.savez(tmp_path / "o.npz", X=np.zeros((4, 2, 8)), y=np.array(["l", "r"] * 2, dtype=object))
    with pytest.raises(DataError, match=r"array 'y' was saved as Python objects.*dtype=str"):
        read_npz(tmp_path / "o.npz", "EEG", ("X", "y"))


def test_eeg_names_and_labels_saved_as_bytes_are_decoded(tmp_path: Path) -> None:
    from omnijepa.data.eeg_files import ReadOptions
    from omnijepa.data.eeg_files import read_npz as read_eeg_npz

    ch = np.array([b"Fz", b"C3", b"Cz"])  # an S array, as h5py and MATLAB exports give
    np.savez(tmp_path / "b.npz", X=np.zeros((4, 3, 64)), y=np.array([b"l", b"r"] * 2), ch_names=ch)
    trials = read_eeg_npz(tmp_path / "b.npz", ReadOptions())
    assert trials.channels[0] == ("Fz", "C3", "Cz") and sorted(set(trials.labels)) == ["l", "r"]
