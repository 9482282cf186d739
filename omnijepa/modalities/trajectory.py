"""Trajectories as tokens with time coordinates, for imitation learning (ACT-JEPA).

A sample at step t holds the last ``history`` observations (left-padded at the episode's
start), the chunk of the next ``chunk`` actions a_t..a_{t+k-1} and the next ``chunk`` states
s_{t+1}..s_{t+k} (both right-padded at its end; padded steps are left out of both losses).
Observations split into a goal part (``goal_dims``: the environment/goal token, e.g. Reacher's
target position) and the proprioceptive state (the other dims: the history tokens and the
JEPA targets). ``TrajectoryEncoder`` embeds the goal and each state with its own linear map,
adds a learned position per time slot, and runs a transformer over [goal, states].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from omnijepa.data.trajectories import Trajectories
from omnijepa.errors import DataError
from omnijepa.nn.transformer import TransformerStack, key_padding_mask


@dataclass
class ObsLayout:
    """Which observation dims form the goal token; the rest are the state."""

    goal: tuple[int, ...]
    obs_dim: int

    def __post_init__(self) -> None:
        bad = [d for d in self.goal if not 0 <= d < self.obs_dim]
        if bad or len(set(self.goal)) != len(self.goal) or len(self.goal) >= self.obs_dim:
            raise DataError(f"goal dims {list(self.goal)} must be distinct indices of the "
                            f"{self.obs_dim} observation dims, leaving state dims")  # fmt: skip

    @property
    def state(self) -> list[int]:
        return [d for d in range(self.obs_dim) if d not in self.goal]


@dataclass
class Windows:
    """Per-step training samples (N = steps) as tensors."""

    history: torch.Tensor  # (N, H, Ds) states, oldest first
    history_pad: torch.Tensor  # (N, H) True at padding
    goal: torch.Tensor  # (N, Dg)
    actions: torch.Tensor  # (N, k, Da)
    actions_pad: torch.Tensor  # (N, k)
    future: torch.Tensor  # (N, k, Ds) s_{t+1}..s_{t+k}
    future_pad: torch.Tensor  # (N, k)
    probe: torch.Tensor  # (N, k, Dp) raw future values of the probed obs dims
    probe_now: torch.Tensor  # (N, Dp) their raw values at step t

    def __len__(self) -> int:
        return len(self.history)


def step_windows(tr: Trajectories, layout: ObsLayout, history: int, chunk: int,
                 mean: np.ndarray, std: np.ndarray, probe_dims: tuple[int, ...] = ()
                 ) -> Windows:  # fmt: skip
    """Every step of ``tr`` as a sample; observations standardised with ``mean``/``std``;
    ``probe`` holds the raw future values of ``probe_dims``."""
    obs = (tr.obs - mean) / std
    hist_idx, hist_pad, act_idx, act_pad, fut_idx, fut_pad = ([] for _ in range(6))
    for a, b in tr.bounds:
        for t in range(a, b):
            h = np.arange(t - history + 1, t + 1)
            hist_pad.append(h < a)
            hist_idx.append(np.maximum(h, a))
            c = np.arange(t, t + chunk)
            act_pad.append(c >= b)
            act_idx.append(np.minimum(c, b - 1))
            f = c + 1
            fut_pad.append(f >= b)
            fut_idx.append(np.minimum(f, b - 1))
    st, gl = obs[:, layout.state], obs[:, list(layout.goal)]
    starts = np.array([hi[-1] for hi in hist_idx])

    def t_(x: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(x))

    return Windows(t_(st[np.array(hist_idx)]).float(), t_(np.array(hist_pad)),
                   t_(gl[starts]).float(), t_(tr.actions[np.array(act_idx)]).float(),
                   t_(np.array(act_pad)), t_(st[np.array(fut_idx)]).float(),
                   t_(np.array(fut_pad)),
                   t_(tr.obs[np.array(fut_idx)][..., list(probe_dims)]).float(),
                   t_(tr.obs[starts][:, list(probe_dims)]).float())  # fmt: skip


class TrajectoryEncoder(nn.Module):
    """[goal token, state tokens at time slots 0..n-1] -> (B, 1 + n, dim)."""

    def __init__(self, state_dim: int, goal_dim: int, slots: int, dim: int, depth: int,
                 heads: int) -> None:  # fmt: skip
        super().__init__()
        self.dim = dim
        self.state = nn.Linear(state_dim, dim)
        self.goal = nn.Linear(goal_dim, dim) if goal_dim else None
        self.goal_token = nn.Parameter(torch.zeros(1, 1, dim))  # stands in without goal dims
        self.position = nn.Parameter(torch.randn(slots, dim) * 0.02)
        self.stack = TransformerStack(dim, depth, heads)

    def forward(self, states: torch.Tensor, goal: torch.Tensor, padding: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """Tokens and their padding (the goal token is never padding)."""
        b, n, _ = states.shape
        x = self.state(states) + self.position[:n]
        g = self.goal_token.expand(b, -1, -1)
        if self.goal is not None:
            g = g + self.goal(goal)[:, None]
        pad = torch.cat([padding.new_zeros(b, 1), padding], dim=1)
        return self.stack(torch.cat([g, x], dim=1), key_padding_mask(pad)), pad


__all__ = ["ObsLayout", "TrajectoryEncoder", "Windows", "step_windows"]
