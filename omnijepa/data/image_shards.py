"""Image folders as sharded tar archives in the WebDataset layout, and reading them back.

``pack_image_folder(DIR, OUT)`` (``omnijepa data pack``) writes ``OUT/shard-00000.tar``, … with
``shard_size`` samples each; sample ``k`` is the members ``{key}.{ext}`` (the original image
bytes) and ``{key}.cls`` (its class index as text, absent when unlabelled), plus
``OUT/classes.json`` with the class names and, for a folder that holds its own train/test split,
``OUT/split.json`` (``{"test": [keys]}``), which training then keeps. Any WebDataset tool reads
the shards.

Reading (``data.path=OUT``): the tar headers are scanned once for each member's byte offset, so a
sample is one seek and one read in the shard, decoded in the DataLoader worker that asks for it.
Random access keeps the trainer's deterministic order, so a resumed run continues exactly
where it stopped. ``OUT`` may also be a URL (``s3://bucket/shards``, …: ``data.shard_storage``),
read with ranged reads through fsspec.
"""

from __future__ import annotations

import io
import json
import tarfile
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from omnijepa.data.image_data import ImageData, ImageDataConfig, ImageSplit
from omnijepa.data.image_folder import (
    IMAGE_EXTENSIONS,
    DecodedOnAccess,
    is_image,
    read_image,
    scan_image_folder,
    select_splits,
)
from omnijepa.data.shard_storage import ShardStorage, is_url
from omnijepa.errors import DataError

CLASSES_FILE = "classes.json"
SPLIT_FILE = "split.json"


def pack_image_folder(root: Path, out: Path, shard_size: int = 1000) -> list[Path]:
    """Write ``root``'s images (a sub-folder per class, or flat) as tar shards in ``out``."""
    if shard_size < 1:
        raise DataError(f"shard size must be >= 1, got {shard_size}")
    listing = scan_image_folder(Path(root))
    files, labels, classes = listing.files, listing.labels, listing.classes
    broken = [q for q in Path(root).rglob("*") if q.is_symlink() and not q.exists()]
    if broken:  # scan_image_folder passes over them: say so once here
        warnings.warn(f"{root}: {len(broken)} broken link(s) left out, e.g. {broken[0]}",
                      stacklevel=2)  # fmt: skip
    out = Path(out)
    if out.resolve().is_relative_to(Path(root).resolve()):  # the shards would be read as data
        raise DataError(f"--out {out} lies inside the image folder {root}: a run on the folder "
                        "would read the shards' folder as one more class; choose a place "
                        "outside it")  # fmt: skip
    if out.exists() and (any(out.glob("*.tar")) or (out / CLASSES_FILE).exists()):
        raise DataError(f"{out} already holds shards or {CLASSES_FILE}; choose an empty folder")
    if out.exists() and not out.is_dir():
        raise DataError(f"shard folder {out} exists and is not a directory")
    made = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the shard folder {out}: {exc.strerror or exc}") from None
    shards: list[Path] = []
    try:
        with tqdm(total=len(files), desc="packing", unit="img", disable=None) as bar:
            for start in range(0, len(files), shard_size):
                path = out / f"shard-{start // shard_size:05d}.tar"
                shards.append(path)
                with tarfile.open(path, "w") as tar:
                    for k in range(start, min(start + shard_size, len(files))):
                        key = f"{k:09d}"
                        _add(tar, f"{key}{files[k].suffix.lower()}", _checked_bytes(files[k]))
                        if labels[k] >= 0:
                            _add(tar, f"{key}.cls", str(int(labels[k])).encode())
                        bar.update()
    except BaseException:  # a half-written set would be refused by the next pack: remove it
        for path in shards:
            path.unlink(missing_ok=True)
        if made and not any(out.iterdir()):  # and the folder this pack created, left empty
            out.rmdir()
        raise
    (out / CLASSES_FILE).write_text(json.dumps(classes) + "\n")
    if listing.is_test is not None:
        test_keys = [f"{k:09d}" for k in np.flatnonzero(listing.is_test)]
        (out / SPLIT_FILE).write_text(json.dumps({"test": test_keys}) + "\n")
    return shards


