"""Demonstrations on gymnasium's MuJoCo Reacher-v5 (a 2-link arm reaching a random target in
50 steps) by a scripted expert whose actions the current observation does not determine, the
regime where ACT-JEPA's action chunks and history should pay:

- an **idle pause** of a random length at the start (the arm holds still);
- a **minimum-jerk path** of the fingertip to the target over a random duration, optionally
  with a **hold** at its midpoint;
- then a hold at the target.

The path is tracked by a joint-space PD law on analytic inverse kinematics (links 0.1 and
0.11 m, the elbow kept on its side). Success: the fingertip ends within ``SUCCESS_RADIUS`` of
the target (they touch). Demonstrations are generated once per configuration and cached
(``data.npz_cache``); ``pip install gymnasium mujoco`` (``omnijepa[control]``) provides the
simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnijepa.data.image_data import derived_rng
from omnijepa.data.scripted_demos import gymnasium_env, scripted_demonstrations
from omnijepa.data.trajectories import Demonstrations as TaskDemonstrations

LINKS = (0.1, 0.11)
SUCCESS_RADIUS = 0.02  # m: fingertip (0.01) and target (0.009) spheres touch
ENV_ID = "Reacher-v5"


@dataclass
class ExpertConfig:
    """The scripted expert's timing (steps of 0.02 s) and PD gains."""

    pause: tuple[int, int] = (0, 10)  # idle steps at the start, drawn in [lo, hi]
    duration: tuple[int, int] = (15, 30)  # steps of the minimum-jerk path
    hold_share: float = 0.5  # share of episodes that hold at the path's midpoint
    hold: tuple[int, int] = (3, 8)
    kp: float = 2.0
    kd: float = 0.2


def make_env(seed: int | None = None):  # noqa: ANN201 (gymnasium is optional)
    """The Reacher-v5 environment; ConfigError when gymnasium/MuJoCo are absent."""
    return gymnasium_env(ENV_ID, "gymnasium and MuJoCo", seed)


def forward_kinematics(q: np.ndarray) -> np.ndarray:
    """Fingertip (x, y) of joint angles (q0, q1)."""
    a, b = LINKS
    return np.array([a * np.cos(q[0]) + b * np.cos(q[0] + q[1]),
                     a * np.sin(q[0]) + b * np.sin(q[0] + q[1])])  # fmt: skip


def inverse_kinematics(p: np.ndarray, elbow: float) -> np.ndarray:
    """Joint angles putting the fingertip at ``p``, elbow bent to the side ``elbow`` (+1/-1);
    points out of reach go to the nearest reachable one."""
    a, b = LINKS
    c = np.clip((p @ p - a * a - b * b) / (2 * a * b), -1.0, 1.0)
    q1 = elbow * np.arccos(c)
    q0 = np.arctan2(p[1], p[0]) - np.arctan2(b * np.sin(q1), a + b * np.cos(q1))
    return np.array([q0, q1])


def min_jerk(s: np.ndarray | float) -> np.ndarray | float:
    """The minimum-jerk profile 10 s^3 - 15 s^4 + 6 s^5 on s in [0, 1]."""
    s = np.clip(s, 0.0, 1.0)
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def wrap_angle(a: np.ndarray) -> np.ndarray:
    return (a + np.pi) % (2 * np.pi) - np.pi


def expert_path(start: np.ndarray, goal: np.ndarray, steps: int, cfg: ExpertConfig,
                rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Desired fingertip positions (steps, 2): pause, minimum-jerk path (with an optional
    midpoint hold), then the goal."""
    pause = int(rng.integers(cfg.pause[0], cfg.pause[1] + 1))
    dur = int(rng.integers(cfg.duration[0], cfg.duration[1] + 1))
    hold = int(rng.integers(cfg.hold[0], cfg.hold[1] + 1)) if rng.random() < cfg.hold_share else 0
    t = np.arange(steps, dtype=float) - pause
    half = dur / 2
    s = np.where(t < half, t, np.where(t < half + hold, half, t - hold)) / dur
    return start + (goal - start) * np.asarray(min_jerk(s))[:, None]


def expert_episode(env, seed: int, steps: int, cfg: ExpertConfig
                   ) -> tuple[np.ndarray, np.ndarray, float]:  # fmt: skip
    """One demonstration: observations, actions and the final fingertip-target distance."""
    obs, _ = env.reset(seed=seed)
    u = env.unwrapped
    q = u.data.qpos[:2].copy()
    goal = u.data.qpos[2:4].copy()
    elbow = 1.0 if wrap_angle(q[1]) >= 0 else -1.0
    path = expert_path(forward_kinematics(q), goal, steps, cfg, derived_rng(seed, "expert"))
    all_obs, actions = [], []
    for t in range(steps):
        q, qd = u.data.qpos[:2].copy(), u.data.qvel[:2].copy()
        err = wrap_angle(inverse_kinematics(path[t], elbow) - q)
        action = np.clip(cfg.kp * err - cfg.kd * qd, -1.0, 1.0).astype(np.float32)
        all_obs.append(obs)
        actions.append(action)
        obs, *_ = env.step(action)
    dist = float(np.linalg.norm(u.get_body_com("fingertip")[:2] - goal))
    return np.asarray(all_obs, np.float32), np.asarray(actions, np.float32), dist


@dataclass
class Demonstrations(TaskDemonstrations):
    """Reacher demonstrations: success is the fingertip within ``SUCCESS_RADIUS``."""

    radius: float = SUCCESS_RADIUS


def reacher_demonstrations(episodes: int, seed: int, cfg: ExpertConfig | None = None,
                           steps: int = 50, cache_dir: str = "") -> Demonstrations:  # fmt: skip
    """``episodes`` expert demonstrations from environment seeds derived from ``seed``."""
    cfg = cfg or ExpertConfig()
    demos = scripted_demonstrations(
        "reacher_demos", make_env, lambda env, s, n: expert_episode(env, s, n, cfg), episodes,
        seed, steps, SUCCESS_RADIUS, (ENV_ID, repr(cfg)), cache_dir,
    )  # fmt: skip
    return Demonstrations(demos.trajectories, demos.final_distance)


__all__ = [
    "ENV_ID",
    "LINKS",
    "SUCCESS_RADIUS",
    "Demonstrations",
    "ExpertConfig",
    "expert_episode",
    "expert_path",
    "fingertip_and_target",
    "forward_kinematics",
    "inverse_kinematics",
    "make_env",
    "min_jerk",
    "reacher_demonstrations",
]


def fingertip_and_target(env) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """Current fingertip and target (x, y) of a Reacher environment."""
    u = env.unwrapped
    return u.get_body_com("fingertip")[:2].copy(), u.data.qpos[2:4].copy()
