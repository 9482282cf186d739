"""Seeded generators derived from (seed, step): randomness that resume can reproduce."""

from __future__ import annotations

import torch


def step_generator(seed: int, step: int, salt: int = 0) -> torch.Generator:
    """A CPU generator seeded from (seed, step, salt), independent of the global RNG."""
    g = torch.Generator()
    g.manual_seed((seed * 1_000_003 + step * 7919 + salt * 104_729) % (2**63 - 1))
    return g
