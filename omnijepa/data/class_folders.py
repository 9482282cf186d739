"""A user's folder of class sub-folders, listed the same way by every loader: hidden entries
(dot-files such as macOS's ``._name`` AppleDouble files, ``.DS_Store``, ``.git``) are skipped,
suffixes match in any case, and a file's class is the top-level sub-folder it sits under, however
deep (``walk/2020/a.npy`` is class ``walk``).

A folder that already holds its split is read with it, in either common layout:
``train/CLASS/…`` + ``test/CLASS/…`` (torchvision's ImageFolder pairs) or ``CLASS/train/…`` +
``CLASS/test/…`` (ModelNet's). A ``val``/``valid``/``validation`` folder beside them is left
out with a warning, or, where there is no ``test`` folder (Kaggle's ``train`` + ``val``), is
the held-out split, with a note; a lone ``train`` folder's sub-folders are the classes. A class
found only under the held-out split is left out with a warning too (no training sample could
teach it)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omnijepa.data.image_data import split_indices
from omnijepa.errors import DataError

SPLITS = ("train", "test")
VALIDATION = ("val", "valid", "validation")


def visible(path: Path) -> bool:
    """Not a hidden entry (its name does not start with a dot)."""
    return not path.name.startswith(".")


def class_dirs(root: Path) -> list[Path]:
    """The visible sub-folders of ``root``, sorted by name: one per class."""
    return sorted(d for d in root.iterdir() if d.is_dir() and visible(d))


def data_files(folder: Path, suffixes: Iterable[str], recursive: bool = True) -> list[Path]:
    """Visible files under ``folder`` (below it too when ``recursive``, skipping hidden
    folders, following linked folders once each) whose suffix, in lower case, is one of
    ``suffixes``; sorted."""
    wanted = {s.lower() for s in suffixes}
    found = _walk(folder) if recursive else folder.iterdir()
    return sorted(
        p
        for p in found
        if p.suffix.lower() in wanted
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _walk(folder: Path) -> list[Path]:
    """Every entry below ``folder``, into symlinked folders too (``rglob`` skips them), each
    real folder once, so a link loop ends."""
    seen: set[str] = set()
    out: list[Path] = []
    for top, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(top)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if visible(Path(d))]  # never walk .git and the like
        out += [Path(top) / f for f in files]
    return out


def given_or_drawn_split(
    labels: np.ndarray, is_test: np.ndarray | None, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices: where ``is_test`` is given (the data's own split), its False and
    True entries; else a draw of ``fraction`` per class (``split_indices``)."""
    if is_test is not None:
        return np.flatnonzero(~is_test), np.flatnonzero(is_test)
    return split_indices(labels, fraction, rng)