def _checked_bytes(path: Path) -> bytes:
    """The file's bytes, once PIL has checked they are an image (a broken file is one error
    naming it now, not a failure in the middle of a training run)."""
    data = path.read_bytes()
    if not data:
        raise DataError(f"cannot pack {path}: the file is empty")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()  # a full decode: verify() passes a truncated JPEG
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        why = "not an image format Pillow reads" if "cannot identify" in str(exc) else exc
        raise DataError(f"cannot pack {path}: not a readable image ({why})") from None
    return data


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def has_shards(path: str) -> bool:
    """True when ``path`` is a URL (read as shards: a remote folder of images is not
    supported) or a local folder of ``*.tar`` shards. A folder holding both shards and
    images (a stray archive among the class folders) is one error, not a guess."""
    if is_url(path):
        return True
    root = Path(path).expanduser()
    if not root.is_dir() or not any(root.glob("*.tar")):
        return False
    if any(is_image(p) for p in root.rglob("*")):
        raise DataError(
            f"{root} holds both .tar shards and image files; move the .tar files out to "
            "train on the images, or the images out to train on the shards"
        )
    return True


Entry = tuple[str, int, int, str]  # (shard, byte offset, size, member name)


def index_shards(
    store: ShardStorage,
) -> tuple[list[Entry], np.ndarray, list[str], np.ndarray | None]:
    """Every image sample of the shards in ``store`` as (shard, offset, size, name), with labels
    (-1 when a sample has no ``.cls``), the class names (``classes.json``; else "0", "1", …
    for the indices the ``.cls`` members use) and which samples are test samples
    (``split.json``; None when the shards carry no split)."""
    images: dict[str, Entry] = {}
    labels: dict[str, int] = {}
    shards = store.shards()
    if not shards:
        raise DataError(f"no *.tar shards in {store.root}")
    for shard in shards:
        try:
            _index_shard(store, shard, images, labels)
        except tarfile.ReadError:
            raise DataError(f"cannot read shard {shard}: not a tar archive") from None
        except (tarfile.TarError, ValueError, OSError) as exc:
            why = (str(exc).splitlines() or [type(exc).__name__])[0].rstrip(":")
            raise DataError(f"cannot read shard {shard}: {why}") from None
    if not images:
        raise DataError(f"no image samples in the shards of {store.root}")
    keys = sorted(images)
    classes = _read_classes(store)
    y = np.array([labels.get(k, -1) for k in keys])
    if classes and y.max() >= len(classes):
        key = keys[int(y.argmax())]
        raise DataError(f"{images[key][0]}: sample {key} has class {y.max()}, but "
                        f"{CLASSES_FILE} names {len(classes)} classes")  # fmt: skip
    if not classes and y.max() >= 0:
        classes = [str(c) for c in range(int(y.max()) + 1)]
    return [images[k] for k in keys], y, classes, _read_split(store, keys)


def _read_split(store: ShardStorage, keys: list[str]) -> np.ndarray | None:
    """Test-sample mask over ``keys`` from ``split.json``, or None when there is none."""
    text = store.read_text(SPLIT_FILE)
    if text is None:
        return None
    try:
        test = json.loads(text)["test"]
        test = {str(k) for k in test}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise DataError(f"{store.root}/{SPLIT_FILE} must be JSON {{\"test\": [keys]}} ({exc})"
                        ) from None  # fmt: skip
    unknown = test - set(keys)
    if unknown:
        raise DataError(f"{store.root}/{SPLIT_FILE} names sample(s) the shards do not hold, "
                        f"e.g. {sorted(unknown)[0]}")  # fmt: skip
    is_test = np.array([k in test for k in keys])
    if is_test.all() or not is_test.any():
        raise DataError(f"{store.root}/{SPLIT_FILE} leaves no "
                        f"{'train' if is_test.all() else 'test'} sample")  # fmt: skip
    return is_test


