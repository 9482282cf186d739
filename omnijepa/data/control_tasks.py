"""The simulated control tasks of the imitation recipe (``data.task``): per task, its
environment, its cached scripted demonstrations, where the controlled point and its target
are (the rollout picture and the success distance), and the recipe's defaults for it.

- ``reacher``: MuJoCo Reacher-v5, 50 steps (``data.reacher_demos``);
- ``pendulum``: classic-control Pendulum-v1 swing-up, 100 steps (``data.pendulum_demos``).

Both experts idle or hesitate on a random schedule, so the observation does not determine the
action. A new task is one ``CONTROL_TASKS.add``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from omnijepa.data import pendulum_demos, reacher_demos
from omnijepa.data.trajectories import Demonstrations
from omnijepa.registry import Registry

# (env) -> (the controlled point, its target), both (x, y)
Locate = Callable[[Any], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class ControlTask:
    """What the recipe needs of one simulated task."""

    label: str  # names the environment in the run's description line
    make_env: Callable[[], Any]  # ConfigError (with the pip hint) without the simulator
    demonstrations: Callable[[int, int, int], Demonstrations]  # (episodes, seed, steps)
    locate: Locate
    success_radius: float  # final point-target distance that counts as success
    goal_dims: tuple[int, ...]  # observation dims of the goal token
    probe_dims: tuple[int, ...]  # observation dims the world-model probe predicts
    steps: int  # episode length
    distance: Callable[[np.ndarray], np.ndarray]  # (T, obs) -> (T,) distance to the target
    extent: float  # half-width of the rollout picture (its units)
    picture_title: str
    notes: str  # the repro report's description of the setup


CONTROL_TASKS: Registry[ControlTask] = Registry("data.task")

CONTROL_TASKS.add("reacher", ControlTask(
    label="Reacher-v5",
    make_env=reacher_demos.make_env,
    demonstrations=lambda n, seed, steps: reacher_demos.reacher_demonstrations(n, seed,
                                                                               steps=steps),
    locate=reacher_demos.fingertip_and_target,
    success_radius=reacher_demos.SUCCESS_RADIUS,
    goal_dims=(4, 5),  # the target position
    probe_dims=(8, 9),  # fingertip - target (metres)
    steps=50,
    distance=lambda obs: np.linalg.norm(obs[:, 8:10], axis=1),
    extent=0.23,
    picture_title="fingertip paths on fresh seeds (filled target: reached)",
    notes=(
        "Reacher-v5 (MuJoCo): 60 demonstrations of a scripted expert with unobservable idle "
        "pauses, minimum-jerk paths and midpoint holds (expert success 100%), 20 more held out "
        "for the probe; rollouts on 100 fresh environment seeds, success = fingertip within 2 cm "
        "of the target at the end. Same network and budget for every arm; chunks are played "
        "open-loop (no temporal ensembling). Probe: frozen context encoder, mean of its tokens, "
        "a linear (ridge) map to the next k fingertip-to-target vectors; RMSE (m) of the "
        "Euclidean error on held-out episodes. An MLP probe (300 steps) is reported beside it "
        "as probe_rmse_mlp: it decodes what a random encoder passes through, so there the "
        "random init wins."
    ),
))  # fmt: skip

CONTROL_TASKS.add("pendulum", ControlTask(
    label="Pendulum-v1 swing-up",
    make_env=pendulum_demos.make_env,
    demonstrations=lambda n, seed, steps: pendulum_demos.pendulum_demonstrations(n, seed,
                                                                                 steps=steps),
    locate=pendulum_demos.tip_and_target,
    success_radius=pendulum_demos.SUCCESS_RADIUS,
    goal_dims=(),  # the target is always the top: no goal token input
    probe_dims=(0, 1),  # cos, sin of the angle
    steps=pendulum_demos.STEPS,
    distance=lambda obs: np.hypot(obs[:, 0] - 1.0, obs[:, 1]),  # tip to the top
    extent=1.15,
    picture_title="pendulum tip paths on fresh seeds (top circle filled: upright at the end)",
    notes=(
        "Pendulum-v1 (classic control): 60 swing-up demonstrations of 100 steps by a scripted "
        "expert (energy pumping, then a PD catch) with unobservable idle pauses (0-15 steps) "
        "and 1-3 zero-torque hesitations of 3-8 steps (expert success 100%), 20 more held out "
        "for the probe; rollouts on fresh environment seeds, success = the tip ends within "
        "0.2 of the top (|angle| < 11.5 degrees). Same network and budget for every arm; chunks "
        "are played open-loop. Probe: frozen context encoder, mean of its tokens, a linear "
        "(ridge) map to the next k (cos, sin) of the angle; RMSE on held-out episodes."
    ),
))  # fmt: skip


__all__ = ["CONTROL_TASKS", "ControlTask", "Locate"]
