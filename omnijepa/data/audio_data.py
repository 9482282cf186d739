"""Audio clips as log-mel spectrograms: spoken words synthesised offline, or any user folder.

Built-in ``spoken_words``: the 10 digits and 10 command words spoken by espeak-ng (the Debian
``espeak-ng`` program) in several English accents, voice variants, speeds and pitches,
synthesised once and cached (``data.cache_dir``, default ``~/.cache/omnijepa``). The split is
**by voice**: the test voices (variants m6, m7, f4, f5 in every accent) are never heard in
training. Labels are the words; ``speakers`` (accent + variant) are kept for speaker probes.

``data.path=DIR`` reads ``.wav``/``.flac``/``.ogg``/``.mp3``/``.aiff`` files through soundfile,
mixed to mono and resampled to the front end's rate with ``scipy.signal.resample_poly``; one
sub-folder per class (or a flat folder: unlabelled, label -1); ``test_fraction`` of each class
is held out. A corrupt, empty or too-short file is one error naming it.

Every clip becomes a log-mel spectrogram (``modalities.audio``). A clip longer than the
model's window is centre-cropped (``long_clips=crop``) or refused (``long_clips=error``);
a shorter one is padded with NaN frames, which the tokenizer reads as padding.
"""

from __future__ import annotations

import io
import math
import os
import subprocess
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from omnijepa.data.class_folders import list_class_folder
from omnijepa.data.image_data import derived_rng
from omnijepa.data.npz_cache import cached_arrays
from omnijepa.data.wav_header import missing_share
from omnijepa.errors import ConfigError, DataError
from omnijepa.modalities.audio import FrontEndConfig, log_mel, pad_frames

WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
)  # fmt: skip
TRAIN_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "f1", "f2", "f3")
TEST_VARIANTS = ("m6", "m7", "f4", "f5")
SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


@dataclass
class AudioDataConfig:
    """What audio to load (``path`` overrides the built-in ``name``) and how to cut it."""

    name: str = "spoken_words"
    path: str | None = None
    front_end: FrontEndConfig = field(default_factory=FrontEndConfig)
    clip_seconds: float = 0.64  # the model's window (64 frames at the default hop)
    long_clips: str = "crop"  # crop (centre) | error
    min_seconds: float = 0.05  # shorter files are an error
    test_fraction: float = 0.25  # folders: share of each class held out
    # built-in spoken words
    accents: tuple[str, ...] = ("en-us", "en-gb", "en-gb-scotland", "en-029")
    speeds: tuple[int, ...] = (140, 180)
    pitches: tuple[int, ...] = (35, 65)
    cache_dir: str = ""  # "" = $OMNIJEPA_CACHE or ~/.cache/omnijepa

    def __post_init__(self) -> None:
        if self.long_clips not in ("crop", "error"):
            raise ConfigError(f"data.long_clips must be crop or error, got {self.long_clips!r}")
        if self.clip_seconds <= 0 or self.min_seconds < 0:
            raise ConfigError("data.clip_seconds must be > 0 and data.min_seconds >= 0")
        if not 0.0 < self.test_fraction < 1.0:
            raise ConfigError(f"data.test_fraction must be in (0, 1), got {self.test_fraction}")
        if not (self.accents and self.speeds and self.pitches):
            raise ConfigError("data.accents, data.speeds and data.pitches must not be empty")


@dataclass
class AudioSplit:
    """Log-mel spectrograms (list of (T_i, F)), labels (-1 = unlabelled), speaker ids and the
    name of every clip (its file, or word/voice for the built-in words)."""

    specs: list[torch.Tensor]
    labels: torch.Tensor
    speakers: torch.Tensor
    names: list[str]


@dataclass
class AudioData:
    train: AudioSplit
    test: AudioSplit
    class_names: list[str]
    speaker_names: list[str]
    source: str


