"""One point file read on its own: the text dialects users write (headers, commas,
semicolons, decimal commas), malformed files and bad arrays, each one error naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omnijepa.data.point_files import load_point_file
from omnijepa.errors import DataError


def _npy(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, arr)
    return path


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("garbage.ply", b"\x00\xffnot a ply\x13\x37" * 20, "cannot read"),
        ("two_cols.xyz", b"1 2\n3 4\n5 6\n", "3 columns"),
        ("words.txt", b"1 2 3\na b c\n", "non-numeric"),
        ("empty.xyz", b"", "empty"),
        ("empty.ply", b"", "empty file"),
        ("empty.obj", b"", "empty file"),
        ("blank.obj", b"# nothing\n", "no faces and no vertices"),
        ("garbage.npy", b"\x93NUMPY garbage", "cannot read"),
        ("cloud.las", b"LASF", "unsupported"),
    ],
)
def test_malformed_files_raise_one_line_data_error(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(DataError, match=problem) as info:
        load_point_file(tmp_path / name, 16, np.random.default_rng(0))
    message = str(info.value)
    assert name in message and "\n" not in message


@pytest.mark.parametrize(
    ("name", "array", "problem"),
    [
        ("nan.npy", np.array([[0.0, 1.0, np.nan]] * 5), "NaN"),
        ("inf.npy", np.array([[0.0, np.inf, 1.0]] * 5), "NaN or infinity"),
        ("narrow.npy", np.zeros((5, 2)), "shape"),
        ("flat.npy", np.zeros(9), "shape"),
        ("nopoints.npy", np.zeros((0, 3)), "no points"),
        ("transposed.npy", np.ones((3, 50)), r"\(3, 50\).*transpose"),
        ("huge.npy", np.full((5, 3), 1e35), "rescale"),
    ],
)
def test_bad_npy_arrays(tmp_path: Path, name: str, array: np.ndarray, problem: str) -> None:
    np.save(tmp_path / name, array)
    with pytest.raises(DataError, match=problem) as info:
        load_point_file(tmp_path / name, 16, np.random.default_rng(0))
    assert name in str(info.value)


def test_text_headers_are_skipped_and_bad_rows_named(tmp_path: Path) -> None:
    rows = "\n".join(f"{k},{k * k},{-k}" for k in range(6))
    (tmp_path / "named.xyz").write_text("x,y,z\n" + rows + "\n")
    cloud = load_point_file(tmp_path / "named.xyz", 6, np.random.default_rng(0))
    assert sorted(cloud[:, 0].tolist()) == [0, 1, 2, 3, 4, 5]
    (tmp_path / "bad.xyz").write_text("x y z\n1 2 3\n4 five 6\n")
    with pytest.raises(DataError, match="bad.xyz: non-numeric value in point row 2: 4 five 6"):
        load_point_file(tmp_path / "bad.xyz", 6, np.random.default_rng(0))
    (tmp_path / "junk.xyz").write_bytes(bytes(range(128, 256)))
    with pytest.raises(DataError, match="junk.xyz: not a text file"):
        load_point_file(tmp_path / "junk.xyz", 6, np.random.default_rng(0))
    (tmp_path / "e.off").write_bytes(b"")
    with pytest.raises(DataError, match="e.off: empty file"):
        load_point_file(tmp_path / "e.off", 6, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("line", "sep"),
    [("{:.3f} {:.3f} {:.3f}", "decimal commas, spaces"), ("{:.3f};{:.3f};{:.3f}", "semicolons")],
)
def test_text_points_in_european_locales_read_right(tmp_path: Path, line: str, sep: str) -> None:
    """``0,126 -0,132 0,640`` was read as x=0, y=126, z=-0 (every comma a separator), with no
    warning; semicolon-separated rows were refused."""
    pts = np.random.default_rng(0).normal(size=(20, 3))
    text = "\n".join(line.format(*p).replace(".", ",") for p in pts)
    (tmp_path / "eu.xyz").write_text(text + "\n")
    cloud = load_point_file(tmp_path / "eu.xyz", 20, np.random.default_rng(0))
    np.testing.assert_allclose(np.sort(cloud[:, 0]), np.sort(pts[:, 0]), atol=6e-4, err_msg=sep)
    plain = "\n".join(f"{a:.3f},{b:.3f},{c:.3f}" for a, b, c in pts)  # commas as separators
    (tmp_path / "us.xyz").write_text(plain + "\n")
    cloud = load_point_file(tmp_path / "us.xyz", 20, np.random.default_rng(0))
    np.testing.assert_allclose(np.sort(cloud[:, 2]), np.sort(pts[:, 2]), atol=6e-4)


def test_too_few_points_is_not_called_a_transposed_array(tmp_path: Path) -> None:
    """A (2, 3) file was told to transpose itself into a (3, 2) one, which is refused too."""
    with pytest.raises(DataError, match="only 2 distinct point"):
        load_point_file(_npy(tmp_path / "two.npy", np.eye(2, 3)), 8, np.random.default_rng(0))
    with pytest.raises(DataError, match=r"\(3, 40\) looks saved coordinates-first.*arr.T"):
        load_point_file(_npy(tmp_path / "t.npy", np.ones((3, 40))), 8, np.random.default_rng(0))