def _index_shard(
    store: ShardStorage, shard: str, images: dict[str, Entry], labels: dict[str, int]
) -> None:
    """Add one shard's samples: image members by suffix (other members, such as a
    WebDataset's ``.json`` or ``.txt``, are metadata and skipped), class indices from
    ``.cls``. A key seen in another shard, or two images under one key, is an error."""
    with store.open(shard) as fh, tarfile.open(fileobj=fh, mode="r") as tar:
        for m in tar.getmembers():
            key, _, ext = m.name.rpartition(".")
            if not m.isfile() or not key:
                continue
            if ext == "cls":
                text = tar.extractfile(m).read().decode(errors="replace").strip()  # type: ignore[union-attr]
                if not text.lstrip("-").isdigit():
                    raise ValueError(
                        f"sample {key}'s .cls holds {text[:40]!r}, not a class index (an "
                        f"integer; class names go in {CLASSES_FILE})"
                    )
                label = int(text)
                if label < 0:
                    raise ValueError(f"sample {key} has the negative class {label}")
                labels[key] = label
            elif f".{ext.lower()}" in IMAGE_EXTENSIONS:
                if key in images:
                    where = images[key][0]
                    raise ValueError(
                        f"sample key {key} also appears in {where}: every sample needs its "
                        "own key (pack each folder into its own shard set)"
                        if where != shard
                        else f"sample {key} has two images"
                    )
                images[key] = (shard, m.offset_data, m.size, m.name)
        fh.seek(tar.offset)  # a whole archive ends in zero blocks; a cut one does not
        if len(fh.read(2 * tarfile.BLOCKSIZE)) < 2 * tarfile.BLOCKSIZE:
            raise ValueError("the archive ends without its end-of-archive blocks (truncated?)")


def _read_classes(store: ShardStorage) -> list[str]:
    """Class names from ``classes.json`` (a list of strings), or [] when there is none."""
    text = store.read_text(CLASSES_FILE)
    if text is None:
        return []
    try:
        classes = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{store.root}/{CLASSES_FILE} is not valid JSON: {exc}") from None
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        raise DataError(f"{store.root}/{CLASSES_FILE} must be a JSON list of class names")
    return classes


class ShardImages(DecodedOnAccess):
    """Samples of tar shards decoded when indexed (one seek and read per sample)."""

    def __init__(self, store: ShardStorage, entries: list[Entry], size: int, channels: int
                 ) -> None:  # fmt: skip
        self.store, self.entries = store, entries
        self.n, self.size, self.channels = len(entries), size, channels
        names = sorted({e[0] for e in entries})
        number = {name: k for k, name in enumerate(names)}
        self.shard_index = np.array([number[e[0]] for e in entries], dtype=np.int64)

    def _read(self, i: int) -> torch.Tensor:
        shard, offset, size, name = self.entries[i]
        data = self.store.read_range(shard, offset, size)
        arr = read_image(io.BytesIO(data), self.size, self.channels, f"{shard}:{name}")
        return torch.from_numpy(arr.copy())


def load_image_shards(cfg: ImageDataConfig, seed: int) -> ImageData:
    """The shards in ``cfg.path`` as a train/test pair (split as a folder would be), always
    decoded per sample."""
    store = ShardStorage(cfg.path or "")
    root = store.root
    entries, labels, classes, is_test = index_shards(store)
    if len(entries) < 2:
        raise DataError(f"{root}: the shards hold only {len(entries)} image; need at least 2")
    train, test = select_splits(labels, is_test, cfg, seed)
    y = torch.from_numpy(labels)
    kind = f"{len(classes)} class{'es' if len(classes) > 1 else ''}" if classes else "unlabeled"
    if is_test is not None:
        kind += f", their own split {len(train)}/{len(test)}"
    source = (
        f"image shards {root} ({len(entries)} images, {kind}), centre-cropped and resized to "
        f"{cfg.image_size}x{cfg.image_size}, decoded per sample"
    )
    return ImageData(
        train=ImageSplit(
            ShardImages(store, [entries[i] for i in train], cfg.image_size, cfg.channels),
            y[train],
        ),
        test=ImageSplit(
            ShardImages(store, [entries[i] for i in test], cfg.image_size, cfg.channels),
            y[test],
        ),
        classes=classes,
        source=source,
    )
