"""User image folders: one sub-folder per class, or a flat folder of unlabeled images.

Every image is rotated per its EXIF tag, converted to ``channels`` (L or RGB), centre-cropped
to a square (the largest one, so nothing is squashed) and resized (antialiased bilinear) to
``image_size``. Images are decoded in a thread pool (Pillow releases the GIL) and JPEGs are
decoded at reduced scale when they are much larger than needed, so big folders load quickly;
a progress bar shows on a terminal.
"""

from __future__ import annotations

import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from omnijepa.data.class_folders import FolderListing, given_or_drawn_split, list_class_folder
from omnijepa.data.image_data import (
    ImageData,
    ImageDataConfig,
    ImageSplit,
    derived_rng,
    subsample,
)
from omnijepa.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
_PROGRESS_MIN = 500  # show a progress bar from this many images (and only on a terminal)
LAZY_ABOVE = 20_000  # data.decode=auto: folders with more selected images decode per sample


def is_image(path: Path) -> bool:
    return (
        path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".") and path.is_file()
    )


def scan_image_folder(root: Path) -> FolderListing:
    """Image files with labels (``class_folders.list_class_folder``): a sub-folder per class
    (searched recursively, sorted by name), a train/test split layout, or a flat folder of
    unlabeled images (label -1)."""
    return list_class_folder(root, IMAGE_EXTENSIONS, "image")


def _to_8bit(img: Image.Image) -> Image.Image:
    """Bring 16-bit / 32-bit / float / palette images to a mode that converts cleanly."""
    if img.mode.startswith("I;16"):
        return Image.fromarray((np.asarray(img, dtype=np.float64) / 257.0).round().astype(np.uint8))
    if img.mode in ("I", "F"):
        return Image.fromarray(_wide_to_8bit(np.asarray(img, dtype=np.float64), img.mode))
    if img.mode in ("P", "PA"):
        img = img.convert("RGBA")
    return _flatten_alpha(img)


def _wide_to_8bit(a: np.ndarray, mode: str) -> np.ndarray:
    """32-bit integer or float pixels -> uint8 on a scale fixed by the range the values
    imply, the same for every image, so brightness differences between images survive:
    floats in 0..1 times 255; values in 0..255 as they are; integers up to 65535 as 16-bit
    (/ 257). Anything else has no known scale and is stretched per image, with a warning."""
    if not np.isfinite(a).all():
        raise ValueError("the image holds NaN or infinite pixel values")
    lo, hi = float(a.min()), float(a.max())
    if mode == "F" and lo >= 0 and hi <= 1:
        return (a * 255.0).round().astype(np.uint8)
    if lo >= 0 and hi <= 255:
        return a.round().astype(np.uint8)
    if mode == "I" and lo >= 0 and hi <= 65535:
        return (a / 257.0).round().astype(np.uint8)
    warnings.warn(
        "an image holds pixel values outside 0-1, 0-255 and 0-65535: each such image is "
        "stretched to 0-255 on its own, so brightness differences between them are lost "
        "(save them as 8- or 16-bit images, or floats in 0-1, to keep them)",
        stacklevel=2,
    )
    return ((a - lo) * (255.0 / max(hi - lo, 1e-12))).round().astype(np.uint8)


def _flatten_alpha(img: Image.Image) -> Image.Image:
    """Composite a transparent image onto black: the colour stored under transparent pixels is
    arbitrary (often white, sometimes leftovers), and converting to RGB or L would keep it."""
    if img.mode not in ("RGBA", "LA", "La", "RGBa"):
        return img
    rgba = img.convert("RGBA")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, (0, 0, 0, 255)), rgba)


_EXIF_LOCK = threading.Lock()
_ORIENTATION = {  # EXIF orientation tag -> the turn that makes the image upright
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90,
}  # fmt: skip
_exif_named = threading.Event()  # a damaged-EXIF file was already named in this process


