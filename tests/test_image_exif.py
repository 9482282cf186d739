"""Camera rotation from EXIF, and damaged EXIF blocks reported with the files' names."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from omnijepa.data.image_folder import read_image, read_images


def _jpeg_with_exif(path: Path, orientation: int, damage: bool = False) -> None:
    """A 32 × 16 image, left half black and right half white, with an EXIF orientation tag;
    ``damage`` makes the Make tag claim more bytes than the file holds."""
    arr = np.zeros((16, 32, 3), dtype=np.uint8)
    arr[:, 16:] = 255
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Cam"
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    data = bytearray(buf.getvalue())
    if damage:
        for entry, order in ((b"\x0f\x01\x02\x00", "little"), (b"\x01\x0f\x00\x02", "big")):
            k = data.find(entry)
            if k >= 0:
                data[k + 4 : k + 8] = (10**6).to_bytes(4, order)  # type: ignore[arg-type]
                break
        else:
            raise AssertionError("no Make tag to damage")
    path.write_bytes(bytes(data))


def test_exif_orientation_turns_the_image_upright(tmp_path: Path) -> None:
    _jpeg_with_exif(tmp_path / "r.jpg", 6)  # stored on its side: 90° clockwise to view
    _jpeg_with_exif(tmp_path / "u.jpg", 1)
    turned = read_image(tmp_path / "r.jpg", 16, 1)[0]
    plain = read_image(tmp_path / "u.jpg", 16, 1)[0]
    assert plain[:, :8].mean() < 60 and plain[:, 8:].mean() > 200  # black left, white right
    assert turned[:8].mean() < 60 and turned[8:].mean() > 200  # black top, white bottom


def test_damaged_exif_is_reported_once_with_the_files_names(tmp_path: Path) -> None:
    files = []
    for i in range(3):
        files.append(tmp_path / f"bad{i}.jpg")
        _jpeg_with_exif(files[-1], 6, damage=i < 2)
    with pytest.warns(UserWarning, match=r"2 image\(s\) carry damaged EXIF.*bad0.jpg.*bad1.jpg"):
        out = read_images(files, 16, 1)
    assert out.shape == (3, 1, 16, 16)
    assert all(o[0, :8].mean() < 60 and o[0, 8:].mean() > 200 for o in out)  # still turned
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_images(files[2:], 16, 1)  # a sound file warns about nothing
    assert not caught


def test_images_far_smaller_than_the_input_are_said(tmp_path: Path) -> None:
    """A 2 x 3000 strip or a 3 x 2 thumbnail became a near-constant 32 px image silently."""
    (tmp_path / "a").mkdir()
    Image.new("L", (3000, 2), 128).save(tmp_path / "a" / "strip.png")
    Image.new("L", (40, 40), 128).save(tmp_path / "a" / "fine.png")
    with pytest.warns(UserWarning, match=r"1 image\(s\) have a side under 8 px.*a/strip.png"):
        read_images([tmp_path / "a" / "strip.png", tmp_path / "a" / "fine.png"], 32, 1)


def test_an_image_past_pillows_bomb_limit_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omnijepa.errors import DataError

    Image.new("L", (100, 100)).save(tmp_path / "scan.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 10,000 px is then "a bomb"
    with pytest.raises(DataError, match=r"scan.png: .*exceeds limit.*needs shrinking first"):
        read_image(tmp_path / "scan.png", 32, 1)
