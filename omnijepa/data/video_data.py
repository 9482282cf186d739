"""Video clips: generated moving Fashion-MNIST items with a known motion, or a user's videos.

Built-in ``moving_fashion``: one Fashion-MNIST item (``item`` px) slides across a black
``size`` x ``size`` canvas for ``frames`` frames in one of ``directions`` directions at a speed of
1-2 px per frame; the label is the direction, a property of the motion that no single frame
holds. Train clips use Fashion-MNIST's training items, test clips its test items.

``data.path=DIR``: one sub-folder per class of video files (.avi, .mp4, .mov, .mkv, .webm,
.mpg), decoded with OpenCV; each video is centre-cropped square, resized to ``size``, made grey
(``channels=1``) or RGB (``channels=3``), and ``clips_per_video`` clips of ``frames`` frames taken
``stride`` apart are cut at evenly spaced starts (a short video repeats its last frame). The
held-out videos (``test_fraction`` of each class) never share a clip with training. A video
OpenCV cannot read is one error naming it.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from omnijepa.data.canvas import resize_batch, texture
from omnijepa.data.class_folders import list_class_folder
from omnijepa.data.image_data import derived_rng
from omnijepa.data.image_sources import load_fashion_mnist_arrays
from omnijepa.errors import ConfigError, DataError

# FFmpeg reads its log level once, when OpenCV first opens a video: set it before that
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
MAX_FRAMES = 4096  # frames read per file
VIDEO_SUFFIXES = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v")


@dataclass
class VideoDataConfig:
    """What clips to load (``path`` overrides the generator) and their shape."""

    name: str = "moving_fashion"
    path: str | None = None
    frames: int = 8
    size: int = 32
    channels: int = 1
    stride: int = 2  # files: frames between the frames of a clip
    clips_per_video: int = 4  # files
    test_fraction: float = 0.25  # files: share of each class's videos held out
    train_size: int = 2000
    test_size: int = 1000
    item: int = 12  # generator: item side in px
    items: int = 1  # generator: items per clip, all moving the same way
    directions: int = 8  # generator: motion classes
    background: str = "black"  # generator: black, or texture (a static smooth random pattern)

    def __post_init__(self) -> None:
        bad = [f"data.{k}={v} ({rule})" for k, v, ok, rule in (
            ("frames", self.frames, self.frames >= 1, ">= 1"),
            ("size", self.size, self.size >= 4, ">= 4"),
            ("channels", self.channels, self.channels in (1, 3), "1 or 3"),
            ("stride", self.stride, self.stride >= 1, ">= 1"),
        ) if not ok]  # fmt: skip
        if bad:
            raise ConfigError(f"{', '.join(bad)} is out of range")
        if self.directions < 2 or not 1 <= self.item < self.size:
            raise ConfigError("data.directions >= 2 and 1 <= data.item < data.size")
        if self.items < 1:
            raise ConfigError(
                f"data.items must be >= 1 (items that carry the motion), got {self.items}"
            )
        if self.test_size < 1 or self.clips_per_video < 1 or not 0 < self.test_fraction < 1:
            raise ConfigError(
                "data.test_size and data.clips_per_video >= 1, data.test_fraction in (0, 1)"
            )


@dataclass
class Clips:
    """uint8 clips (N, C, T, H, W) and int labels; ``classes`` names them."""

    x: np.ndarray
    y: np.ndarray
    classes: list[str]
    sources: list[str] | None = None  # each clip's video and first frame, for embed


def moving_items(cfg: VideoDataConfig, n: int, seed: int, split: str) -> Clips:
    """``n`` clips of ``cfg.items`` items moving together in one of ``cfg.directions``
    directions (each item at its own start and speed), over ``cfg.background``."""
    if cfg.background not in ("black", "texture"):
        raise ConfigError(f"data.background={cfg.background!r}; use black or texture")
    tx, _, vx, _ = load_fashion_mnist_arrays()
    items = tx if split == "train" else vx
    rng = derived_rng(seed, f"video_{split}")
    y = rng.integers(0, cfg.directions, n)
    angle = 2 * np.pi * y / cfg.directions
    ground = texture(rng, n, cfg.size, cfg.size // 4) if cfg.background == "texture" else None
    x = np.zeros((n, 1, cfg.frames, cfg.size, cfg.size), dtype=np.uint8)
    if ground is not None:
        x[:, 0] = ground[:, None]
    room, ar = cfg.size - cfg.item, np.arange(cfg.item)
    for _ in range(cfg.items):
        pick = resize_batch(items[rng.integers(0, len(items), n)], cfg.item)
        speed = rng.uniform(1.0, 2.0, n)
        v = np.stack([np.sin(angle), np.cos(angle)], 1) * speed[:, None]  # (dy, dx) per frame
        travel = v * (cfg.frames - 1)
        lo = np.maximum(0.0, -travel)
        hi = np.maximum(lo, room - np.maximum(0.0, travel))
        start = lo + rng.random((n, 2)) * (hi - lo)
        for t in range(cfg.frames):
            pos = np.clip(np.round(start + v * t).astype(int), 0, room)
            rows = (pos[:, :1] + ar)[:, :, None]
            cols = (pos[:, 1:] + ar)[:, None, :]
            sel = (np.arange(n)[:, None, None], 0, t, rows, cols)
            x[sel] = np.maximum(x[sel], pick)
    if cfg.channels == 3:
        x = np.repeat(x, 3, axis=1)
    names = [f"direction {k * 360 // cfg.directions} deg" for k in range(cfg.directions)]
    return Clips(x, y, names)


def read_video(path: Path, cfg: VideoDataConfig) -> np.ndarray:
    """All frames of ``path`` as uint8 (T, C, size, size), centre-cropped and resized (the
    first ``MAX_FRAMES``). FFmpeg's own complaints are silenced: a file that decodes to no
    frame is one error here, one that decodes to fewer frames than its header says a warning."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    expected = min(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), MAX_FRAMES)
    frames = []
    try:
        while cap.isOpened() and len(frames) < MAX_FRAMES:
            ok, frame = cap.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            side = min(h, w)
            top, left = (h - side) // 2, (w - side) // 2
            frame = cv2.resize(frame[top : top + side, left : left + side], (cfg.size,) * 2,
                               interpolation=cv2.INTER_AREA)  # fmt: skip
            if cfg.channels == 1:
                frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[..., None]
            else:
                frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            frames.append(frame.transpose(2, 0, 1))
    finally:
        cap.release()
    if not frames:
        raise DataError(f"cannot read video {path}: OpenCV decodes no frame from it")
    if len(frames) < 0.9 * expected:
        warnings.warn(
            f"{path}: decoded {len(frames)} of its {expected} frames (truncated or damaged?)",
            stacklevel=2,
        )
    return np.stack(frames)


