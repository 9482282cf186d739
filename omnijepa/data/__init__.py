"""Data loading: built-in image sources (offline), user image folders, and Datasets."""

from omnijepa.data.image_data import (
    ImageData,
    ImageDataConfig,
    ImageSplit,
    ImageTensorDataset,
    load_image_data,
    make_datasets,
)

__all__ = [
    "ImageData",
    "ImageDataConfig",
    "ImageSplit",
    "ImageTensorDataset",
    "load_image_data",
    "make_datasets",
]
