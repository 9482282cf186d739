"""The pre-local head's spatial filters: the paper's free mix and the learned scalp spots."""

from __future__ import annotations

import pytest
import torch

from omnijepa.errors import ConfigError
from omnijepa.eval.eeg_heads import HeadsConfig, head_accuracy
from omnijepa.eval.eeg_spatial_filters import FreeFilter, SpotFilter, spread_centres
from tests.test_eeg_heads import _encoder, _trials


def _packed(positions: torch.Tensor, length: int = 8, batch: int = 2) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    sig = torch.randn(batch, len(positions), length, generator=gen)
    return torch.cat([positions.expand(batch, -1, -1), sig], dim=-1)


def test_spot_weights_average_the_present_channels_nearest_first() -> None:
    spots = SpotFilter(channels=3, virtual=4, width=0.2)
    centres = spread_centres(4)
    positions = torch.stack([centres[0], centres[0] * 0.9, -centres[0]])  # near, near, far
    x = _packed(positions)
    x[1, 1, :] = float("nan")  # channel 1 absent from the second recording
    w = spots.weights(x[..., :3]).detach()
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 4))
    assert float(w[1, :, 1].abs().max()) == 0.0  # an absent channel gets no weight
    assert float(w[0, 0, 0]) > float(w[0, 0, 1]) > float(w[0, 0, 2])  # by distance to spot 0
    out = spots(x)
    assert out.shape == (2, 4, 8) and torch.isfinite(out).all()
    torch.testing.assert_close(out[1, 0], x[1, 0, 3:] * w[1, 0, 0] + x[1, 2, 3:] * w[1, 0, 2])


def test_spots_serve_any_montage_and_learn_where_to_sit() -> None:
    """The filter's parameters are the spots, not the channels: one filter runs on 3 and on
    7 channels, and a loss moves the centres and widths."""
    spots = SpotFilter(channels=3, virtual=2)
    for c in (3, 7):
        positions = torch.nn.functional.normalize(torch.randn(c, 3), dim=-1)
        assert spots(_packed(positions)).shape == (2, 2, 8)
    spots(_packed(torch.eye(3))).square().mean().backward()
    assert float(spots.centres.grad.abs().sum()) > 0
    assert float(spots.log_width.grad.abs().sum()) > 0


def test_the_free_filter_is_a_linear_mix_of_the_signals() -> None:
    free = FreeFilter(channels=3, virtual=2)
    x = _packed(torch.eye(3))
    x[0, 2, 3:] = float("nan")
    expected = torch.einsum("bct,vc->bvt", torch.nan_to_num(x[..., 3:]), free.mix.weight)
    torch.testing.assert_close(free(x), expected)


def test_a_pre_local_head_with_spots_reads_power_at_one_electrode() -> None:
    """Class 1 doubles channel 0's amplitude; spots learn from 64 trials to read it."""
    cfg = HeadsConfig(pool="time_mean_std", filter="spots", epochs=40, batch_size=16)
    acc = head_accuracy(_encoder(), "pre_local", "new", _trials(64, 0), _trials(64, 1), 2, cfg,
                        torch.device("cpu"))  # fmt: skip
    assert acc >= 0.8  # chance is 0.5


def test_an_unknown_filter_is_one_config_error_naming_the_choices() -> None:
    with pytest.raises(ConfigError, match="heads.filter.*free, spots"):
        HeadsConfig(filter="laplacian")
