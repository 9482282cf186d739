"""S-JEPA's optional second view: a time shift and a sign flip keep each channel's power and
the electrodes, change the waveform, and leave padding where it is."""

from __future__ import annotations

import torch

from omnijepa.modalities.eeg_views import EEGViewConfig, augment_trials


def _trials(b: int = 6, c: int = 4, t: int = 64) -> torch.Tensor:
    pos = torch.randn(b, c, 3)
    signal = torch.randn(b, c, t)
    x = torch.cat([pos, signal], dim=-1)
    x[:, -1] = float("nan")  # an absent channel: position and samples NaN
    return x


def test_views_off_return_the_batch() -> None:
    x = _trials()
    assert augment_trials(x, torch.Generator(), EEGViewConfig()) is x


def test_time_shift_rolls_each_trial_and_keeps_power_and_positions() -> None:
    x = _trials()
    out = augment_trials(x, torch.Generator().manual_seed(0), EEGViewConfig(time_shift=True))
    assert torch.equal(out[..., :3].nan_to_num(7.0), x[..., :3].nan_to_num(7.0))
    assert torch.isnan(out[:, -1]).all()  # the absent channel stays absent
    sig, rolled = x[:, :-1, 3:], out[:, :-1, 3:]
    assert torch.allclose(rolled.pow(2).mean(-1), sig.pow(2).mean(-1))
    shifts = set()
    for i in range(len(x)):
        matches = [k for k in range(64) if torch.equal(torch.roll(sig[i], k, dims=-1), rolled[i])]
        assert len(matches) == 1  # a circular shift of the whole trial, all channels alike
        shifts.add(matches[0])
    assert len(shifts) > 1  # each trial its own shift


def test_sign_flip_negates_whole_trials() -> None:
    x = _trials(b=32)
    out = augment_trials(x, torch.Generator().manual_seed(1), EEGViewConfig(sign_flip=True))
    sig, flipped = x[:, :-1, 3:], out[:, :-1, 3:]
    same = torch.isclose(flipped, sig).flatten(1).all(1)
    negated = torch.isclose(flipped, -sig).flatten(1).all(1)
    assert torch.all(same | negated) and same.any() and negated.any()


def test_padded_trials_are_not_rolled() -> None:
    x = _trials(b=2)
    x[0, :-1, 3 + 48 :] = float("nan")  # a shorter recording: NaN past its end
    out = augment_trials(x, torch.Generator().manual_seed(2), EEGViewConfig(time_shift=True))
    assert torch.equal(out[0].nan_to_num(7.0), x[0].nan_to_num(7.0))
    assert not torch.equal(out[1].nan_to_num(7.0), x[1].nan_to_num(7.0))


def test_sjepa_feeds_the_invariance_term_a_shifted_view() -> None:
    from omnijepa.config import load_config
    from omnijepa.recipes import RECIPES

    recipe = RECIPES.get("sjepa")
    overrides = [*recipe.quick_overrides(), "augment.time_shift=true",
                 "anti_collapse.invariance=1"]  # fmt: skip
    built = recipe.build(load_config(recipe.default_config(), None, overrides),
                         torch.device("cpu"))  # fmt: skip
    ds = built.parts.dataset
    batch = built.parts.collate([ds[i] for i in range(4)], 0)
    signal, view = batch["x"][..., 3:].nan_to_num(), batch["x_view"][..., 3:].nan_to_num()
    assert not torch.equal(signal, view)
    assert torch.allclose(signal.pow(2).sum(-1), view.pow(2).sum(-1), rtol=1e-4)
    loss, stats = built.parts.objective(batch, 0)
    assert torch.isfinite(loss) and "invariance" in stats
