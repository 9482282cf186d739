"""Does longer training help? A cheap kNN probe of the online encoder every N steps.

The trainer calls the probe once before the first step — the encoder then *is* its
random-init twin — and every ``train.probe_every`` steps after; ``probe_curve.png`` draws the
curve with the twin's value as a flat line. Records land in metrics.jsonl as ``probe_knn``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import torch
from torch import nn
from torch.utils.data import Dataset

from omnijepa.eval.frozen_probes import ProbeConfig, knn_accuracy, labeled, zscore
from omnijepa.eval.protocol import encoder_splits, has_labels, spread_subset

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CURVE_KEY = "probe_knn"


def make_curve_probe(
    train: Dataset, test: Dataset, cfg: ProbeConfig, device: torch.device
) -> Callable[[nn.Module], dict[str, float]]:
    """A trainer callback: kNN accuracy of an encoder's pooled features on fixed subsets."""
    tr_sub, te_sub = spread_subset(train, cfg.curve_train), spread_subset(test, cfg.curve_test)

    def probe(encoder: nn.Module) -> dict[str, float]:
        tr, te = encoder_splits(encoder, tr_sub, te_sub, cfg, device)
        if not has_labels(tr, te):
            return {}
        tr, te = zscore(labeled(tr), labeled(te))
        return {CURVE_KEY: knn_accuracy(tr, te, cfg.knn_k)}

    return probe


def plot_probe_curve(records: list[dict[str, Any]], path: Path, title: str) -> Path | None:
    """Online-encoder kNN accuracy over steps; the step-0 value (random init) as a line."""
    pts = [(r["step"], r[CURVE_KEY]) for r in records if CURVE_KEY in r]
    if len(pts) < 2:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label="online encoder")
    if pts[0][0] == 0:
        ax.axhline(pts[0][1], color="tab:gray", ls="--", label="random-init twin (step 0)")
    ax.set_xlabel("step")
    ax.set_ylabel("kNN accuracy (test subset)")
    ax.set_title(f"{title}: learning curve", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
