"""Image backbones an image recipe can train (``model.backbone``): the ViT of the image
recipes or a small conv net. LeJEPA's objective sees only pooled outputs, so any backbone
serves it; a masked-token recipe (I-JEPA) needs tokens on a grid that hide what they do not
see: a ViT's patches, or the conv net's last cells in its sparse (masked) pass."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from omnijepa.data.image_data import ImageDataConfig
from omnijepa.errors import ConfigError
from omnijepa.nn.conv_backbone import ConvBackbone, check_widths, level_sizes
from omnijepa.objectives.teacher import TeacherConfig
from omnijepa.recipes.image_common import ViTConfig, build_vit
from omnijepa.registry import Registry


@dataclass
class BackboneConfig(ViTConfig):
    """``model.*``: ``backbone`` picks the network; ``dim``, ``depth``, ``heads``,
    ``mlp_ratio``, ``pos`` and ``patch`` shape the ViT, ``widths`` and ``norm`` the conv net
    (``nn.conv_backbone``)."""

    backbone: str = "conv"
    widths: tuple[int, ...] = (32, 64, 128)
    norm: str = "batch"

    def __post_init__(self) -> None:
        super().__post_init__()
        IMAGE_BACKBONES.get(self.backbone).check(self)  # an unknown name lists the valid ones

    @property
    def out_dim(self) -> int:
        """Width of the backbone's output tokens (what a projector reads)."""
        return IMAGE_BACKBONES.get(self.backbone).out_dim(self)


@dataclass(frozen=True)
class ImageBackbone:
    """How to build one kind of backbone, its output width, and the checks of its keys;
    ``keys``: the ``model.*`` keys it reads; ``whole_patches``: every view's side must be a
    multiple of ``model.patch``; ``layered``: it has a stack of blocks whose last k outputs
    ``eval.layers=k`` can concatenate."""

    build: Callable[[BackboneConfig, ImageDataConfig], nn.Module]
    out_dim: Callable[[BackboneConfig], int]
    check: Callable[[BackboneConfig], None]
    grid: Callable[[BackboneConfig, int], tuple[int, int]]
    keys: tuple[str, ...]
    whole_patches: bool
    layered: bool


def _patch_grid(model: BackboneConfig, size: int) -> tuple[int, int]:
    if size % model.patch:
        raise ConfigError(f"data.image_size {size} is not divisible by model.patch {model.patch}")
    return size // model.patch, size // model.patch


IMAGE_BACKBONES: Registry[ImageBackbone] = Registry("image backbone (model.backbone)")
IMAGE_BACKBONES.add(
    "vit",
    ImageBackbone(
        build_vit,
        lambda m: m.dim,
        lambda m: None,
        grid=_patch_grid,
        keys=("dim", "depth", "heads", "mlp_ratio", "pos", "patch"),
        whole_patches=True,
        layered=True,
    ),
)
IMAGE_BACKBONES.add(
    "conv",
    ImageBackbone(
        lambda m, d: ConvBackbone(d.channels, tuple(m.widths), m.norm, d.image_size),
        lambda m: int(m.widths[-1]),
        lambda m: check_widths(tuple(m.widths), m.norm),
        grid=lambda m, size: level_sizes(size, size, len(m.widths) - 1)[-1],
        keys=("widths", "norm"),
        whole_patches=False,
        layered=False,
    ),
)


def build_backbone(model: BackboneConfig, data: ImageDataConfig) -> nn.Module:
    """The backbone ``model.backbone`` names, for ``data``'s images."""
    return IMAGE_BACKBONES.get(model.backbone).build(model, data)


def token_grid(model: BackboneConfig, data: ImageDataConfig) -> tuple[int, int]:
    """The (rows, cols) grid of tokens the backbone makes of ``data``'s images: what a mask
    sampler draws blocks on."""
    return IMAGE_BACKBONES.get(model.backbone).grid(model, data.image_size)


def check_backbone_fits(model: BackboneConfig, view_sizes: dict[str, int], layers: int) -> None:
    """Before any training: a ViT cuts each named view size into whole patches of
    ``model.patch``, and only a stack of blocks has ``eval.layers`` > 1 to concatenate."""
    kind = IMAGE_BACKBONES.get(model.backbone)
    if kind.whole_patches:
        for key, size in view_sizes.items():
            if size % model.patch:
                raise ConfigError(f"{key}={size} is not divisible by model.patch={model.patch}")
    if layers > 1 and not kind.layered:
        raise ConfigError(
            f"eval.layers={layers}: model.backbone={model.backbone} has no stack of blocks to "
            "concatenate; leave eval.layers at 1 (or use model.backbone=vit)"
        )


def check_masked_backbone(
    model: BackboneConfig, data: ImageDataConfig, ema: TeacherConfig, layers: int
) -> None:
    """Before any training, for a masked-token recipe: the image cuts into the backbone's
    token grid, and the target options that read a stack of blocks or positional encodings
    (``ema.target_layers``, ``ema.positions``) are refused on a backbone without them."""
    token_grid(model, data)
    check_backbone_fits(model, {}, layers)
    if not IMAGE_BACKBONES.get(model.backbone).layered:
        if ema.target_layers > 1 or not ema.positions:
            raise ConfigError(
                f"ema.target_layers={ema.target_layers} / ema.positions={ema.positions}: "
                f"model.backbone={model.backbone} has no stack of blocks or positional "
                "encodings; leave both at their defaults (or use model.backbone=vit)"
            )


def _plain(value: object) -> object:
    """Lists as tuples: a config read back from YAML holds lists where the defaults hold tuples."""
    return tuple(value) if isinstance(value, list) else value


def warn_unused_keys(model: BackboneConfig, default: BackboneConfig) -> None:
    """Warn once about ``model.*`` keys set away from the recipe's default that only another
    backbone reads (``model.depth=8`` with the conv net would otherwise do nothing silently)."""
    own = set(IMAGE_BACKBONES.get(model.backbone).keys)
    others = {k for name in IMAGE_BACKBONES for k in IMAGE_BACKBONES.get(name).keys} - own
    unused = [
        f"model.{f.name}"
        for f in dataclasses.fields(model)
        if f.name in others and _plain(getattr(model, f.name)) != _plain(getattr(default, f.name))
    ]
    if unused:
        warnings.warn(
            f"{', '.join(unused)} shape{'s' if len(unused) == 1 else ''} another backbone: "
            f"unused with model.backbone={model.backbone}",
            stacklevel=2,
        )
