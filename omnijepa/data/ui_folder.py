"""A user's screen recordings for ``uijepa``, and the export of generated episodes to one.

Folder layout (``data.path=DIR``): video files anywhere under ``DIR`` (.mp4, .mov, .avi, ...)
and ``DIR/annotations.csv`` (``data.annotations``) with a header row and the columns

- ``video``: the file, relative to ``DIR``;
- ``intent``: the intent text ("send bob a message saying hi");
- ``split`` (optional): ``train``, ``test`` or ``zero_shot``. Without it, ``test_fraction`` of
  the videos of every intent text with two or more videos are held out as the few-shot test,
  and there is no zero-shot split.

The decoder-training videos and every unannotated video under ``DIR`` are the unlabelled
pre-training clips (test videos never are); each clip is
``frames`` frames sampled evenly over the whole recording (UI-JEPA's uniform sampling),
centre-cropped square and resized to ``size``. A missing or garbled file, a missing column or
an empty intent is one error that names it.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np

from omnijepa.data.annotation_csv import read_annotation_rows
from omnijepa.data.class_folders import data_files
from omnijepa.data.image_data import derived_rng
from omnijepa.data.text_words import tokenize
from omnijepa.data.ui_data import SPLITS, IntentClips, UIData, UIDataConfig
from omnijepa.data.video_data import VIDEO_SUFFIXES, VideoDataConfig, read_video
from omnijepa.errors import DataError

SPLIT_NAMES = {"train": "few_train", "test": "few_test", "zero_shot": "zero_test"}
EXPORT_NAMES = {v: k for k, v in SPLIT_NAMES.items()}


def read_annotations(path: Path) -> list[dict[str, str]]:
    """Rows of the annotation file with ``video``, ``intent`` and ``split`` (may be "")."""
    rows = read_annotation_rows(path, ("video", "intent"), ("split",),
                                " (see `omnijepa data export-ui`)", ("video",))  # fmt: skip
    for n, rec in enumerate(rows, start=2):
        if rec["split"] and rec["split"].lower() not in SPLIT_NAMES:
            raise DataError(f"{path} line {n}: split {rec['split']!r} is not one of "
                            f"{', '.join(SPLIT_NAMES)}")  # fmt: skip
    return rows


def clip_of(path: Path, cfg: UIDataConfig, short: list | None = None) -> np.ndarray:
    """(C, T, size, size) uint8: ``cfg.frames`` frames evenly spaced over the video; a video
    with fewer frames repeats some, and is added to ``short`` as (frames, name)."""
    if not path.is_file():
        raise DataError(f"video {path} named in the annotations does not exist")
    video = read_video(path, VideoDataConfig(size=cfg.size, channels=cfg.channels))
    if short is not None and len(video) < cfg.frames:
        short.append((len(video), path.name))
    idx = np.linspace(0, len(video) - 1, cfg.frames).round().astype(int)
    return video[idx].transpose(1, 0, 2, 3)


def _assign_splits(rows: list[dict[str, str]], cfg: UIDataConfig, seed: int) -> list[str]:
    if any(r["split"] for r in rows):
        return [SPLIT_NAMES[r["split"].lower()] if r["split"] else "few_train" for r in rows]
    # drawn per video, stratified by intent: a video listed twice (a repeated row, or two
    # intents for one recording) lands in one split, so it is never trained and tested on
    groups: dict[str, list[str]] = {}
    for r in rows:
        videos = groups.setdefault(" ".join(r["intent"].lower().split()), [])
        if r["video"] not in videos:
            videos.append(r["video"])
    rng = derived_rng(seed, "ui_folder_split")
    test: set[str] = set()
    for videos in groups.values():
        if len(videos) >= 2:
            held = max(1, int(round(cfg.test_fraction * len(videos))))
            test.update(str(v) for v in rng.permutation(videos)[:held])
    return ["few_test" if r["video"] in test else "few_train" for r in rows]


def read_ui_folder(cfg: UIDataConfig, seed: int) -> UIData:
    """Pre-training clips of every video under ``cfg.path`` and the annotated splits."""
    root = Path(cfg.path or "")
    if not root.is_dir():
        raise DataError(f"data.path {root} is not a folder of screen recordings")
    rows = read_annotations(root / cfg.annotations)
    splits = _assign_splits(rows, cfg, seed)
    seen: dict[str, str] = {}
    for r, s in zip(rows, splits):  # a test video must never be trained on
        if seen.setdefault(r["video"], s) != s:
            raise DataError(f"{root / cfg.annotations}: {r['video']} is listed in two splits "
                            f"({seen[r['video']]} and {s})")  # fmt: skip
    short: list[tuple[int, str]] = []
    clips = {r["video"]: clip_of(root / r["video"], cfg, short) for r in rows}
    parts: dict[str, tuple[list, list]] = {k: ([], []) for k in SPLITS}
    for r, s in zip(rows, splits):
        parts[s][0].append(clips[r["video"]])
        parts[s][1].append(r["intent"])
    wordless = [r["intent"] for r in rows if not tokenize(r["intent"])]
    if wordless:  # an empty decoded text would match it exactly
        raise DataError(
            f"{root / cfg.annotations}: {len(wordless)} intent(s) hold no word to decode "
            f"(e.g. {wordless[0]!r}): every intent needs letters or digits"
        )
    if not parts["few_train"][0] or not parts["few_test"][0]:
        raise DataError(
            f"{root / cfg.annotations}: need videos to train the decoder on and a "
            "few-shot test set (a split column, or an intent with >= 2 videos)"
        )
    named = {(root / v).resolve() for v in clips}
    extra = [p for p in data_files(root, VIDEO_SUFFIXES) if p.resolve() not in named]
    train = [clips[r["video"]] for r, s in zip(rows, splits) if s == "few_train"]
    pretrain = np.stack([*train, *(clip_of(p, cfg, short) for p in extra)])
    if short:
        fewest, name = min(short)
        warnings.warn(
            f"{root}: {len(short)} recording(s) hold fewer than data.frames={cfg.frames} frames "
            f"({name}: {fewest}): their frames are repeated to fill a clip, so the model sees "
            "less motion there than the clip's length says; lower data.frames",
            stacklevel=2,
        )
    empty = np.zeros((0, cfg.channels, cfg.frames, cfg.size, cfg.size), np.uint8)
    out = {k: IntentClips(np.stack(x) if x else empty, t) for k, (x, t) in parts.items()}
    source = f"{root}: {len(rows)} annotated and {len(extra)} unannotated recordings"
    return UIData(pretrain, out, source)


def write_video(path: Path, clip: np.ndarray, fps: int = 8) -> None:
    """Write a (C, T, H, W) uint8 clip losslessly (FFV1 in AVI)."""
    import cv2

    c, _, h, w = clip.shape
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), fps, (w, h), True)
    try:
        for frame in clip.transpose(1, 2, 3, 0):
            bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if c == 1 else frame[..., ::-1]
            writer.write(np.ascontiguousarray(bgr))
    finally:
        writer.release()


def export_ui_folder(data: UIData, out: Path) -> int:
    """Write ``data`` as a folder ``read_ui_folder`` reads back: labelled splits under
    ``videos/`` with ``annotations.csv``, pre-training episodes under ``unlabelled/``. Refuses
    a folder that already holds an annotations file. Returns the number of videos."""
    if (out / "annotations.csv").exists():
        raise DataError(f"{out} already holds annotations.csv; choose an empty folder")
    (out / "videos").mkdir(parents=True, exist_ok=True)
    (out / "unlabelled").mkdir(exist_ok=True)
    rows = []
    for split, part in data.splits.items():
        for k in range(len(part)):
            name = f"videos/{split}_{k:05d}.avi"
            write_video(out / name, part.x[k])
            rows.append((name, part.texts[k], EXPORT_NAMES[split]))
    for k, clip in enumerate(data.pretrain):
        write_video(out / f"unlabelled/episode_{k:05d}.avi", clip)
    with (out / "annotations.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["video", "intent", "split"])
        w.writerows(rows)
    return len(rows) + len(data.pretrain)


__all__ = ["export_ui_folder", "read_annotations", "read_ui_folder", "write_video"]
