"""Dense linear probe: per-pixel classes from frozen feature maps, scored by mIoU.

Every level of a feature pyramid is upsampled (bilinear) to the finest level's resolution and
concatenated; labels are read at the centres of those cells. A multinomial logistic
regression (z-scored features, C chosen on held-out train cells) is fitted on a sample of
train cells and predicts every cell of the test scenes — the frozen linear segmentation
protocol of SSL papers (MC-JEPA: Pascal VOC, Cityscapes, ADE20K), at toy scale.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from omnijepa.eval.logistic import FeatureBasis, LogisticProbe

DenseFn = Callable[[torch.Tensor], torch.Tensor]  # images -> (B, D, h, w) feature maps


def pyramid_maps(levels: list[torch.Tensor]) -> torch.Tensor:
    """Pyramid levels (finest first) upsampled to the finest and concatenated (B, D, h, w)."""
    size = levels[0].shape[-2:]
    ups = [F.interpolate(f, size=size, mode="bilinear", align_corners=False) for f in levels]
    return torch.cat(ups, dim=1)


def raw_patches(images: torch.Tensor, stride: int, window: int = 5) -> torch.Tensor:
    """The raw-pixel baseline: each cell's ``window`` x ``window`` neighbourhood of pixels,
    one cell per ``stride`` pixels (B, C * window^2, H / stride, W / stride)."""
    cols = F.unfold(images, window, padding=window // 2, stride=stride)
    h, w = images.shape[-2] // stride, images.shape[-1] // stride
    return cols.view(images.shape[0], -1, h, w)


def cell_labels(pixels: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Pixel labels (N, H, W) read at the centres of an (h, w) grid of cells."""
    h, w = size
    sy, sx = pixels.shape[1] // h, pixels.shape[2] // w
    return pixels[:, sy // 2 :: sy, sx // 2 :: sx][:, :h, :w]


def mean_iou(pred: np.ndarray, truth: np.ndarray, num_classes: int) -> float:
    """Mean intersection-over-union over the classes present in ``truth``."""
    ious = []
    for c in range(num_classes):
        t, p = truth == c, pred == c
        if t.any():
            ious.append((t & p).sum() / (t | p).sum())
    return float(np.mean(ious))


def _rows(maps: torch.Tensor) -> np.ndarray:
    return maps.permute(0, 2, 3, 1).reshape(-1, maps.shape[1]).numpy().astype(np.float64)


@torch.no_grad()
def _maps(fn: DenseFn, images: torch.Tensor, device: torch.device) -> torch.Tensor:
    return fn(images.to(device)).float().cpu()


def dense_probe(
    fn: DenseFn,
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    num_classes: int,
    device: torch.device,
    seed: int,
    sample: int = 10000,
    c_grid: tuple[float, ...] = (0.1, 1.0),
    batch: int = 64,
) -> dict[str, float]:
    """mIoU and pixel accuracy of a linear probe from the feature maps ``fn(images)``
    (B, D, h, w) to per-pixel labels: ``train`` and ``test`` are (images, pixel labels).
    ``sample`` train cells are drawn evenly over the scenes; C is chosen on a fifth of them.
    Maps are computed batch by batch, so memory stays bounded."""
    images, pixels = train
    rng = np.random.default_rng(seed)
    per = max(1, sample // len(images))
    xs, ys = [], []
    for i in range(0, len(images), batch):
        maps = _maps(fn, images[i : i + batch], device)
        rows, labels = _rows(maps), cell_labels(pixels[i : i + batch], maps.shape[-2:])
        labels = labels.reshape(-1).numpy()
        cells = maps.shape[-2] * maps.shape[-1]
        pick = np.concatenate([k * cells + rng.choice(cells, min(per, cells), replace=False)
                               for k in range(len(maps))])  # fmt: skip
        xs.append(rows[pick])
        ys.append(labels[pick])
    x, y = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    x = (x - mean) / std
    cut = len(y) // 5
    best, best_c, warm = -1.0, c_grid[0], None
    basis = FeatureBasis.of(x[cut:])
    for c in c_grid:
        warm = LogisticProbe(c).fit(x[cut:], y[cut:], warm=warm, basis=basis)
        acc = float((warm.predict(x[:cut]) == y[:cut]).mean())
        if acc > best:
            best, best_c = acc, c
    probe = LogisticProbe(best_c).fit(x, y, warm=warm)
    preds, truth = [], []
    for i in range(0, len(test[0]), batch):
        maps = _maps(fn, test[0][i : i + batch], device)
        preds.append(probe.predict((_rows(maps) - mean) / std))
        truth.append(cell_labels(test[1][i : i + batch], maps.shape[-2:]).reshape(-1).numpy())
    pred, yt = np.concatenate(preds), np.concatenate(truth)
    return {"miou": mean_iou(pred, yt, num_classes), "pixel_acc": float((pred == yt).mean()),
            "c": best_c}  # fmt: skip
