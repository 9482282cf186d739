"""Audio: the log-mel front end against a known sine, stripes and the curriculum, padded
clips, log-mel augmentation, and folders of recordings (good and bad files)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from omnijepa.data.audio_data import AudioDataConfig, load_audio_data, read_audio
from omnijepa.errors import DataError
from omnijepa.masks import batch_generator, build_mask_sampler
from omnijepa.masks.stripes import stripe_probability
from omnijepa.modalities.audio import (
    FrontEndConfig,
    SpectrogramTokenizer,
    hz_to_mel,
    log_mel,
    mel_to_hz,
    pad_frames,
)
from omnijepa.modalities.audio_augment import AudioAugmentConfig, LogMelAugment
from omnijepa.nn.encoder import TokenEncoder


def band_centres(cfg: FrontEndConfig) -> torch.Tensor:
    mels = torch.linspace(
        float(hz_to_mel(torch.tensor(cfg.fmin))), float(hz_to_mel(torch.tensor(cfg.top))),
        cfg.n_mels + 2,
    )  # fmt: skip
    return mel_to_hz(mels)[1:-1]


@pytest.mark.parametrize("hz", [440.0, 1000.0, 3000.0])
def test_sine_peaks_in_the_band_of_its_frequency(hz: float) -> None:
    cfg = FrontEndConfig()
    t = torch.arange(cfg.sample_rate) / cfg.sample_rate
    spec = log_mel(torch.sin(2 * math.pi * hz * t), cfg)
    assert spec.shape == (cfg.frames(cfg.sample_rate), cfg.n_mels)
    peak = int(spec[5:-5].mean(0).argmax())
    nearest = int((band_centres(cfg) - hz).abs().argmin())
    assert abs(peak - nearest) <= 1, (peak, nearest)
    # an octave up moves the peak up
    higher = log_mel(torch.sin(2 * math.pi * 2 * hz * t), cfg)
    assert int(higher[5:-5].mean(0).argmax()) > peak


def test_short_clips_are_padding_tokens_and_do_not_change_real_ones() -> None:
    tok = SpectrogramTokenizer(16, 8, 4, 4, 16)
    enc = TokenEncoder(tok, 1, 2).eval()
    clip = torch.randn(6, 8)
    batch = torch.stack([pad_frames(clip, 16), pad_frames(torch.randn(16, 8), 16)])
    pad = tok.padding(batch)
    # frames 0-5 real: time patches 0 and 1 (frames 0-7) are real, 2 and 3 are padding
    assert pad[0].view(4, 2).tolist() == [[False] * 2, [False] * 2, [True] * 2, [True] * 2]
    assert not pad[1].any()
    with torch.no_grad():
        together = enc(batch)[0][~pad[0]]
        alone = enc(pad_frames(clip, 16)[None])[0][~pad[0]]
    torch.testing.assert_close(together, alone)


def test_stripes_span_whole_rows_or_columns() -> None:
    sampler = build_mask_sampler("stripes", (12, 8))
    seen = set()
    for k in range(20):
        masks = sampler.sample(4, batch_generator(0, k))
        cells = np.arange(96).reshape(12, 8)
        for tgt in masks.targets.reshape(-1, masks.targets.shape[-1]):
            rows = {int(i) // 8 for i in tgt}
            cols = {int(i) % 8 for i in tgt}
            time_stripe = len(cols) == 8 and len(tgt) == 8 * len(rows)
            band = len(rows) == 12 and len(tgt) == 12 * len(cols)
            assert time_stripe or band, sorted(tgt.tolist())
            seen.add("time" if time_stripe else "freq")
            assert set(cells[sorted(rows)][:, sorted(cols)].reshape(-1)) == set(tgt.tolist())
    assert seen == {"time", "freq"}


def test_curriculum_moves_from_blocks_to_stripes() -> None:
    assert stripe_probability(0.0, 0.01) == pytest.approx(0.01)
    assert stripe_probability(1.0, 0.01) == 1.0
    assert stripe_probability(0.25, 0.01) == pytest.approx(0.5, abs=0.01)
    sampler = build_mask_sampler("tf_curriculum", (12, 8))

    def stripes_share(progress: float) -> float:
        n = [sampler.sample(2, batch_generator(1, k), progress=progress).targets.shape[1] == 3
             for k in range(200)]  # fmt: skip
        return sum(n) / len(n)

    assert stripes_share(0.0) < 0.05 and stripes_share(1.0) == 1.0
    assert 0.55 < stripes_share(0.5) < 0.85  # sqrt(0.5) = 0.71


def test_augment_shifts_gain_and_keeps_padding() -> None:
    fe = FrontEndConfig(n_mels=16)
    x = pad_frames(torch.randn(10, 16), 16)[None].repeat(4, 1, 1)
    quiet = LogMelAugment(AudioAugmentConfig(gain_db=6.0, noise_p=0.0), fe, -3.0, 2.0)
    out, coords = quiet(x, torch.Generator().manual_seed(0))
    assert coords is None and torch.isnan(out[:, 10:]).all() and not torch.isnan(out[:, :10]).any()
    shift = (out - x)[:, :10]
    assert torch.allclose(shift, shift[:, :1, :1], atol=1e-5)  # one constant per clip
    assert shift.abs().max() <= 6 * math.log(10) / 10 / 2.0 + 1e-5
    noisy = LogMelAugment(AudioAugmentConfig(gain_db=0.0, noise_p=1.0), fe, -3.0, 2.0)
    out, _ = noisy(x, torch.Generator().manual_seed(0))
    assert (out[:, :10] >= x[:, :10] - 1e-5).all()  # noise only adds power


def write_wav(path: Path, seconds: float, hz: float, rate: int = 22050) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    sf.write(str(path), 0.3 * np.sin(2 * np.pi * hz * t), rate)


def test_folder_of_recordings_loads_resampled_and_split_by_class(tmp_path: Path) -> None:
    for c, hz in (("low", 300.0), ("high", 2500.0)):
        for i in range(4):
            write_wav(tmp_path / c / f"{i}.wav", 0.4 + 0.2 * i, hz)
    cfg = AudioDataConfig(path=str(tmp_path), test_fraction=0.25)
    data = load_audio_data(cfg, seed=0)
    assert data.class_names == ["high", "low"]
    assert len(data.train.specs) == 6 and len(data.test.specs) == 2
    assert sorted(data.test.labels.tolist()) == [0, 1]
    frames = {len(s) for s in data.train.specs + data.test.specs}
    assert frames == {cfg.front_end.frames(int(s * 16000)) for s in (0.4, 0.6, 0.8, 1.0)}
    sf.write(str(tmp_path / "low" / "quiet.wav"), np.zeros(8000), 16000)
    with pytest.warns(UserWarning, match="1 of 9 clip.*silent.*quiet.wav"):
        load_audio_data(cfg, seed=0)


@pytest.mark.parametrize("kind", ["corrupt", "empty", "short"])
def test_a_bad_recording_is_one_error_naming_it(tmp_path: Path, kind: str) -> None:
    bad = tmp_path / "bad.wav"
    if kind == "corrupt":
        bad.write_bytes(b"RIFF....WAVEnot really audio")
    elif kind == "empty":
        sf.write(str(bad), np.zeros(0), 16000)
    else:
        write_wav(bad, 0.01, 440.0)
    with pytest.raises(DataError, match="bad.wav"):
        read_audio(bad, 16000, min_seconds=0.05)


def test_a_wav_cut_off_mid_data_is_read_with_a_warning(tmp_path: Path) -> None:
    """libsndfile reads the part that is there without a word; the header says more."""
    import warnings

    from omnijepa.data.wav_header import missing_share

    whole = tmp_path / "whole.wav"
    sf.write(str(whole), 0.1 * np.sin(np.arange(16000) / 5.0), 16000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    data = whole.read_bytes()
    cut.write_bytes(data[: 44 + 8000])  # the 44-byte header, then a quarter of the samples
    with pytest.warns(UserWarning, match=r"cut.wav: its header declares more .*75% of it"):
        wave = read_audio(cut, 16000, min_seconds=0.05)
    assert len(wave) == 4000
    assert missing_share(cut) == pytest.approx(0.75)
    cut.write_bytes(data[:-2])  # one sample short: a share that rounds to 0 % is not "0 %"
    with pytest.warns(UserWarning, match="under 1% of it missing"):
        read_audio(cut, 16000, min_seconds=0.05)
    cut.write_bytes(data[:46])  # one sample left: the too-short error alone, no warning first
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError, match="shorter than data.min_seconds"):
            read_audio(cut, 16000, min_seconds=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_audio(whole, 16000, min_seconds=0.05)  # whole: no warning
    streamed = tmp_path / "streamed.wav"  # a writer that never knew the length
    streamed.write_bytes(data[:40] + (0xFFFFFFFF).to_bytes(4, "little") + data[44:])
    assert missing_share(whole) is None and missing_share(streamed) is None
    rf64 = tmp_path / "rf64.wav"  # the 64-bit size lives in the ds64 chunk
    sf.write(str(rf64), np.zeros(16000), 16000, format="RF64", subtype="PCM_16")
    rf64.write_bytes(rf64.read_bytes()[: rf64.stat().st_size - 16000])
    assert missing_share(rf64) == pytest.approx(0.5, abs=0.01)
    flac = tmp_path / "x.flac"
    sf.write(str(flac), np.zeros(1600), 16000)
    assert missing_share(flac) is None


def test_train_on_a_folder_of_recordings(tmp_path: Path, tiny_overrides) -> None:  # noqa: ANN001
    from omnijepa.recipes import RECIPES
    from omnijepa.recipes.run import train_run

    rng = np.random.default_rng(0)
    for c, hz in (("low", 300.0), ("high", 2500.0)):
        for i in range(12):
            write_wav(
                tmp_path / "rec" / c / f"{i}.wav", rng.uniform(0.3, 1.2), hz * rng.uniform(0.9, 1.1)
            )
    ov = tiny_overrides("ajepa", f"data.path={tmp_path / 'rec'}", "eval.few_shot=[]")
    res = train_run(RECIPES.get("ajepa"), ov, tmp_path / "run")
    lp = res["metrics"]["linear_probe"]
    assert {"jepa", "random_init", "raw"} <= set(lp)
    assert "folder" in res["data"] and "speaker" not in res["metrics"]  # no speakers in folders


def test_regularized_masking_bars_keys_but_not_queries() -> None:
    from omnijepa.eval.finetune import barred_keys

    pad = torch.tensor([[False] * 6 + [True] * 4, [False] * 10])
    barred = barred_keys(pad, (2, 10), 0.5, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert barred.sum(1).tolist() == [3, 5] and not (barred & pad).any()
    tok = SpectrogramTokenizer(16, 8, 4, 4, 16)
    enc = TokenEncoder(tok, 1, 2).eval()
    x = torch.randn(2, 16, 8)
    plain, regular = enc(x), enc(x, barred=torch.zeros(2, 8, dtype=torch.bool))
    torch.testing.assert_close(plain, regular)
    some = torch.zeros(2, 8, dtype=torch.bool)
    some[:, 0] = True
    out = enc(x, barred=some)
    assert out.shape == plain.shape and not torch.allclose(out[:, 1:], plain[:, 1:])
