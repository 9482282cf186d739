"""Closed-loop evaluation of a chunked policy in gymnasium environments: every episode runs
side by side (one batched policy call per decision), each decision's chunk of actions is played
open-loop before the policy observes again (ACT-JEPA's protocol; no temporal ensembling), and
the fingertip path, the return and the final distance to the target are recorded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

# (state history (B, H, Ds), goal (B, Dg), padding (B, H)) -> actions (B, k, Da)
Policy = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class RolloutResult:
    """Per-episode final distance and return, and fingertip paths (E, T + 1, 2)."""

    final_distance: np.ndarray
    returns: np.ndarray
    paths: np.ndarray
    targets: np.ndarray

    def success_rate(self, radius: float) -> float:
        return float(np.mean(self.final_distance < radius))


@torch.no_grad()
def rollout(policy: Policy, envs: list, seeds: list[int], steps: int, history: int,
            state_dims: list[int], goal_dims: list[int], mean: np.ndarray, std: np.ndarray,
            locate: Callable, device: torch.device, label: str | None = None
            ) -> RolloutResult:  # fmt: skip
    """Run one episode per (env, seed); ``locate(env)`` gives (fingertip, target)."""
    obs = np.stack([env.reset(seed=int(s))[0] for env, s in zip(envs, seeds)])
    n = len(envs)
    hist = np.zeros((n, history, len(state_dims)), np.float32)
    pad = np.ones((n, history), bool)
    queue: list[np.ndarray] = []
    returns = np.zeros(n)
    paths = [[locate(env)[0]] for env in envs]
    for _ in tqdm(range(steps), desc=label or "", disable=None if label else True, leave=False):
        z = ((obs - mean) / std).astype(np.float32)
        hist = np.roll(hist, -1, axis=1)
        pad = np.roll(pad, -1, axis=1)
        hist[:, -1], pad[:, -1] = z[:, state_dims], False
        if not queue:
            chunk = policy(torch.from_numpy(hist).to(device),
                           torch.from_numpy(z[:, goal_dims]).to(device),
                           torch.from_numpy(pad).to(device)).float().cpu().numpy()  # fmt: skip
            queue = [chunk[:, j] for j in range(chunk.shape[1])]
        action = np.clip(queue.pop(0), -1.0, 1.0)
        for i, env in enumerate(envs):
            obs[i], reward, *_ = env.step(action[i])
            returns[i] += reward
            paths[i].append(locate(env)[0])
    located = [locate(env) for env in envs]
    final = np.array([np.linalg.norm(f - g) for f, g in located])
    return RolloutResult(final, returns, np.array(paths), np.array([g for _, g in located]))


__all__ = ["Policy", "RolloutResult", "rollout"]
