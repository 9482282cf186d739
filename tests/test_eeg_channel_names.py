"""EEG channel names as recordings carry them: cleaned, bipolar pairs placed between their
electrodes, non-EEG channels dropped, and caps with their own naming (EGI nets, BioSemi banks,
BCI Competition IV 2a's numbers) placed by their own layouts."""

from __future__ import annotations

import numpy as np
import pytest

from omnijepa.data.biosemi_names import bank_names
from omnijepa.data.eeg_channels import clean_channel_name, place_channels
from omnijepa.errors import DataError
from omnijepa.modalities.eeg import electrode_positions


def test_channel_names_are_cleaned_bipolar_placed_and_non_eeg_dropped() -> None:
    assert clean_channel_name("EEG Fp1-REF") == "Fp1" and clean_channel_name("Fc5.") == "Fc5"
    names = ("EEG Fpz-Cz", "C3", "EOG horizontal", "STI 014", "Oz..")
    pos, keep, notes = place_channels(names, 5, "auto", "error")
    assert keep.tolist() == [0, 1, 4] and "EOG horizontal" in notes[0]
    fpz, cz = electrode_positions(["Fpz", "Cz"])
    np.testing.assert_allclose(pos[0], (fpz + cz) / 2)
    with pytest.raises(DataError, match="Q9.*unknown_channels=drop"):
        place_channels(("C3", "Q9"), 2, "auto", "error")
    pos, keep, notes = place_channels(("C3", "Q9"), 2, "auto", "drop")
    assert keep.tolist() == [0] and "Q9" in notes[0]
    with pytest.raises(DataError, match="3 channel names .* recordings of 7 channels"):
        place_channels(("C3", "C4", "Cz"), 7, "auto", "error")  # never a silent crop
    with pytest.raises(DataError, match="appear more than once"):
        place_channels(("C3", "C3", "C4"), 3, "auto", "error")


def test_channels_referenced_to_an_ear_or_a_common_electrode_sit_at_their_own() -> None:
    """``C3-M2`` (sleep and clinical EDF) sat midway between C3 and the right mastoid, near
    the middle of the head; ``Cz-CAR`` lost its ``AR`` and read ``Cz-C``."""
    c3, c4, fp1, f3 = electrode_positions(["C3", "C4", "Fp1", "F3"])
    names = ("C3-M2", "C4-A1", "E1-M2", "Chin1-Chin2", "Cz-CAR")
    pos, keep, notes = place_channels(names, 5, "auto", "error")
    assert keep.tolist() == [0, 1, 4]  # the AASM eye and chin channels are not EEG
    np.testing.assert_allclose(pos[:2], np.stack([c3, c4]))
    assert any("ear or mastoid" in n and "C3-M2, C4-A1" in n for n in notes)
    pos, _, notes = place_channels(("Fp1-Cz", "F3-Cz"), 2, "auto", "error")
    np.testing.assert_allclose(pos, np.stack([fp1, f3]))
    assert any("common reference" in n for n in notes)
    pos, _, _ = place_channels(("Fp1-F3", "F3-C3"), 2, "auto", "error")  # a bipolar chain
    np.testing.assert_allclose(pos[0], (fp1 + f3) / 2)
    _, _, notes = place_channels(("T3", "T7", "C3"), 3, "auto", "error")  # old and new names
    assert any("channels at one position: T3 and T7" in n for n in notes)


def test_egi_net_names_are_placed_by_the_gsn_montage() -> None:
    """``E1 … E128`` (EGI's Geodesic nets) matched no montage read by 10-20 names, and the
    error called them BioSemi bank names."""
    names = (*(f"E{k}" for k in range(1, 129)), "VREF", "ECG")
    pos, keep, notes = place_channels(names, 130, "auto", "error")
    assert keep.tolist() == list(range(129)) and any("GSN-HydroCel-129" in n for n in notes)
    assert np.allclose(pos[4], electrode_positions(["E5"], "GSN-HydroCel-129")[0])
    assert np.allclose(pos[128], electrode_positions(["Cz"], "GSN-HydroCel-129")[0])
    assert len({tuple(p) for p in pos.round(6)}) == 129
    small, _, notes = place_channels(tuple(f"E{k}" for k in range(1, 33)), 32, "auto", "error")
    assert any("GSN-HydroCel-32" in n for n in notes) and len(small) == 32


