"""Video: moving-item clips with a known motion, a user's video folders (OpenCV), V-JEPA's
tube masks, and the vjepa recipe end to end."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest

from omnijepa.data.video_data import VideoDataConfig, load_video_data, moving_items
from omnijepa.errors import DataError
from omnijepa.masks import batch_generator, build_mask_sampler

needs_fashion = pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").exists(), reason="dataset-fashion-mnist"
)


@needs_fashion
def test_items_move_in_their_labelled_direction() -> None:
    cfg = VideoDataConfig(frames=6, directions=4)
    clips = moving_items(cfg, 64, 0, "train")
    assert clips.x.shape == (64, 1, 6, 32, 32) and clips.x.dtype == np.uint8
    rows = np.arange(32)[:, None]
    cols = np.arange(32)[None, :]
    for x, y in zip(clips.x[:, 0], clips.y):
        mass = [f.astype(float) for f in (x[0], x[-1])]
        centre = [np.array([(m * rows).sum(), (m * cols).sum()]) / m.sum() for m in mass]
        dy, dx = centre[1] - centre[0]
        want = {0: (0, 1), 1: (1, 0), 2: (0, -1), 3: (-1, 0)}[int(y)]  # (sin, cos) of k * 90 deg
        assert np.dot([dy, dx], want) > 3.0  # moved >= 3 px the labelled way


def test_tubes_run_through_every_frame() -> None:
    sampler = build_mask_sampler("tubes", (4, 8, 8))
    kinds = set()
    for step in range(12):
        masks = sampler.sample(4, batch_generator(0, step))
        kinds.add(masks.targets.shape[1])
        for blocks in masks.targets:
            for block in blocks.numpy():
                t, cell = block // 64, block % 64
                per_frame = [set(cell[t == k]) for k in range(4)]
                assert all(p == per_frame[0] for p in per_frame)  # the same cells in each frame
    assert kinds == {2, 8}  # long- and short-range batches both occur


def write_video(path: Path, frames: np.ndarray) -> None:
    import cv2

    h, w = frames.shape[1:3]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (w, h))
    for f in frames:
        out.write(f)
    out.release()


def video_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for cls, shift in (("left", -2), ("right", 2)):
        (root / cls).mkdir(parents=True)
        for k in range(3):
            base = rng.integers(0, 255, (40, 48, 3)).astype(np.uint8)
            frames = np.stack([np.roll(base, shift * t, axis=1) for t in range(12)])
            write_video(root / cls / f"v{k}.avi", frames)
    return root


def test_video_folders_split_by_video_and_refuse_unreadable_files(tmp_path: Path) -> None:
    root = video_folder(tmp_path / "videos")
    cfg = VideoDataConfig(path=str(root), frames=4, size=16, clips_per_video=3, test_fraction=0.34)
    data = load_video_data(cfg, 0)
    assert data["train"].x.shape[1:] == (1, 4, 16, 16)
    assert data["train"].classes == ["left", "right"]
    assert len(data["test"].y) == 2 * 3 and len(data["train"].y) == 2 * 2 * 3  # 1 of 3 held out
    (root / "left" / "broken.avi").write_bytes(b"not a video")
    with pytest.raises(DataError, match="broken.avi"):
        load_video_data(cfg, 0)


def test_videos_shorter_than_one_clip_are_named(tmp_path: Path) -> None:
    root = video_folder(tmp_path / "videos")  # 12 frames each
    cfg = VideoDataConfig(path=str(root), frames=8, size=16, stride=2, test_fraction=0.34)
    with pytest.warns(UserWarning, match=r"6 video\(s\) are shorter than one clip .*15 frames"):
        data = load_video_data(cfg, 0)
    assert len(data["train"].y) == 4  # one clip each, padded with the last frame
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stride 1: 8 of 12 frames, no warning
        load_video_data(dataclasses.replace(cfg, stride=1, clips_per_video=1), 0)


def test_a_truncated_video_is_read_with_a_warning_and_no_ffmpeg_noise(tmp_path: Path,
                                                                       capfd) -> None:  # fmt: skip
    from omnijepa.data.video_data import read_video

    rng = np.random.default_rng(0)
    write_video(tmp_path / "v.avi", rng.integers(0, 255, (20, 32, 32, 3)).astype(np.uint8))
    data = (tmp_path / "v.avi").read_bytes()
    (tmp_path / "cut.avi").write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match="decoded .* of its 20 frames"):
        frames = read_video(tmp_path / "cut.avi", VideoDataConfig(size=16))
    assert 0 < len(frames) < 20
    assert capfd.readouterr().err == ""  # FFmpeg's own lines are not printed


def test_a_folder_without_classes_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    with pytest.raises(DataError, match="no video files found"):
        load_video_data(VideoDataConfig(path=str(tmp_path)), 0)


@needs_fashion
def test_train_vjepa_on_generated_clips_and_a_folder(tmp_path: Path, tiny_overrides) -> None:  # noqa: ANN001
    from omnijepa.recipes import RECIPES
    from omnijepa.recipes.run import train_run

    res = train_run(RECIPES.get("vjepa"), tiny_overrides("vjepa"), tmp_path / "gen")
    assert {"jepa", "random_init", "raw"} <= set(res["metrics"]["linear_probe"])
    root = video_folder(tmp_path / "videos")
    ov = tiny_overrides("vjepa", f"data.path={root}", "eval.few_shot=[]", "data.clips_per_video=8")
    res = train_run(RECIPES.get("vjepa"), ov, tmp_path / "folder")
    assert "2 classes" in res["data"]
    # `embed` names each clip by its video and first frame
    from omnijepa.recipes.saved_runs import embed_run

    data = np.load(embed_run(tmp_path / "folder", [], tmp_path / "f.npz")["out"])
    rows = [*data["train_files"], *data["test_files"]]
    labels = [*data["train_y"], *data["test_y"]]
    assert len(rows) == len(data["train_x"]) + len(data["test_x"])
    assert len(set(rows)) == len(rows)  # each clip once, even from a short video
    for row, y in zip(rows, labels):
        path, _, start = row.rpartition("@frame")
        assert Path(path).is_file() and Path(path).parent.name == data["classes"][y]
        assert 0 <= int(start)