def _open(
    path: Path | BinaryIO, name: str, damaged: list[str] | None
) -> tuple[Image.Image, Image.Transpose | None]:
    """The opened image and the turn its EXIF orientation asks for (camera rotation).

    Pillow parses EXIF while opening (JPEG reads its DPI there) and warns about a damaged
    block without naming the file; its warnings are caught here (under a lock, since warning
    filters are process-wide) and the file is named: added to ``damaged`` for one report per
    folder, or else warned about, once per process."""
    with _EXIF_LOCK, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        img = Image.open(path)
        orientation = img.getexif().get(0x0112, 1)
    exif = [
        w for w in caught if "TiffImagePlugin" in w.filename or "exif" in str(w.message).lower()
    ]
    for w in caught:  # another thread's warning met inside the lock goes out as it came
        if w not in exif:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if exif and damaged is not None:
        damaged.append(name)
    elif exif and not _exif_named.is_set():
        _exif_named.set()
        warnings.warn(
            f"{name}: damaged EXIF metadata, read without the damaged tags (later images with "
            "the same fault are read the same way, without a warning)",
            stacklevel=3,
        )
    return img, _ORIENTATION.get(orientation) if isinstance(orientation, int) else None


def read_image(
    path: Path | BinaryIO,
    size: int,
    channels: int,
    name: str = "",
    damaged: list[str] | None = None,
    small: list[str] | None = None,
) -> np.ndarray:
    """One image (a file, or a binary stream called ``name``) as uint8 (channels, size, size):
    turned upright, converted, centre-cropped, resized. A damaged EXIF block is noted in
    ``damaged`` when given (see ``_open``), and an image whose shorter side is under a quarter
    of ``size`` (a thumbnail, a 2 x 3000 strip: upscaled to near-constant pixels) in ``small``."""
    mode = "RGB" if channels == 3 else "L"
    try:
        opened, turn = _open(path, name or str(path), damaged)
        with opened as img:
            img.draft(mode, (size, size))  # JPEG only: cheap downscale while decoding
            img = img if turn is None else img.transpose(turn)
            img = _to_8bit(img).convert(mode)
            w, h = img.size
            s = min(w, h)
            if small is not None and 4 * s < size:
                where = name or f"{Path(path).parent.name}/{Path(path).name}"  # type: ignore[arg-type]
                small.append(f"{where} ({w}x{h})")
            box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
            img = img.resize((size, size), Image.Resampling.BILINEAR, box=box)
            arr = np.asarray(img, dtype=np.uint8)
    except Image.DecompressionBombError as exc:  # Pillow's guard against decompression bombs
        raise DataError(
            f"cannot read image {name or path}: {str(exc).rstrip('.')}; a genuine scan that "
            "large needs shrinking first (every image is resized to data.image_size anyway)"
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise DataError(f"cannot read image {name or path}: {exc}") from None
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def colour_share(files: list[Path], sample: int = 32) -> float:
    """Share of up to ``sample`` spread files whose pixels are not grey (R, G and B differ), so
    a colour folder read as grayscale can be pointed out."""
    picked = [files[i] for i in np.unique(np.linspace(0, len(files) - 1, sample).astype(int))]
    coloured = 0
    for f in picked:
        arr = read_image(f, 16, 3, damaged=[]).astype(np.int16)  # reported by the full read
        coloured += int(np.abs(arr[0] - arr[1]).max() > 8 or np.abs(arr[1] - arr[2]).max() > 8)
    return coloured / max(len(picked), 1)


def read_images(files: list[Path], size: int, channels: int) -> np.ndarray:
    """Decode many images in a thread pool into uint8 (N, channels, size, size)."""
    out = np.empty((len(files), channels, size, size), dtype=np.uint8)
    workers = min(8, os.cpu_count() or 1)
    bar = tqdm(
        total=len(files),
        desc="loading images",
        unit="img",
        disable=None if len(files) >= _PROGRESS_MIN else True,
    )
    damaged: list[str] = []
    small: list[str] = []
    with bar, ThreadPoolExecutor(workers) as pool:
        read = lambda p: read_image(p, size, channels, damaged=damaged, small=small)  # noqa: E731
        for i, arr in enumerate(pool.map(read, files)):
            out[i] = arr
            bar.update()
    if damaged:
        names = sorted(damaged)
        warnings.warn(
            f"{len(names)} image(s) carry damaged EXIF metadata and were read without the "
            f"damaged tags: {', '.join(names[:5])}{', …' if len(names) > 5 else ''}",
            stacklevel=2,
        )
    if small:
        names = sorted(small)
        warnings.warn(
            f"{len(names)} image(s) have a side under {size / 4:g} px and are upscaled to "
            f"{size} px, near-constant: {', '.join(names[:5])}{', …' if len(names) > 5 else ''}",
            stacklevel=2,
        )
    return out


class DecodedOnAccess:
    """``(N, C, S, S)`` uint8 images decoded when indexed: an int gives (C, S, S), a slice,
    index array or mask gives a stacked batch. Subclasses hold ``n`` sources and ``_read``."""

    n: int
    size: int
    channels: int

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.channels, self.size, self.size)

    def __len__(self) -> int:
        return self.n

    def _read(self, i: int) -> torch.Tensor:
        raise NotImplementedError

    def __getitem__(self, index: object) -> torch.Tensor:
        if isinstance(index, (int, np.integer)) or (torch.is_tensor(index) and index.dim() == 0):
            return self._read(int(index))
        return torch.stack([self._read(int(i)) for i in np.arange(self.n)[index]])


