"""Variable-length batches: a padded batch gives every sample what it gets alone.

Checked for the encoder, both predictors, the latent loss and the pooled frozen features,
on the time-series tokenizer (padding = windows past the end of a series, NaN-filled).
"""

from __future__ import annotations

import pytest
import torch

from omnijepa.data.series_data import pad_series
from omnijepa.eval.features import pooled_features
from omnijepa.modalities.series import SeriesWindowTokenizer
from omnijepa.nn.encoder import TokenEncoder
from omnijepa.nn.predictors import PREDICTORS
from omnijepa.objectives.latent_prediction import LatentPrediction

WINDOW, DIM = 4, 16
LENGTHS = (7, 4, 10)  # windows per series; 7 ends mid-window below


def series(seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    out = [torch.randn(2, n * WINDOW, generator=g) for n in LENGTHS]
    out[0] = out[0][:, :-2]  # a series that ends inside its last window
    return out


def encoder(seed: int = 0) -> TokenEncoder:
    torch.manual_seed(seed)
    return TokenEncoder(SeriesWindowTokenizer(2, WINDOW, DIM), 2, 2).eval()


def alone(s: torch.Tensor) -> torch.Tensor:
    """One series as a batch of one, padded only to the next whole window."""
    t = -(-s.shape[1] // WINDOW) * WINDOW
    return pad_series([s], t)


def test_padding_marks_whole_nan_windows() -> None:
    x = pad_series(series())
    pad = SeriesWindowTokenizer(2, WINDOW, DIM).padding(x)
    assert pad.shape == (3, max(LENGTHS))
    assert [int((~p).sum()) for p in pad] == list(LENGTHS)


def test_encoder_padded_batch_matches_each_sample_alone() -> None:
    enc = encoder()
    xs = series()
    with torch.no_grad():
        batch = enc(pad_series(xs))
        for i, (s, n) in enumerate(zip(xs, LENGTHS)):
            torch.testing.assert_close(batch[i, :n], enc(alone(s))[0], atol=1e-5, rtol=1e-5)


def test_encoder_padding_with_a_kept_subset() -> None:
    enc = encoder()
    xs = series()
    keep = torch.tensor([[0, 2, 5, 8], [1, 3, 6, 9], [0, 4, 7, 9]])  # 6..9 are padding in row 1
    with torch.no_grad():
        out = enc(pad_series(xs), keep=keep)
        for i, (s, n) in enumerate(zip(xs, LENGTHS)):
            real = keep[i][keep[i] < n]
            solo = enc(alone(s), keep=real[None])[0]
            torch.testing.assert_close(out[i, : len(real)], solo, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", PREDICTORS.names())
def test_predictors_padded_batch_matches_each_sample_alone(kind: str) -> None:
    torch.manual_seed(0)
    tok = SeriesWindowTokenizer(2, WINDOW, DIM)
    pred = PREDICTORS.get(kind)(DIM, 8, 2, 2, 2.0, "sincos", tok.axes).eval()
    n = 10
    coords = torch.arange(n, dtype=torch.float32)[:, None]
    z = torch.randn(2, 5, DIM)
    context = torch.tensor([[0, 1, 2, 3, 4], [0, 1, 2, 8, 9]])
    ctx_pad = torch.tensor([[False] * 5, [False, False, False, True, True]])
    targets = torch.tensor([[[5, 6, 7], [8, 9, 9]], [[3, 4, 9], [5, 6, 9]]])
    tgt_pad = targets >= torch.tensor([10, 8])[:, None, None]
    with torch.no_grad():
        out = pred(z, coords, context, targets, ctx_pad, tgt_pad)
        for i in range(2):
            c_keep = ~ctx_pad[i]
            for m in range(2):
                t_keep = ~tgt_pad[i, m]
                solo = pred(
                    z[i : i + 1, c_keep], coords, context[i : i + 1, c_keep],
                    targets[i : i + 1, m : m + 1, t_keep],
                )  # fmt: skip
                torch.testing.assert_close(out[i, m, t_keep], solo[0, 0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", PREDICTORS.names())
@pytest.mark.parametrize("loss", ["smooth_l1", "cosine"])
def test_latent_loss_of_a_padded_batch_is_the_token_weighted_mean(kind: str, loss: str) -> None:
    torch.manual_seed(0)
    enc = TokenEncoder(SeriesWindowTokenizer(2, WINDOW, DIM), 2, 2)
    pred = PREDICTORS.get(kind)(DIM, 8, 1, 2, 2.0, "sincos", enc.tokenizer.axes)
    objective = LatentPrediction(enc, pred, loss).eval()
    xs = series()[1:]  # lengths 4 and 10 windows
    # per-sample masks inside each series, then padded to common sizes with padded tokens
    ctx = [torch.tensor([0, 1]), torch.tensor([0, 1, 2, 3, 4])]
    tgt = [torch.tensor([[2, 3]]), torch.tensor([[6, 7, 8]])]
    losses, counts = [], []
    with torch.no_grad():
        for s, c, t in zip(xs, ctx, tgt):
            value, _ = objective({"x": alone(s), "context": c[None], "targets": t[None]}, 0)
            losses.append(float(value))
            counts.append(t.numel())
        batch = {
            "x": pad_series(xs),
            "context": torch.stack([torch.tensor([0, 1, 9, 9, 9]), ctx[1]]),
            "targets": torch.stack([torch.tensor([[2, 3, 9]]), tgt[1]]),
        }
        value, _ = objective(batch, 0)
    expected = sum(v * k for v, k in zip(losses, counts)) / sum(counts)
    assert float(value) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("pool", ["mean", "max", "max_mean"])
def test_pooled_features_of_a_padded_batch_match_each_sample_alone(pool: str) -> None:
    enc = encoder()
    xs = series()
    data = torch.utils.data.TensorDataset(pad_series(xs), torch.arange(3))
    feats, _ = pooled_features(enc, data, torch.device("cpu"), batch_size=3, pool=pool)
    for i, s in enumerate(xs):
        solo = torch.utils.data.TensorDataset(alone(s), torch.arange(1))
        one, _ = pooled_features(enc, solo, torch.device("cpu"), pool=pool)
        assert torch.allclose(torch.as_tensor(feats[i]), torch.as_tensor(one[0]), atol=1e-5)
