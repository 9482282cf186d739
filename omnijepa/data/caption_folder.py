"""A user's captioned images for the text-image recipes: ``DIR/captions.csv`` with the columns
``file`` (an image path relative to ``DIR``), ``caption`` and ``label`` (a class name), and
optionally ``split`` (``train`` or ``test``). Without a split column, ``test_fraction`` of
every class is held out (seeded). Images are read grey or RGB, centre-cropped and resized; a
missing or unreadable image, a missing column, an empty cell or an unknown split is one error
that names it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from omnijepa.data.annotation_csv import read_annotation_rows
from omnijepa.data.image_data import derived_rng
from omnijepa.data.image_folder import read_images
from omnijepa.data.sentiment_scenes import CaptionedImages
from omnijepa.errors import DataError

CAPTIONS_FILE = "captions.csv"


def _splits(rows: list[dict[str, str]], test_fraction: float, seed: int, path: Path) -> list[str]:
    """Each row's split: the split column's, else drawn per label over the images (several
    caption rows of one image, as COCO and MVSA write them, stay on one side)."""
    image = [str((path.parent / r["file"]).resolve()) for r in rows]
    given = [r["split"].lower() for r in rows]
    bad = sorted({s for s in given if s and s not in ("train", "test")})
    if bad:
        raise DataError(f"{path}: split values {bad} are not train or test")
    if any(given):
        out = [s or "train" for s in given]
        side: dict[str, str] = {}
        for f, s, r in zip(image, out, rows):
            if side.setdefault(f, s) != s:
                raise DataError(f"{path}: image {r['file']} is listed in both train and test")
        return out
    first = {f: r["label"] for f, r in reversed(list(zip(image, rows)))}  # an image's label
    held_out: set[str] = set()
    rng = derived_rng(seed, "caption_folder_split")
    for label in sorted(set(first.values())):
        members = sorted(f for f, lab in first.items() if lab == label)
        # a label with 2+ images gives at least one to test (round(0.25 * 2) would give none)
        held = max(1, int(round(test_fraction * len(members)))) if len(members) > 1 else 0
        held_out |= {members[k] for k in rng.permutation(len(members))[:held]}
    return ["test" if f in held_out else "train" for f in image]


def _say_near_duplicates(labels: set[str], path: Path) -> None:
    """Warn about labels that differ only in case, spaces or number format (``pos``/``Pos``,
    ``1``/``1.0``): each is its own class, which is rarely what the file meant."""
    groups: dict[str, list[str]] = {}
    for label in sorted(labels):
        key = " ".join(label.lower().split())
        try:
            key = repr(float(key))
        except ValueError:
            pass
        groups.setdefault(key, []).append(label)
    alike = ["/".join(map(repr, g)) for g in groups.values() if len(g) > 1]
    if alike:
        warnings.warn(f"{path}: labels {', '.join(alike[:4])} differ only in case, spaces or "
                      "number format; each is its own class: write them one way if they are "
                      "one", stacklevel=3)  # fmt: skip


def read_caption_folder(root: Path, size: int, channels: int, seed: int,
                        test_fraction: float = 0.25) -> dict[str, CaptionedImages]:  # fmt: skip
    """``train`` and ``test`` captioned images of a folder with ``captions.csv``."""
    if not root.is_dir():
        raise DataError(f"data.path {root} is not a folder of images with {CAPTIONS_FILE}")
    path = root / CAPTIONS_FILE
    rows = read_annotation_rows(
        path, ("file", "caption", "label"), ("split",), path_columns=("file",)
    )
    if len({r["label"] for r in rows}) < 2:
        raise DataError(f"{path}: need >= 2 labels, found {sorted({r['label'] for r in rows})}")
    _say_near_duplicates({r["label"] for r in rows}, path)
    splits = _splits(rows, test_fraction, seed, path)
    trained = {r["label"] for r, s in zip(rows, splits) if s == "train"}
    unseen = sorted({r["label"] for r, s in zip(rows, splits) if s == "test"} - trained)
    if unseen:  # no probe could ever name them
        warnings.warn(f"{path}: label(s) {', '.join(map(repr, unseen))} appear only in the test "
                      "split: their rows are left out (a class never trained on)",
                      stacklevel=2)  # fmt: skip
        splits = ["" if s == "test" and r["label"] in unseen else s for r, s in zip(rows, splits)]
    classes = tuple(sorted(trained))
    if len(classes) < 2:
        raise DataError(f"{path}: need >= 2 labels in the train split, found {list(classes)}")
    out = {}
    for split in ("train", "test"):
        keep = [r for r, s in zip(rows, splits) if s == split]
        if not keep:
            raise DataError(f"{path}: no {split} rows (set a split column, or give some label "
                            "two or more images)")  # fmt: skip
        missing = [r["file"] for r in keep if not (root / r["file"]).is_file()]
        if missing:
            raise DataError(f"{path}: image {missing[0]} does not exist under {root}")
        images = read_images([root / r["file"] for r in keep], size, channels)
        labels = np.array([classes.index(r["label"]) for r in keep], dtype=np.int64)
        out[split] = CaptionedImages(images, [r["caption"] for r in keep], labels, classes)
    return out


__all__ = ["CAPTIONS_FILE", "read_caption_folder"]
