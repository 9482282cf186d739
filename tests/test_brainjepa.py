"""Brain-JEPA's parts: connectivity gradients, ROI x time tokens, spatio-temporal region masks,
the generated subjects (a label that lives in connectivity) and a user's ROI series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from omnijepa.data.fmri_data import (
    FMRIDataConfig,
    ROIDataset,
    connectivity_features,
    generate_subjects,
    load_fmri_data,
)
from omnijepa.errors import ConfigError, DataError
from omnijepa.masks import batch_generator, build_mask_sampler
from omnijepa.modalities.brain_gradients import (
    diffusion_gradients,
    functional_connectivity,
    scaled_positions,
)
from omnijepa.modalities.roi_series import ROIPatchTokenizer


def block_connectivity(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat([0, 1, 2], 12))
    fc = np.where(labels[:, None] == labels[None], 0.6, 0.05) + rng.normal(0, 0.05, (36, 36))
    fc = (fc + fc.T) / 2
    np.fill_diagonal(fc, 1.0)
    return fc, labels


def test_gradients_separate_known_blocks_and_have_fixed_signs() -> None:
    fc, labels = block_connectivity()
    g = diffusion_gradients(fc, 2)
    centres = np.stack([g[labels == k].mean(0) for k in range(3)])
    within = max(np.linalg.norm(g[labels == k] - centres[k], axis=1).max() for k in range(3))
    between = min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a))
    assert within < 0.1 * between
    assert np.all(g[np.abs(g).argmax(0), [0, 1]] > 0)  # largest entry of each component > 0
    np.testing.assert_allclose(diffusion_gradients(fc, 2), g)
    pos = scaled_positions(g)
    assert pos.min() == pytest.approx(-1.0) and pos.max() == pytest.approx(1.0)
    with pytest.raises(DataError, match="regions"):
        diffusion_gradients(fc[:2, :2], 2)


def test_connectivity_of_series_is_their_mean_correlation() -> None:
    rng = np.random.default_rng(0)
    common = rng.standard_normal((4, 200))
    x = np.stack([np.stack([c, c + 0.01 * rng.standard_normal(200), rng.standard_normal(200)])
                  for c in common])  # fmt: skip
    fc = functional_connectivity(x)
    assert fc.shape == (3, 3) and fc[0, 1] > 0.99 and abs(fc[0, 2]) < 0.2


def test_roi_tokens_and_coordinates() -> None:
    pos = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    tok = ROIPatchTokenizer(6, 34, 8, 16, pos)
    x = torch.randn(2, 6, 34)
    assert tok(x).shape == (2, 24, 16) and tok.grid == (6, 4)
    coords = tok.coords(x)
    assert coords.shape == (24, 4) and torch.equal(coords[5, :3], torch.from_numpy(pos[1]))
    assert coords[5, 3] == 1  # ROI 1, patch 1 (region-major)
    with pytest.raises(DataError, match="does not fit"):
        tok(torch.randn(2, 5, 34))


def test_region_time_masks_keep_their_structure() -> None:
    sampler = build_mask_sampler("roi_time", (48, 5))
    shares = []
    for step in range(20):
        m = sampler.sample(8, batch_generator(0, step))
        ctx, tgt = m.context.numpy(), m.targets[:, 0].numpy()
        for i in range(8):
            assert not set(ctx[i]) & set(tgt[i])
        shares.append(ctx.shape[1] / 240)
        regions_in_ctx = ctx // 5
        assert all(len(set(r)) < 48 for r in regions_in_ctx)  # alpha regions left the context
    assert 0.1 < float(np.mean(shares)) < 0.5  # the paper's ~27% context


def test_generated_label_lives_in_connectivity() -> None:
    from sklearn.linear_model import LogisticRegression

    cfg = FMRIDataConfig(train_size=160, test_size=80, regions=24, networks=4)
    tr, te = generate_subjects(cfg, 160, 0, "a"), generate_subjects(cfg, 80, 0, "b")
    assert tr.series.shape == (160, 24, 80) and np.isfinite(tr.series).all()
    np.testing.assert_allclose(tr.series.std(-1), 1.0, atol=1e-3)  # z-scored per region
    a, y = connectivity_features(ROIDataset(tr))
    b, yt = connectivity_features(ROIDataset(te))
    assert LogisticRegression(C=0.1, max_iter=2000).fit(a, y).score(b, yt) > 0.75
    level = lambda s: np.abs(s.series).mean(-1)  # noqa: E731  # amplitude per region: no label
    assert LogisticRegression(max_iter=2000).fit(level(tr), y).score(level(te), yt) < 0.7


def test_users_roi_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "s.npz", X=rng.standard_normal((20, 5, 40)), y=np.repeat(["hc", "pt"], 10))
    data = load_fmri_data(FMRIDataConfig(path=str(tmp_path / "s.npz")), 0)
    # stratified: 2 of each class's 10 subjects (round(2.5) = 2) are test subjects
    assert len(data["train"].labels) == 16 and data["test"].series.shape == (4, 5, 40)
    assert sorted(np.asarray(data["test"].labels).tolist()) == [0, 0, 1, 1]
    for cls in ("control", "patient"):
        (tmp_path / "csv" / cls).mkdir(parents=True)
        for k in range(4):
            table = rng.standard_normal((40, 5))
            header = "a,b,c,d,e\n" if k % 2 else ""
            (tmp_path / "csv" / cls / f"sub{k}.csv").write_text(
                header + "\n".join(",".join(f"{v:.3f}" for v in row) for row in table)
            )
    (tmp_path / "csv" / "control" / "._sub0.csv").write_bytes(b"\x00\x05\x16\x07")  # macOS
    (tmp_path / "csv" / "patient" / "run2").mkdir()  # deeper files keep their class folder
    np.save(tmp_path / "csv" / "patient" / "run2" / "sub9.npy", rng.standard_normal((40, 5)))
    data = load_fmri_data(FMRIDataConfig(path=str(tmp_path / "csv")), 0)
    assert sum(len(s.labels) for s in data.values()) == 9
    assert sorted(np.asarray(data["test"].labels).tolist()) == [0, 1]
    bad = rng.standard_normal((4, 5, 40))
    bad[1, 2, 3] = np.nan
    np.savez(tmp_path / "nan.npz", X=bad, y=np.arange(4) % 2)
    with pytest.raises(DataError, match="NaN"):
        load_fmri_data(FMRIDataConfig(path=str(tmp_path / "nan.npz")), 0)


def test_a_subject_of_another_shape_is_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for cls in ("control", "patient"):
        (tmp_path / cls).mkdir()
        for k in range(3):
            np.save(tmp_path / cls / f"sub{k}.npy", rng.standard_normal((40, 5)))
    np.save(tmp_path / "patient" / "sub1.npy", rng.standard_normal((40, 4)))  # a region short
    with pytest.raises(DataError, match=r"most are \(5, 40\), but patient/sub1.npy \(4, 40\)"):
        load_fmri_data(FMRIDataConfig(path=str(tmp_path)), 0)


def test_one_sample_is_too_few_whatever_the_batch_size() -> None:
    """It used to say 'lower train.batch_size', which cannot go below 2."""
    from omnijepa.train.data_order import check_batch_fits

    with pytest.raises(ConfigError, match="1 sample.*too few to train on"):
        check_batch_fits(1, 4)
    with pytest.raises(ConfigError, match="lower train.batch_size"):
        check_batch_fits(3, 4)


def test_train_brainjepa_on_a_users_npz(tmp_path: Path, tiny_overrides) -> None:  # noqa: ANN001
    from omnijepa.recipes import RECIPES
    from omnijepa.recipes.run import train_run

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "s.npz", X=rng.standard_normal((24, 6, 32)), y=np.arange(24) % 2)
    ov = tiny_overrides("brainjepa", f"data.path={tmp_path / 's.npz'}", "eval.few_shot=[]")
    res = train_run(RECIPES.get("brainjepa"), ov, tmp_path / "run")
    assert {"jepa", "random_init", "raw"} <= set(res["metrics"]["linear_probe"])
    assert "6 ROIs x 32 TRs" in res["data"]


def test_roi_series_that_cannot_give_connectivity_are_refused(tmp_path: Path) -> None:
    from omnijepa.data.fmri_data import read_roi_path
    from omnijepa.modalities.brain_gradients import diffusion_gradients, functional_connectivity

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 6, 40)), np.arange(8) % 2
    for name, bad, why in [("flat", np.ones_like(x), "every region's series is constant"),
                           ("huge", x * 1e200, "overflow")]:  # fmt: skip
        np.savez(tmp_path / f"{name}.npz", X=bad, y=y)
        with pytest.raises(DataError, match=f"{name}.npz.*{why}"):
            read_roi_path(tmp_path / f"{name}.npz")
    x[:, 2] = 0.0  # one empty parcel: a region with no connections still gets a position
    grads = diffusion_gradients(functional_connectivity(x), 3)
    assert grads.shape == (6, 3) and np.isfinite(grads).all()


def test_a_single_table_is_not_a_data_path(tmp_path: Path) -> None:
    from omnijepa.data.fmri_data import read_roi_path

    (tmp_path / "s0.csv").write_text("1,2\n3,4\n")
    with pytest.raises(DataError, match="s0.csv: give an .npz.*or a folder"):
        read_roi_path(tmp_path / "s0.csv")


def test_an_npz_saved_time_first_reads_with_data_layout(tmp_path: Path) -> None:
    """The orientation cannot be told from the shape, so it is a setting."""
    from omnijepa.data.fmri_data import FMRIDataConfig, read_roi_path

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 40, 5)), np.arange(6) % 2  # (subjects, time, regions)
    np.savez(tmp_path / "t.npz", X=x, y=y)
    rt, _, _ = read_roi_path(tmp_path / "t.npz", "time_regions")
    assert rt.shape == (6, 5, 40) and np.array_equal(rt[0], x[0].T)
    with pytest.warns(UserWarning, match=r"5 time points of 40 regions.*data.layout=time_regions"):
        assert read_roi_path(tmp_path / "t.npz")[0].shape == (6, 40, 5)  # the default layout
    with pytest.raises(ConfigError, match="data.layout"):
        FMRIDataConfig(layout="time_first")


def test_a_folder_of_subject_tables_saved_regions_first_is_said(tmp_path: Path) -> None:
    """The .npz path warned about this shape; the folder path read it without a word."""
    from omnijepa.data.fmri_data import read_roi_path

    rng = np.random.default_rng(0)
    for k in range(4):  # (regions 20, time 60): rows are regions, not time points
        folder = tmp_path / ("a", "b")[k % 2]
        folder.mkdir(exist_ok=True)
        np.savetxt(folder / f"s{k}.csv", rng.standard_normal((20, 60)), delimiter=",")
    with pytest.warns(UserWarning, match=r"20 time points of 60 regions; if the rows are"):
        assert read_roi_path(tmp_path)[0].shape == (4, 60, 20)


def test_a_grid_too_large_for_full_attention_on_cpu_is_one_error(tmp_path, capsys) -> None:  # noqa: ANN001
    from tests.test_cli import assert_one_line_error, run_cli

    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 200, 700)).astype(np.float32)  # 200 ROIs x 43 patches
    np.savez(tmp_path / "big.npz", X=x, y=np.array(["a", "b"] * 3))
    code, _, err = run_cli(capsys, "train", "brainjepa", f"data.path={tmp_path / 'big.npz'}",
                           "--out", tmp_path / "run")  # fmt: skip
    assert code == 2
    assert_one_line_error(err, "8600 tokens", "model.patch")


def test_subjects_scanned_for_different_lengths_share_the_shortest(tmp_path: Path) -> None:
    """A folder of subjects with scans of different lengths was refused; different regions
    still are."""
    from omnijepa.data.fmri_data import read_roi_folder

    rng = np.random.default_rng(0)
    for c in ("ctl", "pat"):
        (tmp_path / c).mkdir()
        for k, t in enumerate((60, 72, 64)):
            np.save(tmp_path / c / f"s{k}.npy", rng.standard_normal((t, 7)))  # (time, regions)
    with pytest.warns(UserWarning, match="scans last 60-72 time points; each keeps its first 60"):
        x, listing = read_roi_folder(tmp_path)
    assert x.shape == (6, 7, 60) and sorted(listing.labels.tolist()) == [0, 0, 0, 1, 1, 1]
    np.save(tmp_path / "ctl" / "s9.npy", rng.standard_normal((60, 5)))
    with pytest.raises(DataError, match="differ in shape"):
        read_roi_folder(tmp_path)