def clip_starts(frames: int, cfg: VideoDataConfig) -> np.ndarray:
    """The first frames of the ``clips_per_video`` clips of a ``frames``-long video: evenly
    spaced, each once (a short video has fewer distinct clips than asked for: repeating one
    would count the same pixels twice in training and in the probes)."""
    span = (cfg.frames - 1) * cfg.stride + 1
    return np.unique(np.linspace(0, max(frames - span, 0), cfg.clips_per_video).round().astype(int))


def cut_clips(video: np.ndarray, starts: np.ndarray, cfg: VideoDataConfig) -> np.ndarray:
    """Clips (N, C, T, H, W) of ``cfg.frames`` frames every ``cfg.stride`` from ``starts``
    (``clip_starts``)."""
    idx = np.minimum(starts[:, None] + cfg.stride * np.arange(cfg.frames), len(video) - 1)
    return video[idx].transpose(0, 2, 1, 3, 4)


def read_video_folders(root: Path, cfg: VideoDataConfig, seed: int) -> dict[str, Clips]:
    """Train/test clips from class sub-folders (or a train/test split layout), split by video."""
    listing = list_class_folder(root, VIDEO_SUFFIXES, "video")
    names = listing.classes
    train, test = listing.split(cfg.test_fraction, derived_rng(seed, "video_split"))
    if len(names) < 2 or not len(test):
        raise DataError(
            f"{root}: need >= 2 class sub-folders of videos ({', '.join(VIDEO_SUFFIXES)}) with "
            f">= 2 videos in some class, to hold out test videos; found classes {names}"
        )
    out, short, padded = {}, 0, []
    span = (cfg.frames - 1) * cfg.stride + 1
    for split, idx in (("train", train), ("test", test)):
        clips, labels, sources = [], [], []
        for i in idx:
            video = read_video(listing.files[i], cfg)
            starts = clip_starts(len(video), cfg)
            clips.append(cut_clips(video, starts, cfg))
            labels += [int(listing.labels[i])] * len(starts)
            sources += [f"{listing.files[i]}@frame{t}" for t in starts]
            short += len(starts) < cfg.clips_per_video
            if len(video) < span:
                padded.append((len(video), listing.files[i].name))
        out[split] = Clips(np.concatenate(clips), np.asarray(labels), names, sources)
    if padded:
        fewest, name = min(padded)
        warnings.warn(
            f"{root}: {len(padded)} video(s) are shorter than one clip of {cfg.frames} frames "
            f"every {cfg.stride} ({span} frames; {name}: {fewest}): their clips repeat the last "
            "frame to fill it, so they barely move; lower data.stride or data.frames",
            stacklevel=2,
        )
        short -= len(padded)  # said above
    if short:
        warnings.warn(
            f"{root}: {short} of {len(listing.files)} videos are too short for "
            f"data.clips_per_video={cfg.clips_per_video} distinct clips of {cfg.frames} frames "
            f"every {cfg.stride}; they give fewer",
            stacklevel=2,
        )
    return out


def load_video_data(cfg: VideoDataConfig, seed: int) -> dict[str, Clips]:
    """``train`` and ``test`` clips."""
    if cfg.path:
        return read_video_folders(Path(cfg.path), cfg, seed)
    if cfg.name != "moving_fashion":
        raise ConfigError(f"unknown video data {cfg.name!r}; use moving_fashion or data.path=DIR")
    return {
        "train": moving_items(cfg, cfg.train_size, seed, "train"),
        "test": moving_items(cfg, cfg.test_size, seed, "test"),
    }


class ClipDataset(Dataset):
    """Float clips (C, T, H, W) scaled to about zero mean, unit spread, and labels."""

    def __init__(self, clips: Clips) -> None:
        self.x = torch.from_numpy(clips.x)
        self.labels = clips.y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return (self.x[i].float() / 255.0 - 0.5) / 0.5, int(self.labels[i])


__all__ = ["ClipDataset", "Clips", "VideoDataConfig", "cut_clips", "load_video_data"]
