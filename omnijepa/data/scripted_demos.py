"""Demonstrations of a scripted expert in a gymnasium environment, generated once per
configuration and cached (``data.npz_cache``): the part every control task shares. A task
supplies its environment factory and ``expert_episode(env, seed, steps) -> (obs, actions,
final distance)``; episode seeds are derived from the run's seed and the task's name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from omnijepa.data.image_data import derived_rng
from omnijepa.data.npz_cache import cached_arrays
from omnijepa.data.trajectories import Demonstrations, Trajectories
from omnijepa.errors import ConfigError

Episode = tuple[np.ndarray, np.ndarray, float]  # observations, actions, final distance
NAMES = ("obs", "actions", "episode_starts", "final_distance")


def gymnasium_env(env_id: str, needs: str, seed: int | None = None,
                  wrap: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:  # fmt: skip
    """``gymnasium.make(env_id, **kwargs)``, optionally wrapped, reset to ``seed``; a
    ConfigError naming what is missing (``needs``, e.g. "gymnasium and MuJoCo") without it."""
    try:
        import gymnasium as gym

        env = gym.make(env_id, **kwargs)
    except ImportError as exc:
        raise ConfigError(f"{env_id} needs {needs} (pip install 'omnijepa[control]'): "
                          f"{exc}") from None  # fmt: skip
    env = wrap(env) if wrap is not None else env
    if seed is not None:
        env.reset(seed=seed)
    return env


def scripted_demonstrations(
    name: str,
    make_env: Callable[[], Any],
    expert_episode: Callable[[Any, int, int], Episode],
    episodes: int,
    seed: int,
    steps: int,
    radius: float,
    key: tuple,
    cache_dir: str = "",
) -> Demonstrations:
    """``episodes`` expert runs of ``steps`` steps from seeds derived from ``seed``; ``key``
    names everything else the demonstrations depend on (environment id, expert settings)."""
    if episodes < 1 or steps < 2:
        raise ConfigError("need >= 1 demonstration of >= 2 steps")

    def build() -> dict[str, np.ndarray]:
        env = make_env()
        seeds = derived_rng(seed, name).integers(0, 2**31 - 1, episodes)
        runs = [expert_episode(env, int(s), steps) for s in seeds]
        env.close()
        starts = np.zeros(episodes * steps, bool)
        starts[::steps] = True
        return {"obs": np.concatenate([r[0] for r in runs]),
                "actions": np.concatenate([r[1] for r in runs]),
                "episode_starts": starts,
                "final_distance": np.array([r[2] for r in runs])}  # fmt: skip

    z = cached_arrays(name, (name, *key, episodes, seed, steps), build, NAMES, cache_dir)
    trajectories = Trajectories(z["obs"], z["actions"], z["episode_starts"])
    return Demonstrations(trajectories, z["final_distance"], radius)


__all__ = ["Episode", "gymnasium_env", "scripted_demonstrations"]
