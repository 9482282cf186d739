"""A user's folder of class sub-folders, listed the same way by every loader: hidden entries
(dot-files such as macOS's ``._name`` AppleDouble files, ``.DS_Store``, ``.git``) are skipped,
suffixes match in any case, and a file's class is the top-level sub-folder it sits under, however
deep (``walk/2020/a.npy`` is class ``walk``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path


def visible(path: Path) -> bool:
    """Not a hidden entry (its name does not start with a dot)."""
    return not path.name.startswith(".")


def class_dirs(root: Path) -> list[Path]:
    """The visible sub-folders of ``root``, sorted by name: one per class."""
    return sorted(d for d in root.iterdir() if d.is_dir() and visible(d))


def data_files(folder: Path, suffixes: Iterable[str], recursive: bool = True) -> list[Path]:
    """Visible files under ``folder`` (below it too when ``recursive``, skipping hidden
    folders) whose suffix, in lower case, is one of ``suffixes``; sorted."""
    wanted = {s.lower() for s in suffixes}
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        p
        for p in found
        if p.suffix.lower() in wanted
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def labelled_files(root: Path, suffixes: Iterable[str]) -> tuple[list[Path], list[int], list[str]]:
    """Files of every class sub-folder with their class index and the class names; with no
    sub-folders, the files directly in ``root``, unlabelled (-1). Loose files beside class
    sub-folders are left out (a label cannot be guessed for them)."""
    suffixes = tuple(suffixes)
    classes = class_dirs(root)
    loose = data_files(root, suffixes, recursive=False)
    if not classes:
        return loose, [-1] * len(loose), []
    if loose:
        warnings.warn(
            f"{root}: {len(loose)} file(s) such as {loose[0].name} sit beside the class "
            "sub-folders and are left out (no class to give them)",
            stacklevel=3,
        )
    files, labels = [], []
    for k, d in enumerate(classes):
        found = data_files(d, suffixes)
        files += found
        labels += [k] * len(found)
    return files, labels, [d.name for d in classes]


__all__ = ["class_dirs", "data_files", "labelled_files", "visible"]
