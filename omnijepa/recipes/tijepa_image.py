"""TI-JEPA's frozen image side: the target encoder of a finished omnijepa image run
(``model.image_encoder=DIR``, e.g. an ``omnijepa train ijepa`` run), or a small ViT pre-trained
here with I-JEPA on the recipe's own training images (no labels, no captions) when no
directory is given. Either way the encoder is frozen and its patch tokens feed the crosser."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from omnijepa.data.image_data import ImageDataConfig, ImageSplit, ImageTensorDataset
from omnijepa.errors import ConfigError, DataError, OmniJepaError
from omnijepa.masks.collator import MaskCollator
from omnijepa.masks.multiblock import MultiBlockMaskSampler
from omnijepa.nn.conv_backbone import ConvBackbone
from omnijepa.objectives.collapse_penalty import AntiCollapseConfig
from omnijepa.recipes.base import Recipe
from omnijepa.recipes.ijepa import IJEPAConfig, build_objective
from omnijepa.recipes.image_backbones import BackboneConfig
from omnijepa.recipes.image_common import ViTConfig
from omnijepa.recipes.model_configs import PredictorConfig
from omnijepa.recipes.saved_encoder import run_encoder
from omnijepa.registry import Registry
from omnijepa.train.config import TrainConfig
from omnijepa.train.data_order import check_batch_fits
from omnijepa.train.trainer import TrainParts, train


@dataclass
class ImageSideConfig:
    """``image.*``: the I-JEPA ViT pre-trained on the fly (unused with model.image_encoder)."""

    vit: ViTConfig = field(default_factory=lambda: ViTConfig(dim=64, depth=4, heads=4, patch=8))
    predictor: PredictorConfig = field(default_factory=lambda: PredictorConfig(dim=32))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=300, batch_size=64))
    # I-JEPA as the ijepa recipe runs it: fitted EMA and a VC term on the pooled context
    anti_collapse: AntiCollapseConfig = field(
        default_factory=lambda: AntiCollapseConfig(kind="vc", weight=1.0)
    )


@dataclass
class FrozenImageSide:
    """A frozen token encoder, its token grid, the pixel normalisation and where it came from."""

    encoder: nn.Module
    grid: tuple[int, int]
    dataset: ImageTensorDataset  # the train images, normalised as the encoder sees them
    source: str

    @torch.no_grad()
    def tokens(self, images: np.ndarray, device: torch.device, batch: int = 256) -> torch.Tensor:
        """Frozen patch tokens (N, P, D) of uint8 images (N, C, H, W), on the CPU."""
        out = []
        for k in range(0, len(images), batch):
            x = self.dataset.normalize(torch.from_numpy(images[k : k + batch])).to(device)
            out.append(self.encoder(x).float().cpu())
        return torch.cat(out)


def _pretrain_ijepa(cfg: ImageSideConfig, data: ImageDataConfig, ds: ImageTensorDataset,
                    seed: int, device: torch.device, progress: bool) -> nn.Module:  # fmt: skip
    vit = BackboneConfig(backbone="vit", **asdict(cfg.vit))
    icfg = IJEPAConfig(seed=seed, data=data, model=vit, predictor=cfg.predictor,
                       anti_collapse=cfg.anti_collapse, train=cfg.train)  # fmt: skip
    objective = build_objective(icfg)
    side = data.image_size // cfg.vit.patch
    collate = MaskCollator(MultiBlockMaskSampler((side, side), icfg.mask), seed)
    tcfg = replace(cfg.train, progress=progress and cfg.train.progress)
    if tcfg.progress:
        print(f"[tijepa] pre-training the image encoder: I-JEPA, {tcfg.steps} steps of "
              f"{tcfg.batch_size} on {len(ds)} training images", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="tijepa_image_") as tmp:
        train(TrainParts(objective, ds, collate), tcfg, seed, device, Path(tmp))
    encoder = objective.eval_encoder().eval()
    encoder.requires_grad_(False)
    return encoder


def frozen_image_side(run_dir: str, cfg: ImageSideConfig, images: np.ndarray, seed: int,
                      device: torch.device, progress: bool,
                      recipes: Registry[Recipe]) -> FrozenImageSide:  # fmt: skip
    """The encoder of ``run_dir`` (a run of a recipe in ``recipes``), or I-JEPA pre-trained on
    ``images`` (uint8 N, C, H, W)."""
    n, c, h, w = images.shape
    ds = ImageTensorDataset(ImageSplit(torch.from_numpy(images), torch.zeros(n, dtype=torch.long)))
    if run_dir:
        try:  # every problem of the run named by its key
            encoder = run_encoder(Path(run_dir), device, recipes)
            grid = _token_grid(encoder, run_dir, c, h, w)
        except OmniJepaError as err:
            raise ConfigError(f"model.image_encoder={run_dir}: {err}") from None
        return FrozenImageSide(encoder, grid, ds, f"frozen encoder of {run_dir}")
    else:
        if h % cfg.vit.patch:
            raise ConfigError(f"data.size={h} is not divisible by image.vit.patch={cfg.vit.patch}")
        check_batch_fits(n, cfg.train.batch_size, "image.train.batch_size")
        data = ImageDataConfig(image_size=h, channels=c)
        torch.manual_seed(seed)
        encoder = _pretrain_ijepa(cfg, data, ds, seed, device, progress).to(device)
        source = f"I-JEPA ViT pre-trained here ({cfg.train.steps} steps)"
    return FrozenImageSide(encoder, _token_grid(encoder, run_dir, c, h, w), ds, source)


def _token_grid(encoder: nn.Module, run_dir: str, c: int, h: int, w: int) -> tuple[int, int]:
    """The (rows, cols) token grid ``encoder`` makes of (c, h, w) images: a ViT's patch
    tokenizer or a conv net's last feature map; anything else does not take images."""
    tokenizer = getattr(encoder, "tokenizer", None)
    if isinstance(encoder, ConvBackbone):
        wants, grid = encoder.channels, lambda: encoder.grid(h, w)
    elif tokenizer is not None and callable(getattr(tokenizer, "grid", None)):
        wants, grid = getattr(tokenizer, "channels", c), lambda: tokenizer.grid((c, h, w))
    else:
        raise DataError(f"{run_dir}: its encoder does not take images (no patch tokenizer)")
    if run_dir and wants != c:
        raise DataError(f"{run_dir} encodes {wants}-channel images and these are read with "
                        f"{c}: set data.channels={wants}")  # fmt: skip
    return grid()  # a patch tokenizer names a size mismatch


__all__ = ["FrozenImageSide", "ImageSideConfig", "frozen_image_side"]