@dataclass
class FolderListing:
    """Files with class indices (-1: unlabelled), the class names and, when the folder holds
    its own split, which files are test files (else None: the loader draws a split)."""

    files: list[Path]
    labels: np.ndarray
    classes: list[str]
    is_test: np.ndarray | None = None

    def split(self, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Train and test indices: the folder's own split, else a draw of ``fraction`` per
        class (``split_indices``)."""
        return given_or_drawn_split(self.labels, self.is_test, fraction, rng)

    @property
    def described(self) -> str:
        """``N files, K classes`` (or unlabelled), with the split when the folder gave it."""
        k = len(self.classes)
        kind = f"{k} class{'es' if k > 1 else ''}" if k else "unlabeled"
        if self.is_test is None:
            return f"{len(self.files)} files, {kind}"
        n_test = int(self.is_test.sum())
        return f"{len(self.files)} files, {kind}, its own split {len(self.files) - n_test}/{n_test}"


def _named(dirs: list[Path], names: Iterable[str]) -> dict[str, Path]:
    wanted = set(names)
    return {d.name.lower(): d for d in dirs if d.name.lower() in wanted}


def _warn_validation(where: Iterable[Path]) -> None:
    left = sorted(str(p) for p in where)
    if left:
        warnings.warn(f"left out (not train or test): {', '.join(left[:3])}"
                      + (" …" if len(left) > 3 else ""), stacklevel=4)  # fmt: skip


def _split_files(
    split_dirs: dict[str, dict[str, Path]], suffixes: tuple[str, ...], root: Path
) -> FolderListing:
    """``{split: {class: folder}}`` -> the listing, classes named by the train side."""
    classes = sorted(split_dirs["train"])
    only_test = sorted(set(split_dirs["test"]) - set(classes))
    if only_test:
        warnings.warn(f"{root}: class(es) {only_test} appear only under test and are left "
                      "out (no training sample)", stacklevel=4)  # fmt: skip
    files, labels, is_test, empty = [], [], [], []
    for k, name in enumerate(classes):
        for split in SPLITS:
            folder = split_dirs[split].get(name)
            found = [] if folder is None else data_files(folder, suffixes)
            files += found
            labels += [k] * len(found)
            is_test += [split == "test"] * len(found)
            if folder is not None and not found:
                empty.append(f"{split}/{name}")
    _warn_empty(root, empty)
    if not any(is_test) or all(is_test):
        side = "test" if not any(is_test) else "train"
        raise DataError(f"{root}: the {side} side of its train/test split holds no files")
    return FolderListing(files, np.asarray(labels, dtype=np.int64), classes,
                         np.asarray(is_test, dtype=bool))  # fmt: skip


def _warn_empty(root: Path, empty: list[str]) -> None:
    if empty:
        warnings.warn(f"{root}: no usable files in {', '.join(empty)}: left out", stacklevel=4)


def _held_out(found: Iterable[str]) -> str | None:
    """The split a layout holds out: ``test``, else its validation folder (a Kaggle-style
    ``train`` + ``val`` pair), else None."""
    found = set(found)
    return next((name for name in ("test", *VALIDATION) if name in found), None)


def _split_listing(
    root: Path, per_split: dict[str, dict[str, Path]], held: str, unused: Iterable[Path],
    suffixes: tuple[str, ...],
) -> FolderListing:  # fmt: skip
    _warn_validation(unused)
    if held != "test":
        warnings.warn(f"{root}: no test folder: its {held} folders are the held-out split",
                      stacklevel=4)  # fmt: skip
    return _split_files(per_split, suffixes, root)


def split_layout(root: Path, suffixes: Iterable[str]) -> FolderListing | None:
    """The listing (files with ``suffixes``) of a folder that holds its own train/test split
    (or train/val, the validation folders then held out), else None."""
    suffixes = tuple(suffixes)
    top = class_dirs(root)
    names = (*SPLITS, *VALIDATION)
    at_top = _named(top, names)
    held = _held_out(at_top)
    if "train" in at_top and held and len(top) == len(at_top):
        per_split = {s: {d.name: d for d in class_dirs(at_top[k])}
                     for s, k in (("train", "train"), ("test", held))}  # fmt: skip
        unused = [d for k, d in at_top.items() if k not in ("train", held)]
        return _split_listing(root, per_split, held, unused, suffixes)
    inner = {d: class_dirs(d) for d in top}
    nested = {d: _named(sub, names) for d, sub in inner.items()}
    held = _held_out(k for n in nested.values() for k in n)
    only_splits = all(n and len(inner[d]) == len(n) for d, n in nested.items())
    if top and held and only_splits and any("train" in n for n in nested.values()):
        per_split = {s: {d.name: nested[d][k] for d in top if k in nested[d]}
                     for s, k in (("train", "train"), ("test", held))}  # fmt: skip
        unused = [v for n in nested.values() for k, v in n.items() if k not in ("train", held)]
        return _split_listing(root, per_split, held, unused, suffixes)
    return None


def lone_train_folder(root: Path, suffixes: Iterable[str]) -> Path:
    """``root/train`` when it is the only visible folder under ``root`` (a dataset shipped
    without its test half): its classes are split here, with a note; else ``root``."""
    top = class_dirs(root) if root.is_dir() else []
    if len(top) == 1 and top[0].name.lower() == "train" and not data_files(root, suffixes, False):
        warnings.warn(f"{root}: only a {top[0].name} folder: its sub-folders are the classes, "
                      "split into train and test here", stacklevel=3)  # fmt: skip
        return top[0]
    return root


# files that commonly sit beside data without being data: notes, sidecars, OS litter
COMPANIONS = (
    ".txt", ".md", ".json", ".csv", ".tsv", ".yaml", ".yml", ".log", ".db", ".ini", ".mtl",
)  # fmt: skip


# companions that may be data of another kind: left out silently only while they are few
TEXT_TABLES = (".txt", ".csv", ".tsv")


def warn_unread(root: Path, suffixes: Iterable[str], what: str) -> None:
    """One warning naming the visible files under ``root`` that no reader takes (suffix
    not in ``suffixes``, not a companion such as notes or sidecars): a folder of ``.m4a`` beside
    ``.wav`` clips would otherwise train on part of the data without a word. Text tables
    (``TEXT_TABLES``) count as companions only while they are fewer than half the files read
    (or under 3): 12 ``.txt`` tables beside 12 ``.npy`` series are data left out, not notes."""
    read = {s.lower() for s in suffixes}
    counts: dict[str, int] = {}
    tables: dict[str, int] = {}
    n_read = 0
    broken: list[Path] = []
    for p in _walk(root):  # files only, hidden folders pruned; one lstat per data file
        suffix = p.suffix.lower()
        if suffix in read:
            n_read += 1
            if p.is_symlink() and not p.exists():  # a link whose file moved or was deleted
                broken.append(p)
        elif suffix in TEXT_TABLES and not p.name.startswith("."):
            tables[suffix] = tables.get(suffix, 0) + 1
        elif not (suffix in COMPANIONS or p.name.startswith(".")):
            counts[suffix or "(no suffix)"] = counts.get(suffix or "(no suffix)", 0) + 1
    if broken:
        warnings.warn(
            f"{root}: left out {len(broken)} link(s) to missing files, e.g. "
            f"{broken[0].relative_to(root)} -> {os.readlink(broken[0])}",
            stacklevel=3,
        )
    counts |= {k: n for k, n in tables.items() if n >= 3 and 2 * n >= n_read}
    if counts:
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        warnings.warn(
            f"{root}: left out {sum(counts.values())} file(s) that are not {what} files read "
            f"here ({kinds}); read: {', '.join(sorted(read))}",
            stacklevel=3,
        )


def list_class_folder(root: Path, suffixes: Iterable[str], what: str) -> FolderListing:
    """Every file with one of ``suffixes`` (any case) under ``root``: a train/test split layout
    (module doc), a sub-folder per class, or a flat folder of unlabelled files. Class folders
    without such files and files beside the class folders are left out with a warning; no file
    at all is one DataError naming what was looked for (``what`` files, their suffixes)."""
    suffixes = tuple(suffixes)
    if not root.exists():
        raise DataError(f"{what} folder not found: {root}")
    if not root.is_dir():
        raise DataError(f"{what} folder path is not a directory: {root}")
    listing = split_layout(root, suffixes)
    if listing is None:
        listing = _class_listing(lone_train_folder(root, suffixes), suffixes, what)
    warn_unread(root, suffixes, what)
    return listing


def _class_listing(root: Path, suffixes: tuple[str, ...], what: str) -> FolderListing:
    files: list[Path] = []
    labels: list[int] = []
    classes: list[str] = []
    empty: list[str] = []
    for d in class_dirs(root):
        found = data_files(d, suffixes)
        if found:
            files += found
            labels += [len(classes)] * len(found)
            classes.append(d.name)
        else:
            empty.append(d.name)
    loose = data_files(root, suffixes, recursive=False)
    if classes:
        _warn_empty(root, empty)
        if loose:
            warnings.warn(
                f"{root}: {len(loose)} file(s) such as {loose[0].name} sit beside the class "
                "sub-folders and are left out (no class to give them)",
                stacklevel=4,
            )
        return FolderListing(files, np.asarray(labels, dtype=np.int64), classes)
    if not loose:
        raise DataError(f"no {what} files found in {root}: looked for {', '.join(suffixes)} "
                        "files (any case) in it, or in one sub-folder per class")  # fmt: skip
    return FolderListing(loose, np.full(len(loose), -1, dtype=np.int64), [])


__all__ = [
    "FolderListing",
    "class_dirs",
    "data_files",
    "warn_unread",
    "given_or_drawn_split",
    "list_class_folder",
    "split_layout",
    "visible",
]
