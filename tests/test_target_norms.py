"""Target normalisations: the position-residual kind removes exactly what position predicts."""

from __future__ import annotations

import pytest
import torch

from omnijepa.errors import ConfigError
from omnijepa.objectives.target_norms import normalise_targets, position_residual
from omnijepa.objectives.teacher import TeacherConfig


def test_grid_residual_has_zero_mean_at_every_position() -> None:
    g = torch.Generator().manual_seed(0)
    per_position = torch.randn(1, 6, 4, generator=g) * 5
    h = per_position + torch.randn(8, 6, 4, generator=g)
    coords = torch.stack(torch.meshgrid(torch.arange(2.0), torch.arange(3.0), indexing="ij"), -1)
    out = position_residual(h, coords.reshape(-1, 2), None)
    torch.testing.assert_close(out.mean(0), torch.zeros(6, 4), atol=1e-5, rtol=0)
    # what varies between samples is kept
    torch.testing.assert_close(out, h - h.mean(0, keepdim=True))


def test_grid_residual_ignores_padded_tokens() -> None:
    h = torch.randn(3, 4, 2)
    pad = torch.zeros(3, 4, dtype=torch.bool)
    pad[2, 1:] = True
    h_big = h.clone()
    h_big[2, 1:] = 1e6
    coords = torch.arange(4.0)[:, None]
    out = position_residual(h_big, coords, pad)
    torch.testing.assert_close(out[~pad], position_residual(h, coords, pad)[~pad])
    assert float(out[pad].abs().max()) == 0.0


def test_per_sample_positions_regress_out_a_smooth_function() -> None:
    g = torch.Generator().manual_seed(1)
    coords = torch.rand(32, 64, 3, generator=g) * 2 - 1
    signal = torch.stack([coords[..., 0].sin() * 3, (coords**2).sum(-1) * 2], -1)
    noise = 0.1 * torch.randn(32, 64, 2, generator=g)
    out = position_residual(signal + noise, coords, None)
    assert float(out.var()) < 0.05 * float(signal.var())  # the position part is gone
    assert float(out.var()) > 0.5 * float(noise.var())  # the rest is not


def test_normalised_targets_are_standardised_and_unknown_kinds_fail() -> None:
    h = torch.randn(4, 9, 8) * 3 + 1
    out = normalise_targets("position_residual", h, torch.arange(9.0)[:, None], None)
    flat = out.reshape(-1, 8)
    torch.testing.assert_close(flat.mean(0), torch.zeros(8), atol=1e-5, rtol=0)
    torch.testing.assert_close(flat.std(0, unbiased=False), torch.ones(8), atol=1e-3, rtol=0)
    with pytest.raises(ConfigError, match="position_residual"):
        TeacherConfig(target_norm="nope")


def test_target_layers_average_the_last_blocks_normed_outputs() -> None:
    from torch.nn import functional as F

    from omnijepa.modalities.image import PatchTokenizer
    from omnijepa.nn.encoder import TokenEncoder
    from omnijepa.nn.predictor import MaskTokenPredictor
    from omnijepa.objectives.latent_prediction import LatentPrediction

    torch.manual_seed(0)
    enc = TokenEncoder(PatchTokenizer(1, 4, 16, 8), depth=3, heads=2)
    pred = MaskTokenPredictor(16, 8, 1, 2, axes=enc.tokenizer.axes)
    x = torch.randn(2, 1, 8, 8)
    last = LatentPrediction(enc, pred).target_tokens(x)
    torch.testing.assert_close(last, enc(x))
    mixed = LatentPrediction(enc, pred, teacher=TeacherConfig(target_layers=2)).target_tokens(x)
    blocks = enc(x, layers=2).view(2, 4, 2, 16)
    torch.testing.assert_close(mixed, F.layer_norm(blocks, (16,)).mean(-2))
    with pytest.raises(ValueError, match="target_layers"):
        TeacherConfig(target_layers=0)


def test_float32_statistics_under_bf16_autocast() -> None:
    """The ridge fit of per-sample positions and VICReg's covariance run in float32 even
    inside bf16 autocast (on CUDA the products would otherwise come out in bf16, and
    torch.linalg.solve refuses bf16 operands)."""
    from omnijepa.objectives.vicreg import vc_terms

    g = torch.Generator().manual_seed(0)
    h, coords = torch.randn(4, 10, 8, generator=g), torch.randn(4, 10, 3, generator=g)
    plain = position_residual(h, coords, None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = position_residual(h, coords, None)
    assert mixed.dtype == torch.float32
    torch.testing.assert_close(mixed, plain)
    z = torch.randn(256, 32, generator=g) * 3 + 1
    plain_vc = vc_terms(z)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed_vc = vc_terms(z)
    assert all(torch.equal(a, b) for a, b in zip(plain_vc, mixed_vc))
