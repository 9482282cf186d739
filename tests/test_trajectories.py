"""Trajectory data for the imitation-learning recipes: the user .npz reader and its errors,
episode bookkeeping, the Reacher and Pendulum scripted experts (kinematics, a schedule the
observation does not determine, success), the cached demonstrations and the task registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omnijepa.data.npz_cache import cached_arrays
from omnijepa.data.trajectories import Trajectories, read_trajectories
from omnijepa.errors import DataError

gym = pytest.importorskip("gymnasium")
pytest.importorskip("mujoco")

from omnijepa.data.reacher_demos import (  # noqa: E402
    SUCCESS_RADIUS,
    ExpertConfig,
    expert_path,
    fingertip_and_target,
    forward_kinematics,
    inverse_kinematics,
    make_env,
    reacher_demonstrations,
)


def random_success(env, locate, radius: float, episodes: int, steps: int, dims: int) -> float:  # noqa: ANN001
    """Share of episodes that uniformly random actions end within ``radius`` of the target."""
    rng, hits = np.random.default_rng(0), 0
    for ep in range(episodes):
        env.reset(seed=ep)
        for _ in range(steps):
            env.step(rng.uniform(-1, 1, dims).astype(np.float32))
        point, target = locate(env)
        hits += np.linalg.norm(point - target) < radius
    return hits / episodes


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIJEPA_CACHE", str(tmp_path / "cache"))


def _arrays(steps: int = 6) -> dict[str, np.ndarray]:
    starts = np.zeros(steps, bool)
    starts[[0, 4]] = True
    return {"obs": np.arange(steps * 3, dtype=np.float32).reshape(steps, 3),
            "actions": np.ones((steps, 2), np.float32), "episode_starts": starts}  # fmt: skip


def test_a_user_file_reads_back_with_its_episodes(tmp_path: Path) -> None:
    np.savez(tmp_path / "t.npz", **_arrays())
    tr = read_trajectories(tmp_path / "t.npz")
    assert tr.bounds == [(0, 4), (4, 6)]
    two = tr.episodes([1, 0])
    assert two.bounds == [(0, 2), (2, 6)] and two.obs[0, 0] == 12.0


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"actions": np.ones((5, 2))}, "obs has 6 steps, actions 5"),
        ({"obs": np.full((6, 3), np.nan)}, "NaN or infinite"),
        ({"episode_starts": np.zeros(6, bool)}, "episode_starts\\[0\\]"),
        ({"obs": np.ones(6)}, "2-D"),
        ({"drop": "actions"}, "missing array"),
        ({"obs": np.full((6, 3), 1e39)}, "beyond float32's range \\(first at step 0\\)"),
    ],
)
def test_a_bad_trajectory_file_is_one_clear_error(tmp_path: Path, change: dict, match: str) -> None:
    arrays = _arrays()
    if "drop" in change:
        arrays.pop(change["drop"])
    else:
        arrays.update(change)
    np.savez(tmp_path / "t.npz", **arrays)
    with pytest.raises(DataError, match=match):
        read_trajectories(tmp_path / "t.npz")


def test_a_missing_or_garbled_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_trajectories(tmp_path / "nope.npz")
    (tmp_path / "g.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="g.npz"):
        read_trajectories(tmp_path / "g.npz")
    (tmp_path / "t.csv").write_text("obs,actions\n1,2\n")  # numpy's pickle hint before
    with pytest.raises(DataError, match="t.csv: trajectory files are .npz .* got a .csv file"):
        read_trajectories(tmp_path / "t.csv")


def test_inverse_kinematics_inverts_forward_kinematics() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        q = np.array([rng.uniform(-np.pi, np.pi), rng.uniform(0.2, 2.8)])
        p = forward_kinematics(q)
        assert np.allclose(forward_kinematics(inverse_kinematics(p, 1.0)), p, atol=1e-9)
        assert np.allclose(forward_kinematics(inverse_kinematics(p, -1.0)), p, atol=1e-9)


def test_the_expert_path_pauses_moves_smoothly_and_holds() -> None:
    cfg = ExpertConfig(pause=(5, 5), duration=(20, 20), hold_share=1.0, hold=(4, 4))
    start, goal = np.array([0.2, 0.0]), np.array([0.0, 0.15])
    path = expert_path(start, goal, 50, cfg, np.random.default_rng(0))
    assert np.allclose(path[:6], start)  # the idle pause: the same observation, no motion
    assert np.allclose(path[15:20], path[15])  # the midpoint hold
    assert np.allclose(path[29:], goal)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert steps[6] < steps[10] and steps[27] < steps[24]  # slow in, slow out


def test_the_expert_reaches_and_random_actions_do_not() -> None:
    demos = reacher_demonstrations(40, seed=0)
    assert demos.success_rate >= 0.95
    assert len(demos.trajectories) == 40 * 50 and len(demos.trajectories.bounds) == 40
    assert random_success(make_env(), fingertip_and_target, SUCCESS_RADIUS, 40, 50, 2) < 0.2


def test_the_expert_is_not_markovian_in_the_observation() -> None:
    # during the pause the arm sits still, then moves from the same state: one observation,
    # two actions, depending on time alone
    cfg = ExpertConfig(pause=(8, 8), hold_share=0.0)
    tr = reacher_demonstrations(1, seed=3, cfg=cfg).trajectories
    still = np.abs(tr.actions[:8]).max(axis=1)
    moving = np.abs(tr.actions[9:14]).max(axis=1)
    assert still.max() < 0.1 * moving.max()


def test_demonstrations_are_cached_and_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    a = reacher_demonstrations(3, seed=1, steps=10)
    files = list((tmp_path / "cache").glob("reacher_demos_*.npz"))
    assert len(files) == 1
    files[0].write_bytes(b"broken")
    b = reacher_demonstrations(3, seed=1, steps=10)
    assert np.array_equal(a.trajectories.actions, b.trajectories.actions)
    calls = []

    def build() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"x": np.ones(2)}

    for _ in range(2):
        assert cached_arrays("t", ("k", 1), build, ("x",))["x"].tolist() == [1.0, 1.0]
    assert len(calls) == 1
    assert isinstance(a.trajectories, Trajectories)


def test_the_pendulum_expert_swings_up_and_random_torques_do_not() -> None:
    from omnijepa.data.pendulum_demos import make_env as pendulum_env
    from omnijepa.data.pendulum_demos import pendulum_demonstrations, tip_and_target

    demos = pendulum_demonstrations(12, seed=0)
    assert demos.success_rate >= 0.9 and demos.radius == 0.2
    tr = demos.trajectories
    assert tr.obs.shape == (12 * 100, 3) and tr.actions.shape == (12 * 100, 1)
    assert np.abs(tr.actions).max() <= 1.0  # rescaled torques, as rollouts clip them
    assert random_success(pendulum_env(), tip_and_target, 0.2, 12, 100, 1) < 0.3


def test_the_pendulum_expert_pauses_and_hesitates_on_a_schedule() -> None:
    from omnijepa.data.pendulum_demos import SwingUpConfig, expert_torque, idle_plan

    cfg = SwingUpConfig(pause=(6, 6), hesitations=(1, 1), hesitation=(4, 4), window=0)
    pause, holds = idle_plan(30, cfg, np.random.default_rng(0))
    assert pause == 6 and np.flatnonzero(holds).tolist() == [6, 7, 8, 9]
    # one observation, three actions depending on the schedule alone: not Markovian
    state = (np.pi - 0.5, 2.0)  # swinging low
    assert expert_torque(*state, hesitating=False, paused=True, cfg=cfg) == 0.0
    assert expert_torque(*state, hesitating=True, paused=False, cfg=cfg) == 0.0
    assert abs(expert_torque(*state, hesitating=False, paused=False, cfg=cfg)) > 1.0
    # near the top the catch holds the pole even during a hesitation
    assert expert_torque(0.2, 0.0, hesitating=True, paused=False, cfg=cfg) < 0


def test_pendulum_demonstrations_are_cached(tmp_path: Path) -> None:
    from omnijepa.data.pendulum_demos import pendulum_demonstrations

    a = pendulum_demonstrations(2, seed=1, steps=10)
    files = list((tmp_path / "cache").glob("pendulum_demos_*.npz"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    b = pendulum_demonstrations(2, seed=1, steps=10)
    assert files[0].stat().st_mtime_ns == stamp  # read back, not rebuilt
    assert np.array_equal(a.trajectories.obs, b.trajectories.obs)
    assert np.array_equal(a.final_distance, b.final_distance)
    assert len(list((tmp_path / "cache").glob("pendulum_demos_*.npz"))) == 1


def test_the_task_registry_names_its_tasks() -> None:
    from omnijepa.data.control_tasks import CONTROL_TASKS
    from omnijepa.errors import ConfigError

    assert CONTROL_TASKS.names() == ["pendulum", "reacher"]
    assert CONTROL_TASKS.get("pendulum").goal_dims == ()
    with pytest.raises(ConfigError, match="valid: pendulum, reacher"):
        CONTROL_TASKS.get("cartpole")
