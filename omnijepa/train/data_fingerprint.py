"""A cheap fingerprint of a training set, so a resumed run can tell that its data changed.

The description line a run saves holds counts; a file moved from one class to another, or
replaced by another of the same name, keeps the counts. The fingerprint hashes the set's length
and the content of up to ``SAMPLES`` items at evenly spaced indices (decoding a few items even
of a lazily read folder of 200k images), which changes when files move, since folders are
listed in sorted order. It is a sample, not a proof: an edit to an item it does not read
passes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

SAMPLES = 32


def _feed(h: Any, item: Any) -> None:
    if isinstance(item, torch.Tensor):
        arr = item.detach().cpu().contiguous().reshape(-1)
        h.update(f"T{tuple(item.shape)}{arr.dtype}".encode())
        h.update(arr.view(torch.uint8).numpy().tobytes() if arr.numel() else b"")
    elif isinstance(item, np.ndarray):
        h.update(f"A{item.shape}{item.dtype}".encode())
        h.update(np.ascontiguousarray(item).tobytes())
    elif isinstance(item, dict):
        for key in sorted(item, key=str):
            h.update(str(key).encode())
            _feed(h, item[key])
    elif isinstance(item, (list, tuple)):
        h.update(f"L{len(item)}".encode())
        for part in item:
            _feed(h, part)
    else:
        h.update(repr(item).encode())


def data_fingerprint(dataset: Sequence[Any]) -> str:
    """Hex digest of ``len(dataset)`` and up to ``SAMPLES`` evenly spaced items."""
    n = len(dataset)
    h = hashlib.sha256(f"n={n}".encode())
    for i in sorted({int(k) for k in np.linspace(0, n - 1, min(n, SAMPLES))}) if n else []:
        _feed(h, dataset[i])
    return h.hexdigest()[:16]
