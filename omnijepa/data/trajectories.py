"""Demonstration trajectories for imitation-learning recipes: flat arrays of ``obs`` (T, Do),
``actions`` (T, Da) and ``episode_starts`` (T,) bool (True at each episode's first step), the
layout of a user's ``.npz`` and of the generated demonstrations. Bad files are one error that
names the problem: a missing array, mismatched lengths, NaN or infinite values, or episodes
that do not start at step 0."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omnijepa.data.numpy_files import read_npz
from omnijepa.errors import DataError

KEYS = ("obs", "actions", "episode_starts")


@dataclass
class Trajectories:
    """Steps of several episodes, concatenated in time order."""

    obs: np.ndarray
    actions: np.ndarray
    episode_starts: np.ndarray

    def __post_init__(self) -> None:
        check_trajectories(self.obs, self.actions, self.episode_starts, "trajectories")

    def __len__(self) -> int:
        return len(self.obs)

    @property
    def bounds(self) -> list[tuple[int, int]]:
        """(start, end) step range of every episode."""
        starts = np.flatnonzero(self.episode_starts).tolist()
        return list(zip(starts, [*starts[1:], len(self.obs)]))

    def episodes(self, which: np.ndarray | list[int]) -> Trajectories:
        """The episodes at indices ``which``, in that order."""
        spans = [self.bounds[int(i)] for i in which]
        idx = np.concatenate([np.arange(a, b) for a, b in spans]) if spans else np.zeros(0, int)
        starts = np.zeros(len(idx), bool)
        starts[np.cumsum([0] + [b - a for a, b in spans[:-1]])] = bool(spans)
        return Trajectories(self.obs[idx], self.actions[idx], starts)


@dataclass
class Demonstrations:
    """Generated expert trajectories, each episode's final distance to its target, and the
    distance under which an episode counts as a success (the task's)."""

    trajectories: Trajectories
    final_distance: np.ndarray
    radius: float

    @property
    def success_rate(self) -> float:
        return float(np.mean(self.final_distance < self.radius))


def check_trajectories(obs: np.ndarray, actions: np.ndarray, starts: np.ndarray,
                       where: str) -> None:  # fmt: skip
    """DataError naming the first problem of the three arrays, if any."""
    if obs.ndim != 2 or actions.ndim != 2 or starts.ndim != 1:
        raise DataError(f"{where}: obs and actions must be 2-D (steps, dims) and episode_starts "
                        f"1-D, got {obs.shape}, {actions.shape}, {starts.shape}")  # fmt: skip
    if not len(obs) == len(actions) == len(starts):
        raise DataError(f"{where}: obs has {len(obs)} steps, actions {len(actions)}, "
                        f"episode_starts {len(starts)}; they must match")  # fmt: skip
    if len(obs) == 0:
        raise DataError(f"{where}: no steps")
    for name, arr in (("obs", obs), ("actions", actions)):
        if not np.isfinite(arr).all():
            bad = int(np.argwhere(~np.isfinite(arr))[0][0])
            raise DataError(f"{where}: {name} holds NaN or infinite values (first at step {bad})")
    if not bool(starts[0]):
        raise DataError(f"{where}: episode_starts[0] must be True (step 0 starts an episode)")


def read_trajectories(path: Path) -> Trajectories:
    """A user's ``.npz`` with ``obs``, ``actions`` and ``episode_starts``."""
    if path.is_dir():
        raise DataError(f"data.path {path} is a folder; give the trajectory .npz file itself")
    if not path.is_file():
        raise DataError(f"trajectory file not found: {path}")
    if path.suffix.lower() != ".npz":
        kind = path.suffix or "suffix-less"
        raise DataError(f"{path}: trajectory files are .npz (numpy.savez) holding "
                        f"{', '.join(KEYS)}; got a {kind} file")  # fmt: skip
    z = read_npz(path, "a trajectory file", KEYS)
    obs, actions, starts = (z[k] for k in KEYS)
    if obs.dtype.kind not in "fiu" or actions.dtype.kind not in "fiu":
        raise DataError(f"{path}: obs and actions must be numeric")
    check_trajectories(obs, actions, starts, str(path))
    top = float(np.finfo(np.float32).max)
    for name, arr in (("obs", obs), ("actions", actions)):
        if arr.dtype.kind == "f" and arr.dtype.itemsize > 4 and (big := np.abs(arr) > top).any():
            raise DataError(f"{path}: {name} holds values beyond float32's range (first at "
                            f"step {int(np.argwhere(big)[0][0])}): rescale them")  # fmt: skip
    return Trajectories(obs.astype(np.float32), actions.astype(np.float32), starts.astype(bool))


__all__ = ["KEYS", "Demonstrations", "Trajectories", "check_trajectories", "read_trajectories"]