def resample(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``wave`` at ``rate`` Hz resampled to ``target`` Hz (polyphase, scipy)."""
    if rate == target:
        return wave
    from scipy.signal import resample_poly

    g = math.gcd(rate, target)
    return resample_poly(wave, target // g, rate // g).astype(np.float32)


def read_audio(path: Path, target_rate: int, min_seconds: float) -> np.ndarray:
    """Mono float32 waveform of ``path`` at ``target_rate``; DataError naming a bad file."""
    import soundfile as sf

    try:
        wave, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, OSError, ValueError) as exc:
        raise DataError(f"cannot read audio file {path}: {str(exc).splitlines()[0]}") from None
    if wave.size == 0:
        raise DataError(f"audio file {path} is empty")
    wave = wave.mean(axis=1)
    if not np.isfinite(wave).all():
        raise DataError(f"audio file {path} holds NaN or infinite samples")
    if len(wave) < min_seconds * rate:
        raise DataError(
            f"audio file {path} is {len(wave) / rate:.3f} s long, shorter than data.min_seconds"
            f"={min_seconds}"
        )
    missing = missing_share(path) if path.suffix.lower() == ".wav" else None
    if missing:
        share = "under 1%" if missing < 0.01 else "over 99%" if missing > 0.99 else f"{missing:.0%}"
        warnings.warn(
            f"{path}: its header declares more audio than the file holds ({share} of it "
            f"missing: cut off while copying or writing?); reading the {len(wave) / rate:.3g} s "
            "that are there",
            stacklevel=2,
        )
    return resample(wave, int(rate), target_rate)


def _synthesise(word: str, voice: str, speed: int, pitch: int) -> tuple[np.ndarray, int]:
    import soundfile as sf

    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word]
    try:
        out = subprocess.run(cmd, capture_output=True, check=True, timeout=60).stdout
    except FileNotFoundError:
        raise DataError(
            "the built-in spoken words need the espeak-ng program (Debian: apt-get install "
            "espeak-ng); or give your own recordings with data.path=DIR"
        ) from None
    except subprocess.CalledProcessError as exc:
        msg = exc.stderr.decode()[:200]
        raise DataError(f"espeak-ng failed for voice {voice!r}: {msg}") from None
    wave, rate = sf.read(io.BytesIO(out), dtype="float32")
    return wave, int(rate)


def spoken_words(cfg: AudioDataConfig) -> tuple[list[np.ndarray], list[tuple[int, str, bool]]]:
    """Waveforms at the front end's rate and (word, speaker, is_test) for every utterance,
    synthesised with espeak-ng on first use and cached as one .npz per configuration."""
    rate = cfg.front_end.sample_rate
    variants = TRAIN_VARIANTS + TEST_VARIANTS
    jobs = [
        (w, f"{accent}+{v}", s, p)
        for accent in cfg.accents for v in variants
        for s in cfg.speeds for p in cfg.pitches for w in range(len(WORDS))
    ]  # fmt: skip

    def build() -> dict[str, np.ndarray]:
        with ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2))) as pool:
            results = list(
                tqdm(
                    pool.map(lambda j: _synthesise(WORDS[j[0]], j[1], j[2], j[3]), jobs),
                    total=len(jobs),
                    desc="espeak-ng",
                    disable=None,
                )
            )
        waves = [resample(w, r, rate) for w, r in results]
        samples = np.concatenate(waves).astype(np.float16)  # half the disk; ample for speech
        return {"samples": samples, "ends": np.cumsum([len(w) for w in waves])}

    z = cached_arrays("spoken_words", (jobs, rate, WORDS), build, ("samples", "ends"),
                      cfg.cache_dir)  # fmt: skip
    waves = np.split(z["samples"].astype(np.float32), z["ends"][:-1])
    meta = [(w, voice, voice.rsplit("+", 1)[1] in TEST_VARIANTS) for w, voice, _, _ in jobs]
    return waves, meta


def _spectrograms(waves: list[np.ndarray], cfg: FrontEndConfig) -> list[torch.Tensor]:
    return [
        log_mel(torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)), cfg) for w in waves
    ]


def load_audio_data(cfg: AudioDataConfig, seed: int) -> AudioData:
    """Log-mel spectrograms of the built-in words or of ``cfg.path``, split into train/test."""
    if cfg.path:
        listing = list_class_folder(Path(cfg.path), SUFFIXES, "audio")
        files, classes = listing.files, listing.classes
        rate = cfg.front_end.sample_rate
        waves = [
            read_audio(f, rate, cfg.min_seconds) for f in tqdm(files, desc="audio", disable=None)
        ]
        silent = [f.name for f, w in zip(files, waves) if not np.any(w)]
        if silent:  # a folder of silence trains, but its features can say nothing
            warnings.warn(f"{cfg.path}: {len(silent)} of {len(files)} clip(s) are silent (all "
                          f"zeros), e.g. {silent[0]}", stacklevel=2)  # fmt: skip
        lab = listing.labels
        test = np.zeros(len(lab), dtype=bool)
        test[listing.split(cfg.test_fraction, derived_rng(seed, "audio_split"))[1]] = True
        speakers = np.full(len(lab), -1)
        speaker_names: list[str] = []
        names = [str(f) for f in files]
        source = f"audio folder {cfg.path}: {listing.described}"
    else:
        if cfg.name != "spoken_words":
            raise ConfigError(f"unknown audio data {cfg.name!r}; use spoken_words or data.path")
        waves, meta = spoken_words(cfg)
        classes = list(WORDS)
        lab = np.array([w for w, _, _ in meta])
        speaker_names = sorted({v for _, v, _ in meta})
        speakers = np.array([speaker_names.index(v) for _, v, _ in meta])
        test = np.array([t for _, _, t in meta])
        names = [f"{WORDS[w]}/{v}" for w, v, _ in meta]
        source = (
            f"spoken words (espeak-ng): {len(WORDS)} words, {len(speaker_names)} voices "
            f"({len(cfg.accents)} accents), test voices never heard in training"
        )
    specs = _spectrograms(waves, cfg.front_end)

    def split(mask: np.ndarray) -> AudioSplit:
        idx = np.flatnonzero(mask)
        return AudioSplit(
            [specs[i] for i in idx],
            torch.as_tensor(lab[idx]),
            torch.as_tensor(speakers[idx]),
            [names[i] for i in idx],
        )

    train, test_split = split(~test), split(test)
    return AudioData(
        train, test_split, classes, speaker_names,
        f"{source}; train/test {len(train.specs)}/{len(test_split.specs)}",
    )  # fmt: skip


class SpectrogramDataset(Dataset):
    """Normalised ``(frames, F)`` spectrograms (centre-cropped or NaN-padded) and labels."""

    def __init__(
        self, split: AudioSplit, frames: int, mean: float, std: float, long_clips: str = "crop"
    ) -> None:
        self.split, self.frames, self.mean, self.std = split, frames, mean, std
        if long_clips == "error":
            for name, s in zip(split.names, split.specs):
                if len(s) > frames:
                    raise DataError(
                        f"{name} has {len(s)} frames, more than the {frames} of the model's "
                        "window (data.long_clips=error); raise data.clip_seconds or crop"
                    )

    def __len__(self) -> int:
        return len(self.split.specs)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        spec = self.split.specs[i]
        if len(spec) > self.frames:
            start = (len(spec) - self.frames) // 2
            spec = spec[start : start + self.frames]
        x = (pad_frames(spec, self.frames) - self.mean) / self.std
        return x, int(self.split.labels[i])


def band_statistics(split: AudioSplit) -> tuple[float, float]:
    """Mean and std of every log-mel value of ``split`` (the training split's normalisation)."""
    flat = torch.cat([s.reshape(-1) for s in split.specs])
    return float(flat.mean()), float(flat.std().clamp_min(1e-6))
