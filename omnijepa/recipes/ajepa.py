"""A-JEPA (Fei, Fan, Huang 2023, arXiv 2311.15830): I-JEPA on log-mel spectrogram patches with
a masking curriculum from random blocks to time-frequency stripes.

No official code exists; this is built from the paper (notes: shared/papers, A-JEPA §1). The
front end is AudioMAE's (25 ms / 10 ms log-mel, fixed sin-cos positions on the (time, freq)
patch grid); masks are chosen per batch between I-JEPA multi-block targets (4 of 15-20%) and
3 time or frequency stripes (5-7.5%), stripes becoming likelier with training progress along
a square-root competence curve (``masks.stripes``); L2 loss on layer-normed EMA targets.
CPU-sized: ViT 128 x 4, predictor 64 x 1, 64 frames x 64 bands in 8 x 8 patches (64 tokens).
As in every EMA recipe here, the EMA schedule is fitted to the run length and a VICReg
variance-covariance term on the pooled context keeps the faster teacher from collapsing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from omnijepa.data.audio_data import (
    AudioDataConfig,
    AudioSplit,
    SpectrogramDataset,
    band_statistics,
    load_audio_data,
)
from omnijepa.errors import ConfigError
from omnijepa.eval.feature_export import name_rows
from omnijepa.eval.finetune import finetune_accuracy
from omnijepa.eval.frozen_probes import ProbeConfig
from omnijepa.eval.learning_curve import make_curve_probe
from omnijepa.eval.mask_figure import draw_image_masks
from omnijepa.eval.protocol import evaluate_against_twin
from omnijepa.masks.collator import MaskCollator, batch_generator
from omnijepa.masks.mask_batch import MaskSampler
from omnijepa.masks.multiblock import MultiBlockMaskSampler
from omnijepa.masks.stripes import CurriculumConfig, CurriculumMaskSampler, StripesMaskSampler
from omnijepa.modalities.audio import SpectrogramTokenizer
from omnijepa.modalities.audio_augment import AudioAugmentConfig, LogMelAugment
from omnijepa.objectives.collapse_penalty import AntiCollapseConfig
from omnijepa.objectives.latent_prediction import LatentPrediction
from omnijepa.objectives.teacher import TeacherConfig
from omnijepa.recipes.base import Built, Recipe
from omnijepa.recipes.model_configs import EncoderConfig, PredictorConfig, build_token_jepa
from omnijepa.recipes.paired_checks import non_inferiority_judge
from omnijepa.recipes.repro_runs import run_latent_repro
from omnijepa.registry import Registry
from omnijepa.train.config import TrainConfig
from omnijepa.train.trainer import TrainParts


@dataclass
class AudioModelConfig(EncoderConfig):
    """Spectrogram patches (``patch_time`` frames x ``patch_freq`` bands) and the encoder."""

    patch_time: int = 8
    patch_freq: int = 8


@dataclass
class AudioMaskConfig(CurriculumConfig):
    """``kind``: curriculum (the paper) | blocks (multi-block only) | stripes (stripes only);
    ``block`` / ``stripes`` / ``c0`` as in :class:`CurriculumConfig`."""

    kind: str = "curriculum"


# mask kind -> sampler on the (time, freq) patch grid
MASK_KINDS: Registry[Callable[[tuple[int, int], AudioMaskConfig], MaskSampler]] = Registry(
    "audio mask kind"
)
MASK_KINDS.add("curriculum", lambda grid, m: CurriculumMaskSampler(grid, m))
MASK_KINDS.add("blocks", lambda grid, m: MultiBlockMaskSampler(grid, m.block))
MASK_KINDS.add("stripes", lambda grid, m: StripesMaskSampler(grid, m.stripes))


@dataclass
class AJEPAEvalConfig(ProbeConfig):
    """The shared protocol on word identity; ``speaker`` adds a speaker-identity probe
    trained on half the words and tested on the other half (built-in data);
    ``finetune_epochs`` > 0 fine-tunes encoder + linear head on mean-pooled tokens, with the
    paper's regularized masking (``finetune_key_drop`` of the tokens barred as attention keys
    in every layer) and without it, for the trained encoder and with it for the twin."""

    speaker: bool = True
    finetune_epochs: int = 0
    finetune_lr: float = 5e-4
    finetune_key_drop: float = 0.1


@dataclass
class AJEPAConfig:
    """All keys of the ``ajepa`` recipe."""

    seed: int = 0
    device: str = "auto"
    data: AudioDataConfig = field(default_factory=AudioDataConfig)
    model: AudioModelConfig = field(default_factory=AudioModelConfig)
    predictor: PredictorConfig = field(default_factory=PredictorConfig)
    mask: AudioMaskConfig = field(default_factory=AudioMaskConfig)
    augment: AudioAugmentConfig = field(default_factory=AudioAugmentConfig)
    loss: str = "l2"  # the paper's mean L2
    ema: TeacherConfig = field(default_factory=TeacherConfig)
    anti_collapse: AntiCollapseConfig = field(
        default_factory=lambda: AntiCollapseConfig(kind="vc", weight=1.0)
    )
    train: TrainConfig = field(
        # 400 steps of 32: as cheap as 200 of 64 and +6 points (seed 0); 300 of 64 matches it
        default_factory=lambda: TrainConfig(steps=400, batch_size=32, probe_every=100)
    )
    eval: AJEPAEvalConfig = field(default_factory=AJEPAEvalConfig)
    position_probe: bool = False  # diagnostic predictor that sees only the target positions


def frames_of(cfg: AJEPAConfig) -> int:
    """Frames of the model's window: the clip length cut down to whole time patches."""
    frames = cfg.data.front_end.frames(
        int(round(cfg.data.clip_seconds * cfg.data.front_end.sample_rate))
    )
    frames -= frames % cfg.model.patch_time
    if frames < cfg.model.patch_time:
        raise ConfigError(
            f"data.clip_seconds={cfg.data.clip_seconds} is shorter than one time patch of "
            f"{cfg.model.patch_time} frames"
        )
    return frames


