"""S-JEPA's heads learn a power difference from a frozen random encoder; the readout options."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import TensorDataset

from omnijepa.config import load_config
from omnijepa.errors import ConfigError
from omnijepa.eval.eeg_heads import HeadsConfig, head_accuracy
from omnijepa.recipes.sjepa import SJEPARecipe, build_objective

CHANNELS, LENGTH = 4, 128


def _trials(n: int, seed: int) -> TensorDataset:
    """Class 1 has twice the amplitude on channel 0; positions in the first 3 columns."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    sig = torch.randn(n, CHANNELS, LENGTH, generator=gen)
    sig[:, 0] *= 1.0 + y[:, None].float()
    pos = torch.eye(3)[torch.arange(CHANNELS) % 3] + 0.1 * torch.arange(CHANNELS)[:, None]
    return TensorDataset(torch.cat([pos.expand(n, -1, -1), sig], dim=-1), y)


def _encoder() -> torch.nn.Module:
    tiny = ["model.dim=16", "model.depth=1", "model.heads=2", "model.window=32"]
    cfg = load_config(SJEPARecipe().default_config(), None, tiny)
    return build_objective(cfg, CHANNELS, LENGTH).eval_encoder()


@pytest.mark.parametrize("norm", ["none", "batch"])
def test_a_new_post_local_head_reads_power_from_a_random_local_encoder(norm: str) -> None:
    cfg = HeadsConfig(pool="time_mean_std", norm=norm, epochs=40, batch_size=16)
    acc = head_accuracy(_encoder(), "post_local", "new", _trials(65, 0), _trials(64, 1), 2, cfg,
                        torch.device("cpu"))  # fmt: skip
    assert acc >= 0.8  # the std over windows carries the amplitude; chance is 0.5


def test_every_head_runs_with_batch_norm_and_a_last_batch_of_one() -> None:
    cfg = HeadsConfig(norm="batch", epochs=2, warmup=1, batch_size=16)
    for kind in ("contextual", "post_local", "pre_local"):
        acc = head_accuracy(_encoder(), kind, "full", _trials(17, 0), _trials(8, 1), 2, cfg,
                            torch.device("cpu"))  # fmt: skip
        assert 0.0 <= acc <= 1.0


def test_an_unknown_norm_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="heads.norm"):
        HeadsConfig(norm="layer")