def test_biosemi_bank_names_are_placed_by_their_cap_not_on_the_ears() -> None:
    names = (*bank_names(64), "EXG1", "EXG2", "Status")
    pos, keep, notes = place_channels(names, 67, "auto", "error")
    assert keep.tolist() == list(range(64)) and any("biosemi64" in n for n in notes)
    assert np.allclose(pos[:3], electrode_positions(["Fp1", "AF7", "AF3"], "biosemi64"))
    assert len({tuple(p) for p in pos.round(6)}) == 64
    shuffled = tuple(reversed(bank_names(32)))  # any order: each name keeps its place
    pos32, _, _ = place_channels(shuffled, 32, "auto", "error")
    assert np.allclose(pos32[-1], electrode_positions(["Fp1"], "biosemi32")[0])
    big, _, _ = place_channels(tuple(bank_names(128)), 128, "auto", "error")
    assert np.allclose(big[5], electrode_positions(["A6"], "biosemi128")[0])
    # ear references beside 10-20 names stay the 10-20 system's A1 / A2
    pos, keep, notes = place_channels(("C3", "C4", "A1", "A2"), 4, "auto", "error")
    assert np.allclose(pos[2], electrode_positions(["A1"])[0]) and len(notes) == 0
    with pytest.raises(DataError, match="numbered channels.*data.ch_names"):  # too few named
        place_channels(("EEG-Fz", "EEG-0", "EEG-1", "EEG-C3", "EEG-2"), 5, "auto", "error")
    with pytest.raises(DataError, match="BioSemi bank names"):  # not a whole cap
        place_channels((*bank_names(63), "B33"), 64, "auto", "error")


BCI_IV_2A_GDF = (
    "EEG-Fz", "EEG-0", "EEG-1", "EEG-2", "EEG-3", "EEG-4", "EEG-5", "EEG-C3", "EEG-6", "EEG-Cz",
    "EEG-7", "EEG-C4", "EEG-8", "EEG-9", "EEG-10", "EEG-11", "EEG-12", "EEG-13", "EEG-14",
    "EEG-Pz", "EEG-15", "EEG-16", "EOG-left", "EOG-central", "EOG-right",
)  # fmt: skip
BCI_IV_2A_1020 = (
    "Fz FC3 FC1 FCz FC2 FC4 C5 C3 C1 Cz C2 C4 C6 CP3 CP1 CPz CP2 CP4 P1 Pz P2 POz".split()
)


def test_bci_iv_2a_numbered_channels_are_placed_by_that_dataset_montage() -> None:
    pos, keep, notes = place_channels(BCI_IV_2A_GDF, 25, "auto", "error")
    assert keep.tolist() == list(range(22)) and any("BCI Competition IV 2a" in n for n in notes)
    np.testing.assert_allclose(pos, electrode_positions(BCI_IV_2A_1020))
    # each number keeps its electrode in any order, or in a subset of the channels
    order = [19, 3, 11, 9, 0, 21, 14]
    pos, _, _ = place_channels(tuple(BCI_IV_2A_GDF[i] for i in order), 7, "auto", "error")
    np.testing.assert_allclose(pos, electrode_positions([BCI_IV_2A_1020[i] for i in order]))
    # numbers beyond 2a's 0-16, or beside other named electrodes, are not taken for it
    with pytest.raises(DataError, match="numbered channels"):
        place_channels(("Fz", "Cz", "Pz", "0", "17", "18"), 6, "auto", "error")
    with pytest.raises(DataError, match="not found"):
        place_channels(("Fz", "Cz", "Pz", "O1", "0", "1"), 6, "auto", "error")
