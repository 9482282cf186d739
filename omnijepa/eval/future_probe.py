"""World-model probes of a frozen trajectory encoder (ACT-JEPA's state probe): from the mean
of the encoder's tokens, predict the next k values of chosen observation dims (Reacher: the
fingertip-to-target vector, in metres), fitted on training windows and scored by RMSE on
held-out episodes' windows, padded future steps left out. Two heads: a linear map (ridge,
closed form), which asks whether the encoder *organises* the future, and a small MLP, which
can also decode what a random encoder merely passes through (there a random encoder wins)."""

from __future__ import annotations

import torch
from torch import nn

from omnijepa.modalities.trajectory import Windows
from omnijepa.seeding import step_generator


@torch.no_grad()
def pooled_tokens(encoder: nn.Module, w: Windows, device: torch.device, batch: int = 1024
                  ) -> torch.Tensor:  # fmt: skip
    """Mean of the real tokens of every window, (N, dim) on the CPU."""
    encoder.eval()
    out = []
    for k in range(0, len(w), batch):
        s = slice(k, k + batch)
        tok, pad = encoder(w.history[s].to(device), w.goal[s].to(device),
                           w.history_pad[s].to(device))  # fmt: skip
        keep = (~pad).float()[..., None]
        out.append(((tok * keep).sum(1) / keep.sum(1)).float().cpu())
    return torch.cat(out)


def future_probe_rmse(features: tuple[torch.Tensor, torch.Tensor],
                      targets: tuple[torch.Tensor, torch.Tensor],
                      pads: tuple[torch.Tensor, torch.Tensor], steps: int, seed: int,
                      lr: float = 1e-3, batch: int = 256) -> float:  # fmt: skip
    """RMSE on the test windows of an MLP trained on the train windows; ``targets`` (N, k, D)
    with ``pads`` (N, k) True where the future step lies past the episode's end."""
    (xa, xb), (ya, yb), (pa, pb) = features, targets, pads
    mu, sd = xa.mean(0), xa.std(0) + 1e-6
    xa, xb = (xa - mu) / sd, (xb - mu) / sd
    torch.manual_seed(seed)
    k, d = ya.shape[1:]
    head = nn.Sequential(nn.Linear(xa.shape[1], 128), nn.GELU(), nn.Linear(128, k * d))
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    for step in range(steps):
        idx = torch.randint(0, len(xa), (batch,), generator=step_generator(seed, step, salt=29))
        err = (head(xa[idx]).view(-1, k, d) - ya[idx]).square().sum(-1)
        keep = (~pa[idx]).float()
        loss = (err * keep).sum() / keep.sum().clamp_min(1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        err = (head(xb).view(-1, k, d) - yb).square().sum(-1)
        keep = (~pb).float()
        return float(((err * keep).sum() / keep.sum().clamp_min(1.0)).sqrt())


Pair = tuple[torch.Tensor, torch.Tensor]


def linear_future_rmse(features: Pair, targets: Pair, pads: Pair, ridge: float = 0.1) -> float:
    """RMSE on the test windows of a ridge map fitted on the train windows whose whole future
    lies inside their episode (z-scored features plus a bias)."""
    (xa, xb), (ya, yb), (pa, pb) = features, targets, pads
    full = ~pa.any(1)
    xa, ya = xa[full].double(), ya[full].double()
    mu, sd = xa.mean(0), xa.std(0) + 1e-6

    def design(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([(x.double() - mu) / sd, torch.ones(len(x), 1, dtype=torch.double)], 1)

    a = design(xa)
    w = torch.linalg.solve(a.T @ a + ridge * torch.eye(a.shape[1], dtype=torch.double),
                           a.T @ ya.reshape(len(ya), -1))  # fmt: skip
    err = ((design(xb) @ w).view(yb.shape) - yb.double()).square().sum(-1)
    keep = (~pb).double()
    return float(((err * keep).sum() / keep.sum().clamp_min(1.0)).sqrt())


__all__ = ["future_probe_rmse", "linear_future_rmse", "pooled_tokens"]