class LazyImages(DecodedOnAccess):
    """Image files decoded when indexed, without the pixels in memory. Paths are kept as one
    numpy bytes array (about 100 B per image), so resident memory barely depends on the
    folder's size; DataLoader workers decode in parallel."""

    def __init__(self, files: list[Path], size: int, channels: int) -> None:
        self.paths = np.array([os.fsencode(p) for p in files])
        self.n, self.size, self.channels = len(files), size, channels

    def _read(self, i: int) -> torch.Tensor:
        arr = read_image(Path(os.fsdecode(self.paths[i])), self.size, self.channels)
        return torch.from_numpy(arr.copy())  # PIL's buffer is read-only


def select_splits(
    labels: np.ndarray, is_test: np.ndarray | None, cfg: ImageDataConfig, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train/test indices (the data's own split where ``is_test`` gives it, else seeded and
    stratified when labelled), subsampled to the config's sizes."""
    split_rng = derived_rng(seed, "split")
    train, test = given_or_drawn_split(labels, is_test, cfg.test_fraction, split_rng)
    train = train[subsample(len(train), cfg.train_size, derived_rng(seed, "train-subsample"))]
    test = test[subsample(len(test), cfg.test_size, derived_rng(seed, "test-subsample"))]
    return train, test


def load_image_folder(cfg: ImageDataConfig, seed: int) -> ImageData:
    """Load ``cfg.path``, split by ``test_fraction`` (stratified when labeled) and subsample."""
    root = Path(cfg.path or "").expanduser()
    listing = scan_image_folder(root)
    files, labels, classes = listing.files, listing.labels, listing.classes
    if len(files) < 2:
        raise DataError(
            f"{root}: found only {len(files)} image; need at least 2 to make a "
            f"train and a test split"
        )
    train, test = select_splits(labels, listing.is_test, cfg, seed)
    chosen = [files[i] for i in np.concatenate([train, test])]
    lazy = cfg.decode == "lazy" or (cfg.decode == "auto" and len(chosen) > LAZY_ABOVE)
    y, n = torch.from_numpy(labels), len(train)
    if lazy:
        read_image(chosen[0], cfg.image_size, cfg.channels)  # an unreadable folder fails now
        splits = (LazyImages(chosen[:n], cfg.image_size, cfg.channels),
                  LazyImages(chosen[n:], cfg.image_size, cfg.channels))  # fmt: skip
    else:
        x = torch.from_numpy(read_images(chosen, cfg.image_size, cfg.channels))
        splits = (x[:n], x[n:])
    color = "RGB" if cfg.channels == 3 else "grayscale"
    if cfg.channels == 1 and colour_share(chosen) > 0.5:
        color += " (the files are in colour: data.channels=3 keeps it)"
    source = (
        f"image folder {root} ({listing.described}), centre-cropped and resized "
        f"to {cfg.image_size}x{cfg.image_size} {color}" + (", decoded per sample" if lazy else "")
    )
    return ImageData(
        train=ImageSplit(splits[0], y[train], [str(f) for f in chosen[:n]]),
        test=ImageSplit(splits[1], y[test], [str(f) for f in chosen[n:]]),
        classes=classes,
        source=source,
    )
