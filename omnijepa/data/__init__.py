"""Data loading: built-in image sources (offline), user image folders, and Datasets."""

from omnijepa.data.image_data import (
    ImageData,
    ImageDataConfig,
    ImageSplit,
    ImageTensorDataset,
    make_datasets,
)
from omnijepa.data.image_loading import load_image_data

__all__ = [
    "ImageData",
    "ImageDataConfig",
    "ImageSplit",
    "ImageTensorDataset",
    "load_image_data",
    "make_datasets",
]
