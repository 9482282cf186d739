"""Image folders as sharded tar archives in the WebDataset layout, and reading them back.

``pack_image_folder(DIR, OUT)`` (``omnijepa data pack``) writes ``OUT/shard-00000.tar``, … with
``shard_size`` samples each; sample ``k`` is the members ``{key}.{ext}`` (the original image
bytes) and ``{key}.cls`` (its class index as text, absent when unlabelled), plus
``OUT/classes.json`` with the class names. Any WebDataset tool reads the shards.

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
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from omnijepa.data.image_data import ImageData, ImageDataConfig, ImageSplit
from omnijepa.data.image_folder import (
    DecodedOnAccess,
    read_image,
    scan_image_folder,
    select_splits,
)
from omnijepa.data.shard_storage import ShardStorage, is_url
from omnijepa.errors import DataError

CLASSES_FILE = "classes.json"


def pack_image_folder(root: Path, out: Path, shard_size: int = 1000) -> list[Path]:
    """Write ``root``'s images (a sub-folder per class, or flat) as tar shards in ``out``."""
    if shard_size < 1:
        raise DataError(f"shard size must be >= 1, got {shard_size}")
    files, labels, classes = scan_image_folder(Path(root))
    out = Path(out)
    if out.exists() and any(out.glob("shard-*.tar")):
        raise DataError(f"{out} already holds shards; choose an empty folder")
    out.mkdir(parents=True, exist_ok=True)
    shards: list[Path] = []
    with tqdm(total=len(files), desc="packing", unit="img", disable=None) as bar:
        for start in range(0, len(files), shard_size):
            path = out / f"shard-{start // shard_size:05d}.tar"
            with tarfile.open(path, "w") as tar:
                for k in range(start, min(start + shard_size, len(files))):
                    key = f"{k:09d}"
                    _add(tar, f"{key}{files[k].suffix.lower()}", files[k].read_bytes())
                    if labels[k] >= 0:
                        _add(tar, f"{key}.cls", str(int(labels[k])).encode())
                    bar.update()
            shards.append(path)
    (out / CLASSES_FILE).write_text(json.dumps(classes) + "\n")
    return shards


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def has_shards(path: str) -> bool:
    """True when ``path`` is a URL (read as shards: a remote folder of images is not
    supported) or a local folder of ``*.tar`` shards."""
    if is_url(path):
        return True
    root = Path(path).expanduser()
    return root.is_dir() and any(root.glob("*.tar"))


Entry = tuple[str, int, int, str]  # (shard, byte offset, size, member name)


def index_shards(store: ShardStorage) -> tuple[list[Entry], np.ndarray, list[str]]:
    """Every image sample of the shards in ``store`` as (shard, offset, size, name), with labels
    (-1 when a sample has no ``.cls``) and the class names (``classes.json``, if present)."""
    images: dict[str, Entry] = {}
    labels: dict[str, int] = {}
    shards = store.shards()
    if not shards:
        raise DataError(f"no *.tar shards in {store.root}")
    for shard in shards:
        try:
            with store.open(shard) as fh, tarfile.open(fileobj=fh, mode="r") as tar:
                for m in tar.getmembers():
                    if not m.isfile():
                        continue
                    key, _, ext = m.name.rpartition(".")
                    if ext == "cls":
                        labels[key] = int(tar.extractfile(m).read().decode().strip())  # type: ignore[union-attr]
                    else:
                        images[key] = (shard, m.offset_data, m.size, m.name)
        except (tarfile.TarError, ValueError, OSError) as exc:
            raise DataError(f"cannot read shard {shard}: {exc}") from None
    if not images:
        raise DataError(f"no image samples in the shards of {store.root}")
    keys = sorted(images)
    text = store.read_text(CLASSES_FILE)
    classes = json.loads(text) if text is not None else []
    return [images[k] for k in keys], np.array([labels.get(k, -1) for k in keys]), classes


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
    entries, labels, classes = index_shards(store)
    if len(entries) < 2:
        raise DataError(f"{root}: the shards hold only {len(entries)} image; need at least 2")
    train, test = select_splits(labels, cfg, seed)
    y = torch.from_numpy(labels)
    kind = f"{len(classes)} classes" if classes else "unlabeled"
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
