"""Demonstrations on gymnasium's classic-control Pendulum-v1 (swing a pole up from a random
angle and hold it upright; dt 0.05 s, torque limit 2), by a scripted expert whose actions the
current observation does not determine:

- an **idle pause** of a random length at the start (zero torque: the pole swings freely);
- **energy pumping**, torque ``gain * (E* - E) * thetadot`` (clipped) with E = thetadot^2 / 2
  + 15 cos(theta) and E* = 15 (upright at rest), interrupted by random **hesitations** (short
  holds at zero torque) drawn per episode;
- a **PD catch** once the pole is within ``catch`` radians of the top, held to the end.

Actions are rescaled to [-1, 1] (torque / 2), as the recipe's rollouts clip them. The
observation is (cos theta, sin theta, thetadot): no goal, the target is always the top. Success:
the tip (sin theta, cos theta) ends within ``SUCCESS_RADIUS`` of the top (0, 1), i.e. the pole
within ~11.5 degrees of upright. Demonstrations are generated once per configuration and cached
(``data.npz_cache``); gymnasium (``omnijepa[control]``) provides the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnijepa.data.image_data import derived_rng
from omnijepa.data.scripted_demos import gymnasium_env, scripted_demonstrations
from omnijepa.data.trajectories import Demonstrations

ENV_ID = "Pendulum-v1"
SUCCESS_RADIUS = 0.2  # tip-to-top distance of a unit pole: |theta| < 0.2 rad (11.5 degrees)
STEPS = 100  # 5 s: the expert settles upright within ~90 steps (README)
GRAVITY = 15.0  # 3 g / (2 l): theta'' = 15 sin(theta) + 3 u
MAX_TORQUE = 2.0


@dataclass
class SwingUpConfig:
    """The scripted expert's timing (steps of 0.05 s) and gains (torque units)."""

    pause: tuple[int, int] = (0, 15)  # idle steps at the start, drawn in [lo, hi]
    hesitations: tuple[int, int] = (1, 3)  # zero-torque holds while pumping, how many
    hesitation: tuple[int, int] = (3, 8)  # steps of each hold
    window: int = 40  # holds start within this many steps after the pause
    gain: float = 1.0  # energy pumping: torque = gain (E* - E) thetadot
    catch: float = 0.5  # rad from the top where the PD catch takes over
    kp: float = 10.0
    kd: float = 2.0


def _rescaled(env):  # noqa: ANN001, ANN202
    from gymnasium.wrappers import RescaleAction

    return RescaleAction(env, np.float32(-1.0), np.float32(1.0))


def make_env(seed: int | None = None):  # noqa: ANN201 (gymnasium is optional)
    """Pendulum-v1 with actions in [-1, 1]; ConfigError when gymnasium is absent. The
    recipe's episodes may outrun the default 200-step limit: never truncate."""
    return gymnasium_env(ENV_ID, "gymnasium", seed, _rescaled, max_episode_steps=10_000)


def wrap_angle(a: float) -> float:
    return float((a + np.pi) % (2 * np.pi) - np.pi)


def tip_and_target(env) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """The pole's tip (sin theta, cos theta) and the top (0, 1): upright is (0, 1)."""
    theta = float(env.unwrapped.state[0])
    return np.array([np.sin(theta), np.cos(theta)]), np.array([0.0, 1.0])


def idle_plan(steps: int, cfg: SwingUpConfig, rng: np.random.Generator
              ) -> tuple[int, np.ndarray]:  # fmt: skip
    """The pause's length and a (steps,) bool mask of the hesitations that follow it."""
    pause = int(rng.integers(cfg.pause[0], cfg.pause[1] + 1))
    holds = np.zeros(steps, bool)
    for _ in range(int(rng.integers(cfg.hesitations[0], cfg.hesitations[1] + 1))):
        start = pause + int(rng.integers(0, cfg.window + 1))
        holds[start : start + int(rng.integers(cfg.hesitation[0], cfg.hesitation[1] + 1))] = True
    return pause, holds


def expert_torque(theta: float, thetadot: float, hesitating: bool, paused: bool,
                  cfg: SwingUpConfig) -> float:  # fmt: skip
    """The expert's torque: zero while paused; the PD catch near the top (even during a
    hesitation, so that a caught pole is held); else pumping, or zero during a hesitation."""
    theta = wrap_angle(theta)
    if paused:
        return 0.0
    if np.cos(theta) > np.cos(cfg.catch):
        return float(np.clip(-(cfg.kp * theta + cfg.kd * thetadot), -MAX_TORQUE, MAX_TORQUE))
    if hesitating:
        return 0.0
    if abs(thetadot) < 1e-3:  # at rest at the bottom: kick to start swinging
        return MAX_TORQUE
    energy = 0.5 * thetadot**2 + GRAVITY * np.cos(theta)
    return float(np.clip(cfg.gain * (GRAVITY - energy) * thetadot, -MAX_TORQUE, MAX_TORQUE))


def expert_episode(env, seed: int, steps: int, cfg: SwingUpConfig
                   ) -> tuple[np.ndarray, np.ndarray, float]:  # fmt: skip
    """One demonstration: observations, actions in [-1, 1] and the final tip-top distance."""
    obs, _ = env.reset(seed=seed)
    pause, holds = idle_plan(steps, cfg, derived_rng(seed, "pendulum_expert"))
    all_obs, actions = [], []
    for t in range(steps):
        theta, thetadot = env.unwrapped.state
        u = expert_torque(theta, thetadot, bool(holds[t]), t < pause, cfg)
        action = np.array([u / MAX_TORQUE], np.float32)
        all_obs.append(obs)
        actions.append(action)
        obs, *_ = env.step(action)
    tip, top = tip_and_target(env)
    return (np.asarray(all_obs, np.float32), np.asarray(actions, np.float32),
            float(np.linalg.norm(tip - top)))  # fmt: skip


def pendulum_demonstrations(episodes: int, seed: int, cfg: SwingUpConfig | None = None,
                            steps: int = STEPS, cache_dir: str = "") -> Demonstrations:  # fmt: skip
    """``episodes`` expert swing-ups from environment seeds derived from ``seed``."""
    cfg = cfg or SwingUpConfig()
    return scripted_demonstrations(
        "pendulum_demos", make_env, lambda env, s, n: expert_episode(env, s, n, cfg), episodes,
        seed, steps, SUCCESS_RADIUS, (ENV_ID, repr(cfg)), cache_dir,
    )  # fmt: skip


__all__ = [
    "ENV_ID",
    "STEPS",
    "SUCCESS_RADIUS",
    "SwingUpConfig",
    "expert_episode",
    "expert_torque",
    "idle_plan",
    "make_env",
    "pendulum_demonstrations",
    "tip_and_target",
]
