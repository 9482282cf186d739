"""EEG channel-window tokens at electrode positions (MNE montages) and S-JEPA's spatial masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omnijepa.errors import DataError
from omnijepa.masks import batch_generator, build_mask_sampler
from omnijepa.modalities.eeg import EEGChannelTokenizer, electrode_positions, pack_recording
from omnijepa.nn.encoder import TokenEncoder

TEN_TWENTY = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8",
              "P7", "P3", "Pz", "P4", "P8", "O1", "O2"]  # fmt: skip


def test_positions_come_from_the_montage_by_name() -> None:
    pos = electrode_positions(["C3", "cz", "C4", "Fpz", "Oz"])
    c3, cz, c4, fpz, oz = pos
    assert c3[0] < cz[0] < c4[0]  # left to right
    assert fpz[1] > cz[1] > oz[1]  # front to back
    assert 0.7 < np.linalg.norm(pos - pos.mean(0), axis=1).mean() < 1.3  # about a head radius
    with pytest.raises(DataError, match="XYZ"):
        electrode_positions(["C3", "XYZ"])


def test_packing_marks_absent_channels_and_refuses_bad_samples() -> None:
    rec = pack_recording(np.ones((2, 5)), electrode_positions(["C3", "C4"]), 3, 8)
    assert rec.shape == (3, 11) and torch.isnan(rec[2]).all() and torch.isnan(rec[:2, 8:]).all()
    bad = np.ones((2, 5))
    bad[0, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        pack_recording(bad, electrode_positions(["C3", "C4"]), 3, 8)
    with pytest.raises(DataError, match="more than"):
        pack_recording(np.ones((4, 5)), electrode_positions(["C3", "C4", "Cz", "Pz"]), 3, 8)


def test_recordings_with_different_montages_batch_like_alone() -> None:
    tok = EEGChannelTokenizer(4, 8, 4, 16)
    enc = TokenEncoder(tok, 1, 2, pos="mlp").eval()
    small = pack_recording(torch.randn(2, 6), electrode_positions(["O1", "O2"]), 4, 8)
    full = pack_recording(torch.randn(4, 8), electrode_positions(["C3", "Cz", "C4", "Pz"]), 4, 8)
    batch = torch.stack([small, full])
    pad = tok.padding(batch)
    # O1, O2: windows 0 and 1 real (samples 0-5); channels 3 and 4 absent
    assert pad[0].view(4, 2).tolist() == [[False, False]] * 2 + [[True, True]] * 2
    assert not pad[1].any()
    coords = tok.coords(batch)
    assert coords.shape == (2, 8, 4) and coords[1, 3, 3] == 1  # channel 1, window 1
    with torch.no_grad():
        together = enc(batch)[0][~pad[0]]
        alone = enc(small[None])[0][~pad[0]]
    torch.testing.assert_close(together, alone)


def test_spatial_radius_hides_whole_channels_near_a_centre() -> None:
    windows = 3
    tok = EEGChannelTokenizer(len(TEN_TWENTY), windows * 4, 4, 8)
    rec = pack_recording(torch.randn(19, 12), electrode_positions(TEN_TWENTY), 19, 12)
    coords = tok.coords(rec[None].repeat(6, 1, 1))
    sampler = build_mask_sampler("spatial_radius", tok.grid, radius=0.6, max_share=0.5)
    pos = electrode_positions(TEN_TWENTY)
    for k in range(10):
        masks = sampler.sample(6, batch_generator(0, k), coords=coords)
        assert masks.targets.shape[1] == 1
        for tgt, ctx in zip(masks.targets[:, 0], masks.context):
            chans = sorted({int(i) // windows for i in tgt})
            assert len(tgt) == windows * len(chans)  # every window of each hidden channel
            assert 1 <= len(chans) <= 9 and set(tgt.tolist()).isdisjoint(ctx.tolist())
            spread = np.linalg.norm(pos[chans][:, None] - pos[chans][None], axis=-1).max()
            assert spread <= 2 * 1.0  # a compact patch of the head around one centre
        first = sorted({int(i) // windows for i in masks.targets[0, 0]})
        centre_dist = np.linalg.norm(pos[first][:, None] - pos[first][None], axis=-1)
        assert centre_dist.min(axis=0).max() <= 2 * 0.6 + 1e-9
    wide = build_mask_sampler("spatial_radius", tok.grid, radius=5.0, max_share=0.3)
    masks = wide.sample(2, batch_generator(0, 0), coords=coords[:2])
    assert masks.targets.shape[2] == windows * 5  # capped at 30% of 19 channels


def write_trials(path, names) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, len(names), 128)).astype(np.float32)
    y = rng.integers(0, 2, 48)
    x[y == 1, 0] *= 2.0  # class 1: more power on the first channel
    np.savez(path, X=x, y=y, ch_names=np.array(names))


def test_train_on_a_users_npz(tmp_path, tiny_overrides) -> None:  # noqa: ANN001
    from omnijepa.recipes import RECIPES
    from omnijepa.recipes.run import train_run

    write_trials(tmp_path / "trials.npz", ["C3", "C4", "Cz", "Pz", "O1", "O2"])
    ov = tiny_overrides("sjepa", f"data.path={tmp_path / 'trials.npz'}", "eval.few_shot=[]")
    res = train_run(RECIPES.get("sjepa"), ov, tmp_path / "run")
    assert {"jepa", "random_init", "raw"} <= set(res["metrics"]["linear_probe"])
    assert "unseen_montage" not in res["metrics"] and "trials.npz" in res["data"]


def test_unknown_channel_names_are_one_error(tmp_path, capsys, tiny_overrides) -> None:  # noqa: ANN001
    from tests.test_cli import assert_one_line_error, run_cli

    write_trials(tmp_path / "bad.npz", ["C3", "C4", "Q9"])
    ov = tiny_overrides("sjepa", f"data.path={tmp_path / 'bad.npz'}")
    code, _, err = run_cli(capsys, "train", "sjepa", *ov, "--out", tmp_path / "r")
    assert code == 2
    assert_one_line_error(err, "Q9")


def test_radius_reproduction_pairs_the_default_with_each_radius(tmp_path) -> None:  # noqa: ANN001
    from omnijepa.recipes import REPRODUCTIONS

    ov = ["device=cpu", "eval.few_shot=[]", "data.train_size=32", "data.test_size=16"]
    res = REPRODUCTIONS.get("sjepa-radius")(tmp_path, 2, True, ov)
    assert set(res["metrics"]["radius_probe"]) == {"default", "radius_0.4"}
    assert res["metrics"]["gap_vs_radius_0.4"]["n"] == 2
    assert list(res["checks"]) == [
        "mask radius has no clear effect: probe spread over radii < 0.03"
    ]
    assert not (tmp_path / "default_0" / "results.json").read_text().count('"heads"')


def test_mne_sphere_lead_field_is_focal_referenced_and_trains() -> None:
    import numpy as np

    from omnijepa.data.eeg_data import TEN_TWENTY, EEGDataConfig, generate_lateralised
    from omnijepa.data.eeg_lead_field import LEAD_FIELDS, sphere_lead
    from omnijepa.errors import ConfigError

    lead = sphere_lead(TEN_TWENTY, ("C3", "C4"), "auto")
    assert lead.shape == (len(TEN_TWENTY), 2) and np.abs(lead).max() == pytest.approx(1.0)
    np.testing.assert_allclose(lead.sum(0), 0.0, atol=1e-9)  # average reference
    names = list(TEN_TWENTY)
    assert names[int(np.argmax(lead[:, 0]))] == "C3" and names[int(np.argmax(lead[:, 1]))] == "C4"
    assert (lead < 0).any() and set(LEAD_FIELDS.names()) == {"gaussian", "mne_sphere"}
    cfg = EEGDataConfig(lead_field="mne_sphere")
    split = generate_lateralised(cfg, TEN_TWENTY, 200, np.random.default_rng(0))
    c3, c4 = names.index("C3"), names.index("C4")
    ratio = np.array([np.log(s[c3].var() / s[c4].var()) for s in split.signals])
    y = np.asarray(split.labels)
    # imagined right hand (1): the left (C3) mu rhythm desynchronises
    assert ratio[y == 0].mean() - ratio[y == 1].mean() > 0.3
    with pytest.raises(ConfigError, match="mne_sphere"):
        EEGDataConfig(lead_field="nope")


def test_sjepa_checks_on_a_users_data_skip_the_unseen_montage() -> None:
    """A user's recordings have no unseen montage: the check is skipped (the repro used to
    crash with KeyError after training every arm)."""
    from omnijepa.recipes.sjepa_checks import judge_sjepa

    runs = {"default": [{"linear_probe": {"jepa": 0.7, "random_init": 0.6, "chance": 0.5}}]}
    checks = judge_sjepa(runs, [], "linear_probe", {})
    assert [c.passed for c in checks] == [None]
    assert "skipped" in checks[0].detail