def build_tokenizer(cfg: AJEPAConfig) -> SpectrogramTokenizer:
    m = cfg.model
    return SpectrogramTokenizer(
        frames_of(cfg), cfg.data.front_end.n_mels, m.patch_time, m.patch_freq, m.dim
    )


def build_objective(cfg: AJEPAConfig) -> LatentPrediction:
    """Tokenizer, encoder, predictor and EMA target (deterministic given ``cfg.seed``)."""
    torch.manual_seed(cfg.seed)
    return build_token_jepa(build_tokenizer(cfg), cfg)


def build_sampler(cfg: AJEPAConfig) -> MaskSampler:
    return MASK_KINDS.get(cfg.mask.kind)(build_tokenizer(cfg).grid, cfg.mask)


def band_feature_dataset(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The raw baseline: mean and std of every band over a clip's real frames."""
    xs, ys = [], []
    for i in range(len(ds)):  # type: ignore[arg-type]
        x, y = ds[i]
        real = x[~torch.isnan(x).all(dim=1)]
        xs.append(torch.cat([real.mean(0), real.std(0, unbiased=False)]))
        ys.append(y)
    return torch.stack(xs).numpy(), np.asarray(ys)


class _Relabelled(Dataset):
    """``base`` with the labels replaced (speaker ids instead of words)."""

    def __init__(self, base: Dataset, rows: np.ndarray, labels: np.ndarray) -> None:
        self.base, self.rows, self.labels = base, rows, labels

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.base[int(self.rows[i])][0], int(self.labels[i])


def speaker_split(ds: Dataset, split: AudioSplit) -> tuple[Dataset, Dataset] | None:
    """Speaker identity: train on the utterances of the first half of the words, test on the
    rest (the same voices saying words the probe never heard them say); None if unknown."""
    spk, words = split.speakers.numpy(), split.labels.numpy()
    if (spk < 0).any() or len(np.unique(words)) < 2:
        return None
    cut = np.median(np.unique(words))
    tr, te = np.flatnonzero(words <= cut), np.flatnonzero(words > cut)
    return _Relabelled(ds, tr, spk[tr]), _Relabelled(ds, te, spk[te])


def finetune_arms(
    trained: nn.Module,
    twin: nn.Module,
    cfg: AJEPAConfig,
    device: torch.device,
    train: Dataset,
    test: Dataset,
    classes: int,
) -> dict[str, float]:
    """Fine-tuned word accuracy: trained encoder with and without regularized masking, and
    the random-init twin with it."""
    e = cfg.eval
    arms = {"jepa_rm": (trained, e.finetune_key_drop), "jepa_plain": (trained, 0.0),
            "random_init_rm": (twin, e.finetune_key_drop)}  # fmt: skip
    return {
        name: finetune_accuracy(
            enc,
            train,
            test,
            classes,
            device,
            e.finetune_epochs,
            e.finetune_lr,
            seed=cfg.seed,
            pool="mean",
            head="linear",
            key_drop=drop,
        )  # fmt: skip
        for name, (enc, drop) in arms.items()
    }


# The paper's masking ablation (curriculum 48.6 vs random blocks 47.8 mAP): a +0.8 gain is
# below the seed noise here, so the check is non-inferiority: the curriculum is not worse than
# blocks only by more than 2 points (paired over seeds); stripes only is reported.
judge_masking = non_inferiority_judge({"blocks_only": 0.02}, "curriculum")


class AJEPARecipe(Recipe):
    name = "ajepa"
    summary = "A-JEPA: log-mel patches, block -> time-frequency stripe curriculum (Fei et al. 2023)"
    claim = (
        "frozen A-JEPA features (curriculum masks) beat the same ViT at its random-init weights "
        "by >= 5 points of linear-probe word accuracy on voices never heard in training "
        "(paired over seeds, p < 0.05)"
    )
    reference = {
        "audioset_2m_map": {"A-JEPA ViT-B": 48.6, "AudioMAE ViT-B": 47.3},
        "speech_commands_v2_acc": {"A-JEPA ViT-B": 98.5},
        "ablation_audioset_2m_map": {"curriculum": 48.6, "random-block only": 47.8},
    }
    variants = [("blocks_only", ["mask.kind=blocks"]), ("stripes_only", ["mask.kind=stripes"])]

    def default_config(self) -> AJEPAConfig:
        return AJEPAConfig()

    def quick_overrides(self) -> list[str]:
        return [
            "train.steps=4", "train.batch_size=16", "model.dim=32", "model.depth=1",
            "model.heads=2", "predictor.dim=16", "predictor.heads=2", "data.accents=[en-us]",
            "data.speeds=[160]", "data.pitches=[50]",
        ]  # fmt: skip

    def build(self, cfg: AJEPAConfig, device: torch.device) -> Built:
        data = load_audio_data(cfg.data, cfg.seed)
        mean, std = band_statistics(data.train)
        frames = frames_of(cfg)
        train_ds = SpectrogramDataset(data.train, frames, mean, std, cfg.data.long_clips)
        test_ds = SpectrogramDataset(data.test, frames, mean, std, cfg.data.long_clips)
        name_rows(train_ds, data.train.names, data.class_names)  # files, or word/voice
        name_rows(test_ds, data.test.names)
        prepare = LogMelAugment(cfg.augment, cfg.data.front_end, mean, std)
        collate = MaskCollator(build_sampler(cfg), cfg.seed, prepare=prepare, steps=cfg.train.steps)

        def evaluate(trained: nn.Module) -> dict:
            twin = build_objective(cfg).eval_encoder().to(device)
            raw = lambda tr, te: (band_feature_dataset(tr), band_feature_dataset(te))  # noqa: E731
            result = evaluate_against_twin(
                trained, twin, train_ds, test_ds, cfg.eval, device, cfg.seed, raw
            )
            if cfg.eval.finetune_epochs > 0:
                classes = len(data.class_names)
                result["finetune"] = finetune_arms(
                    trained.eval_encoder(), twin, cfg, device, train_ds, test_ds, classes
                )
            speakers = speaker_split(test_ds, data.test) if cfg.eval.speaker else None
            if speakers is not None:
                result["speaker"] = evaluate_against_twin(
                    trained, twin, *speakers, cfg.eval, device, cfg.seed, raw, online=False
                )
            return result

        probe = make_curve_probe(train_ds, test_ds, cfg.eval, device)
        parts = TrainParts(build_objective(cfg), train_ds, collate, probe)
        return Built(parts, evaluate, data.source)

    def draw_masks(self, cfg: AJEPAConfig, path: Path, n: int) -> None:
        """Masks over real spectrograms, time across and low frequencies at the bottom; for
        the curriculum, the first half of the rows at the start of training, the rest at
        the end."""
        if cfg.model.patch_time != cfg.model.patch_freq:
            raise ConfigError("the mask picture needs square patches (patch_time = patch_freq)")
        data = load_audio_data(cfg.data, cfg.seed)
        mean, std = band_statistics(data.train)
        ds = SpectrogramDataset(data.train, frames_of(cfg), mean, std)
        specs = torch.stack([ds[i * max(1, len(ds) // n)][0] for i in range(n)])
        lo, hi = np.nanmin(specs.numpy()), np.nanmax(specs.numpy())
        pics = torch.nan_to_num((specs - lo) / max(hi - lo, 1e-6), nan=0.0)
        pics = pics.transpose(1, 2).flip(1)[:, None]  # (n, 1, F, T): time across, low at bottom
        nt, nf = build_tokenizer(cfg).grid

        def on_picture(idx: torch.Tensor) -> torch.Tensor:  # (t, f) token -> picture raster
            t, f = idx // nf, idx % nf
            return (nf - 1 - f) * nt + t

        sampler = build_sampler(cfg)
        context, targets = [], []
        for i in range(n):
            progress = (0.0 if i < n / 2 else 1.0) if cfg.mask.kind == "curriculum" else 0.5
            mk = sampler.sample(1, batch_generator(cfg.seed, i), progress=progress)
            context.append(on_picture(mk.context[0]))
            targets.append(on_picture(mk.targets[0]))
        draw_image_masks(
            pics, cfg.model.patch_time, context, targets, path,  # type: ignore[arg-type]
            title=f"A-JEPA {cfg.mask.kind} masks on log-mel spectrograms (time across)",
        )  # fmt: skip

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        ov = [*(self.quick_overrides() if quick else []), *overrides]
        notes = (
            "Word identity on voices never heard in training (the EMA target encoder decides); "
            "blocks_only and stripes_only are the paper's masking ablation arms, judged against "
            "the same twin. The raw baseline is the mean and std of every log-mel band."
        )
        return run_latent_repro(self, out, seeds, ov, 0.05, notes, judge=judge_masking)
