"""Load the images a config describes: a user folder (``data.path``) or a built-in source."""

from __future__ import annotations

from omnijepa.data.image_data import ImageData, ImageDataConfig, check_config
from omnijepa.data.image_folder import load_image_folder
from omnijepa.data.image_shards import has_shards, load_image_shards
from omnijepa.data.image_sources import IMAGE_SOURCES


def load_image_data(cfg: ImageDataConfig, seed: int) -> ImageData:
    """Load the images ``cfg`` describes (folder if ``cfg.path`` else built-in ``cfg.name``)."""
    check_config(cfg)
    if cfg.path and has_shards(cfg.path):
        return load_image_shards(cfg, seed)  # made by `omnijepa data pack`
    if cfg.path:
        return load_image_folder(cfg, seed)
    return IMAGE_SOURCES.get(cfg.name)(cfg, seed)
