"""Image data: IDX reader, built-in sources, canvases, user folders, normalising Dataset."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from omnijepa.data import ImageDataConfig, ImageTensorDataset, load_image_data, make_datasets
from omnijepa.data.idx_format import read_idx, write_idx
from omnijepa.data.image_data import split_indices
from omnijepa.data.image_folder import read_image
from omnijepa.data.image_sources import FASHION_MNIST_CLASSES, fashion_mnist_dir
from omnijepa.errors import ConfigError, DataError

_FASHION_FILE = "train-images-idx3-ubyte.gz"
needs_fashion = pytest.mark.skipif(
    not (fashion_mnist_dir() / _FASHION_FILE).is_file(),
    reason=f"Fashion-MNIST absent from {fashion_mnist_dir()} "
    "(apt-get install dataset-fashion-mnist, or make setup)",
)


# ---- IDX --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path: Path, name: str) -> None:
    arr = np.random.default_rng(0).integers(0, 256, (5, 3, 7), dtype=np.uint8)
    write_idx(tmp_path / name, arr)
    raw = (tmp_path / name).read_bytes()
    plain = gzip.decompress(raw) if name.endswith(".gz") else raw
    assert plain[:4] == bytes([0, 0, 8, 3]) and plain[4:8] == (5).to_bytes(4, "big")
    out = read_idx(tmp_path / name)
    assert out.dtype == np.uint8 and out.shape == (5, 3, 7)
    np.testing.assert_array_equal(out, arr)


def test_idx_corrupt_and_truncated_files_name_the_file(tmp_path: Path) -> None:
    good = tmp_path / "good.idx"
    write_idx(good, np.zeros((4, 4), dtype=np.uint8))
    cases = {
        "truncated.idx": good.read_bytes()[:-3],
        "badmagic.idx": b"\x01\x02\x08\x01" + good.read_bytes()[4:],
        "float.idx": b"\x00\x00\x0d\x01\x00\x00\x00\x01abcd",
        "trailing.idx": good.read_bytes() + b"x",
        "broken.idx.gz": gzip.compress(good.read_bytes())[:-6],
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(DataError, match=name.replace(".", r"\.")):
            read_idx(tmp_path / name)
    with pytest.raises(DataError, match="missing.idx"):
        read_idx(tmp_path / "missing.idx")


# ---- built-in sources -----------------------------------------------------------------------


@needs_fashion
def test_fashion_mnist_shapes_and_classes() -> None:
    cfg = ImageDataConfig(name="fashion_mnist", image_size=28, train_size=3000, test_size=500)
    data = load_image_data(cfg, seed=0)
    assert data.train.images.shape == (3000, 1, 28, 28)
    assert data.test.images.shape == (500, 1, 28, 28)
    assert data.train.images.dtype == torch.uint8 and data.train.labels.dtype == torch.int64
    assert data.classes == FASHION_MNIST_CLASSES and len(data.classes) == 10
    counts = torch.bincount(data.train.labels, minlength=10)
    assert counts.min() > 200 and counts.max() < 400  # balanced-ish: 300 expected per class
    assert "Fashion-MNIST" in data.source
    resized = load_image_data(
        ImageDataConfig(
            name="fashion_mnist", train_size=10, test_size=10, image_size=32, channels=3
        ),
        seed=0,
    )
    assert resized.train.images.shape == (10, 3, 32, 32)
    assert torch.equal(resized.train.images[:, 0], resized.train.images[:, 2])


def test_missing_fashion_mnist_says_what_to_install(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OMNIJEPA_FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        load_image_data(ImageDataConfig(name="fashion_mnist"), seed=0)


def test_unknown_source_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="canvas_fashion_mnist.*digits"):
        load_image_data(ImageDataConfig(name="cifar10"), seed=0)


def _centre_of_mass(images: torch.Tensor) -> torch.Tensor:
    x = images[:, 0].double()
    grid = torch.arange(x.shape[-1], dtype=torch.float64)
    total = x.sum(dim=(1, 2))
    return torch.stack([(x.sum(2) * grid).sum(1) / total, (x.sum(1) * grid).sum(1) / total], 1)


@pytest.mark.parametrize(
    "name", ["canvas_digits", pytest.param("canvas_fashion_mnist", marks=needs_fashion)]
)
def test_canvas_deterministic_varied_and_label_preserving(name: str) -> None:
    plain_name = name.removeprefix("canvas_")
    cfg = ImageDataConfig(name=name, image_size=40, train_size=300, test_size=100)
    a, b = load_image_data(cfg, seed=1), load_image_data(cfg, seed=1)
    c = load_image_data(cfg, seed=2)
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.test.images, b.test.images)
    assert not torch.equal(a.train.images, c.train.images)
    assert a.train.images.shape == (300, 1, 40, 40) and a.test.images.shape == (100, 1, 40, 40)
    # items land at different positions (fixed item size, so only the placement moves them)
    fixed = ImageDataConfig(name=name, canvas_scale=(0.5, 0.5), train_size=300)
    com = _centre_of_mass(load_image_data(fixed, seed=1).train.images)
    assert com.std(dim=0).min() > 3.0  # uniform over 21 offsets: std ~ 6
    # item sizes vary: the bounding-box side of the non-black pixels spreads over the scale range
    rows = (a.train.images[:, 0] > 0).any(dim=2).float()
    height = rows.shape[1] - rows.argmax(1) - rows.flip(1).argmax(1)
    assert height.float().std() > 2.0
    # labels preserved: same seed => same subsample as the plain source, whose labels are known
    plain = load_image_data(ImageDataConfig(name=plain_name, train_size=300, test_size=100), seed=1)
    assert torch.equal(a.train.labels, plain.train.labels)
    assert torch.equal(a.test.labels, plain.test.labels)
    # at scale 1 and the native side, the canvas is exactly the item: images and labels match
    native = 28 if "fashion" in name else 8
    full = ImageDataConfig(name=name, image_size=native, canvas_scale=(1.0, 1.0), train_size=50)
    plain_native = load_image_data(ImageDataConfig(**{**vars(full), "name": plain_name}), seed=1)
    full_data = load_image_data(full, seed=1)
    assert torch.equal(full_data.train.images, plain_native.train.images)
    assert torch.equal(full_data.train.labels, plain_native.train.labels)


@needs_fashion
def test_canvas_placement_depends_on_seed_not_only_on_subsample() -> None:
    cfg = ImageDataConfig(name="canvas_fashion_mnist", train_size=10, test_size=0)
    a, b = load_image_data(cfg, seed=1), load_image_data(cfg, seed=2)
    assert len(a.test) == 10000 and torch.equal(a.test.labels, b.test.labels)  # same items...
    assert not torch.equal(a.test.images, b.test.images)  # ...placed differently


def test_canvas_clutter_adds_ink() -> None:
    base = ImageDataConfig(name="canvas_digits", train_size=200, test_size=50)
    clean = load_image_data(base, seed=0)
    cluttered = load_image_data(ImageDataConfig(**{**vars(base), "canvas_clutter": 3}), seed=0)
    assert torch.equal(clean.train.labels, cluttered.train.labels)
    assert torch.all(cluttered.train.images >= clean.train.images)  # max blend keeps the item
    assert cluttered.train.images.float().mean() > clean.train.images.float().mean() * 1.05
    assert "clutter" in cluttered.source


def test_digits_split_is_stratified_and_seeded() -> None:
    cfg = ImageDataConfig(
        name="digits", image_size=16, train_size=0, test_size=0, test_fraction=0.25
    )
    data = load_image_data(cfg, seed=0)
    assert len(data.train) + len(data.test) == 1797
    assert abs(len(data.test) - 0.25 * 1797) <= 10
    assert data.train.images.shape[1:] == (1, 16, 16) and data.classes == list("0123456789")
    test_counts = torch.bincount(data.test.labels, minlength=10)
    assert test_counts.min() >= 40 and test_counts.max() <= 50
    other = load_image_data(cfg, seed=1)
    assert not torch.equal(data.test.images, other.test.images)


def test_split_indices_tiny_classes() -> None:
    rng = np.random.default_rng(0)
    train, test = split_indices(np.array([0, 1, 2]), 0.2, rng)
    assert len(test) == 1 and len(train) == 2
    train, test = split_indices(np.array([0, 0, 0, 0, 1]), 0.5, rng)
    assert sorted(np.concatenate([train, test])) == [0, 1, 2, 3, 4] and 4 in train


# ---- user folders ---------------------------------------------------------------------------


def _save(path: Path, size: tuple[int, int], value: int, mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = (value, value, max(0, value - 10)) if mode == "RGB" else value
    Image.new(mode, size, colour).save(path)


def _make_labelled_folder(root: Path) -> None:
    # "bright" images are light, "dark" ones dark: the labels must follow the folders
    _save(root / "bright" / "a.png", (30, 50), 230)
    _save(root / "bright" / "b.PNG", (64, 64), 220, mode="L")
    _save(root / "bright" / "c.jpg", (40, 20), 240)
    _save(root / "bright" / "nested" / "d.bmp", (16, 16), 250)
    _save(root / "dark" / "a.png", (12, 12), 20)
    _save(root / "dark" / "b.webp", (70, 33), 10)
    _save(root / "dark" / "c.png", (25, 25), 30, mode="L")
    _save(root / "dark" / "d.gif", (20, 20), 15, mode="L")
    (root / "dark" / "notes.txt").write_text("not an image")


@pytest.mark.parametrize("channels", [1, 3])
def test_labelled_folder(tmp_path: Path, channels: int) -> None:
    _make_labelled_folder(tmp_path)
    cfg = ImageDataConfig(path=str(tmp_path), image_size=24, channels=channels, test_fraction=0.25)
    data = load_image_data(cfg, seed=0)
    assert data.classes == ["bright", "dark"]
    assert len(data.train) == 6 and len(data.test) == 2
    assert sorted(data.test.labels.tolist()) == [0, 1]  # stratified
    for split in (data.train, data.test):
        assert split.images.shape[1:] == (channels, 24, 24) and split.images.dtype == torch.uint8
        brightness = split.images.float().mean(dim=(1, 2, 3))
        assert torch.all(brightness[split.labels == 0] > 150)
        assert torch.all(brightness[split.labels == 1] < 60)
    again = load_image_data(cfg, seed=0)
    assert torch.equal(again.train.images, data.train.images)
    assert "2 classes" in data.source


def test_folder_centre_crops_instead_of_squashing(tmp_path: Path) -> None:
    img = np.zeros((20, 60, 3), dtype=np.uint8)
    img[:, :20, 0] = 255  # red | green | blue thirds: the centre crop is the green square
    img[:, 20:40, 1] = 255
    img[:, 40:, 2] = 255
    for i in range(2):
        Image.fromarray(img).save(tmp_path / f"{i}.png")
    data = load_image_data(ImageDataConfig(path=str(tmp_path), image_size=10, channels=3), 0)
    px = data.train.images[0].float().mean(dim=(1, 2))
    assert px[1] > 240 and px[0] < 15 and px[2] < 15


def test_colour_folder_read_as_grey_says_so(tmp_path: Path) -> None:
    img = np.zeros((12, 12, 3), dtype=np.uint8)
    img[..., 0] = 200  # red
    for i in range(3):
        (tmp_path / "red").mkdir(exist_ok=True)
        Image.fromarray(img).save(tmp_path / "red" / f"{i}.png")
        _save(tmp_path / "grey" / f"{i}.png", (12, 12), 90, mode="L")
    grey = load_image_data(ImageDataConfig(path=str(tmp_path / "grey"), image_size=8), 0)
    assert "data.channels=3" not in grey.source
    coloured = load_image_data(ImageDataConfig(path=str(tmp_path / "red"), image_size=8), 0)
    assert "data.channels=3" in coloured.source
    rgb = load_image_data(ImageDataConfig(path=str(tmp_path / "red"), image_size=8, channels=3), 0)
    assert "data.channels=3" not in rgb.source


def test_flat_folder_is_unlabelled(tmp_path: Path) -> None:
    for i in range(5):
        _save(tmp_path / f"img{i}.JPEG", (20 + i, 30), 40 * i)
    data = load_image_data(ImageDataConfig(path=str(tmp_path), image_size=8), seed=3)
    assert data.classes == []
    assert len(data.train) == 4 and len(data.test) == 1
    assert torch.all(data.train.labels == -1) and torch.all(data.test.labels == -1)
    assert data.train.images.shape == (4, 1, 8, 8)


def test_folder_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(DataError, match=f"not found: {missing}"):
        load_image_data(ImageDataConfig(path=str(missing)), seed=0)
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(DataError, match="not a directory"):
        load_image_data(ImageDataConfig(path=str(tmp_path / "file.png")), seed=0)
    empty = tmp_path / "empty"
    (empty / "cls").mkdir(parents=True)
    (empty / "readme.txt").write_text("hi")
    with pytest.raises(DataError, match=f"no image files found in {empty}.*\\.png.*\\.webp"):
        load_image_data(ImageDataConfig(path=str(empty)), seed=0)
    single = tmp_path / "single"
    _save(single / "only.png", (8, 8), 100)
    with pytest.raises(DataError, match=f"{single}: found only 1 image"):
        load_image_data(ImageDataConfig(path=str(single)), seed=0)
    corrupt = tmp_path / "corrupt"
    _save(corrupt / "ok.png", (8, 8), 100)
    _save(corrupt / "ok2.png", (8, 8), 100)
    (corrupt / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    with pytest.raises(DataError, match=f"cannot read image {corrupt / 'broken.jpg'}"):
        load_image_data(ImageDataConfig(path=str(corrupt), test_fraction=0.5), seed=0)


# ---- Dataset --------------------------------------------------------------------------------


def test_image_tensor_dataset_normalises_with_train_stats() -> None:
    data = load_image_data(ImageDataConfig(name="digits", image_size=12, channels=3), seed=0)
    train, test = make_datasets(data)
    x, y = train[0]
    assert x.dtype == torch.float32 and x.shape == (3, 12, 12) and isinstance(y, int)
    assert y == int(data.train.labels[0])
    batch = torch.stack([train[i][0] for i in range(len(train))])
    assert torch.allclose(batch.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(batch.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3)
    assert torch.equal(test.mean, train.mean) and torch.equal(test.std, train.std)
    expected = (data.test.images[0].float() / 255 - train.mean) / train.std
    assert torch.allclose(test[0][0], expected)
    own = ImageTensorDataset(data.test)  # stats from the split itself when none are given
    assert not torch.equal(own.mean, train.mean)


def test_lazy_folder_decodes_per_sample_with_the_same_pixels(tmp_path: Path) -> None:
    from omnijepa.data.image_folder import LazyImages

    _make_labelled_folder(tmp_path)
    base = dict(path=str(tmp_path), image_size=12, channels=3, test_fraction=0.25)
    eager = load_image_data(ImageDataConfig(**base, decode="memory"), seed=0)
    lazy = load_image_data(ImageDataConfig(**base, decode="lazy"), seed=0)
    assert isinstance(lazy.train.images, LazyImages) and torch.is_tensor(eager.train.images)
    assert lazy.train.images.shape == tuple(eager.train.images.shape)
    assert torch.equal(lazy.train.images[:], eager.train.images)
    assert torch.equal(lazy.train.images[2], eager.train.images[2])
    assert torch.equal(lazy.test.images[torch.tensor([1, 0])], eager.test.images[[1, 0]])
    assert torch.equal(lazy.train.labels, eager.train.labels)
    (a, _), (b, _) = make_datasets(lazy), make_datasets(eager)
    assert torch.equal(a[3][0], b[3][0])  # same normalisation (small split: all images)
    assert "decoded per sample" in lazy.source


def test_lazy_folder_trains_through_the_cli(tmp_path: Path, capsys, tiny_overrides) -> None:  # noqa: ANN001
    from tests.test_cli import run_cli

    for i in range(12):
        _save(tmp_path / "data" / ("a" if i % 2 else "b") / f"{i}.png", (20, 20), 20 * i)
    ov = tiny_overrides(
        "ijepa", f"data.path={tmp_path / 'data'}", "data.decode=lazy", "data.image_size=16",
        "train.batch_size=4", "train.num_workers=2",
    )  # fmt: skip
    code, _, err = run_cli(capsys, "train", "ijepa", *ov, "--out", tmp_path / "run")
    assert code == 0, err


def test_unknown_decode_mode_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="decode"):
        load_image_data(ImageDataConfig(path=str(tmp_path), decode="sometimes"), seed=0)


def test_tiff_folder_reads_16_bit_and_float_images(tmp_path: Path) -> None:
    """Microscopy and remote-sensing folders are TIFF, often 16-bit or float32."""
    ramp = np.linspace(0, 1, 16 * 16).reshape(16, 16)
    for i in range(2):
        (tmp_path / "a").mkdir(exist_ok=True)
        (tmp_path / "b").mkdir(exist_ok=True)
        Image.fromarray((ramp * 65535).astype(np.uint16)).save(tmp_path / "a" / f"{i}.tif")
        Image.fromarray((1 - ramp).astype(np.float32)).save(tmp_path / "b" / f"{i}.TIFF")
    data = load_image_data(ImageDataConfig(path=str(tmp_path), image_size=8, test_fraction=0.5), 0)
    assert data.classes == ["a", "b"] and len(data.train) == 2
    imgs = torch.cat([data.train.images, data.test.images]).float()
    assert imgs.amax(dim=(1, 2, 3)).min() > 200  # scaled to the full 8-bit range
    labels = torch.cat([data.train.labels, data.test.labels])
    a, b = imgs[labels == 0][0, 0], imgs[labels == 1][0, 0]
    assert a[0, 0] < a[-1, -1] and b[0, 0] > b[-1, -1]  # the ramps keep their direction


@pytest.mark.parametrize(
    ("pixels", "expected"),
    [
        (np.full((8, 8), 0.2, np.float32), 51),  # floats in 0..1: times 255
        (np.full((8, 8), 0.8, np.float32), 204),
        (np.full((8, 8), 0.5, np.float32), 128),  # a flat image is not stretched to black
        (np.full((8, 8), 200.0, np.float32), 200),  # floats in 0..255: as they are
        (np.full((8, 8), 100, np.int32), 100),  # 32-bit integers in 0..255
        (np.full((8, 8), 51400, np.int32), 200),  # ... and up to 65535: 16-bit
    ],
)
def test_wide_pixels_keep_their_brightness_between_images(
    tmp_path: Path, pixels: np.ndarray, expected: int
) -> None:
    """Each image used to be stretched to its own min..max: a dark and a bright float image
    read back in the reverse order, and a flat one as black."""
    Image.fromarray(pixels).save(tmp_path / "x.tif")
    assert np.abs(read_image(tmp_path / "x.tif", 8, 1).astype(int) - expected).max() <= 1


def test_pixels_of_no_known_scale_are_stretched_with_a_warning(tmp_path: Path) -> None:
    Image.fromarray(np.linspace(-5, 5, 64, dtype=np.float32).reshape(8, 8)).save(tmp_path / "x.tif")
    with pytest.warns(UserWarning, match="outside 0-1, 0-255 and 0-65535"):
        img = read_image(tmp_path / "x.tif", 8, 1)
    assert img.min() == 0 and img.max() == 255


def test_a_float_image_with_nan_pixels_is_named(tmp_path: Path) -> None:
    bad = np.ones((16, 16), dtype=np.float32)
    bad[3, 4] = np.nan
    Image.fromarray(bad).save(tmp_path / "nan.tif")
    with pytest.raises(DataError, match="nan.tif.*NaN or infinite pixel"):
        read_image(tmp_path / "nan.tif", 8, 1)


@pytest.mark.parametrize("channels", [1, 3])
def test_transparent_pixels_read_as_black_whatever_colour_they_store(
    tmp_path: Path, channels: int
) -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3] = 255  # white stored under transparency, as many icon tools write it
    rgba[2:6, 2:6] = (200, 40, 40, 255)  # an opaque red square
    rgba[0, 0, 3] = 128  # half transparent white: half its value
    Image.fromarray(rgba, "RGBA").save(tmp_path / "icon.png")
    Image.fromarray(rgba, "RGBA").convert("P").save(tmp_path / "palette.png")
    arr = read_image(tmp_path / "icon.png", 8, channels).astype(int)
    assert arr[:, 7, 7].max() == 0 and arr[:, 3, 3].max() > 40
    assert abs(int(arr[0, 0, 0]) - 128) <= 2
    assert read_image(tmp_path / "palette.png", 8, channels)[:, 7, 7].max() == 0
