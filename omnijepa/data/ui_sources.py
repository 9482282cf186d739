"""Where the ``uijepa`` recordings come from: the user's folder (``data.path``) or the
generator of phone tasks."""

from __future__ import annotations

from omnijepa.data.ui_data import UIData, UIDataConfig, generate_ui_data
from omnijepa.data.ui_folder import read_ui_folder


def load_ui_data(cfg: UIDataConfig, seed: int) -> UIData:
    """The user's folder when ``data.path`` is set, else the generated episodes."""
    return read_ui_folder(cfg, seed) if cfg.path else generate_ui_data(cfg, seed)


__all__ = ["load_ui_data"]
