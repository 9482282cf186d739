"""PNG plots of a run: loss curve and collapse diagnostics over training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DIAGNOSTIC_KEYS = (
    "target_std",
    "pred_std",
    "embed_std",
    "proj_std",
    "sigreg",
    "invariance",
    "anti_collapse",
    "ema_momentum",
    "teacher_init_weight",
    "target_drift",
    "online_drift",
    "tokenizer_drift",
)


# per-term gradient norms on the encoder (LatentPrediction.encoder_gradients), one panel
GRADIENT_KEYS = ("encoder_grad_prediction", "encoder_grad_anti_collapse", "encoder_grad_invariance")


def _series(ax: Any, records: list[dict[str, Any]], key: str, label: str | None = None) -> None:
    pts = [(r["step"], r[key]) for r in records if key in r]
    marker = "." if len(pts) < 30 else None
    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker, label=label)
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)


def plot_training(records: list[dict[str, Any]], out_dir: Path, title: str) -> list[Path]:
    """Write loss.png and diagnostics.png from metrics records; returns the paths."""
    written: list[Path] = []
    if not records:
        return written
    losses = [(r["step"], r["loss"]) for r in records if "loss" in r]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([s for s, _ in losses], [v for _, v in losses], color="tab:blue")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(f"{title}: loss")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out_dir / "loss.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    keys = [k for k in DIAGNOSTIC_KEYS if any(k in r for r in records)]
    grads = [k for k in GRADIENT_KEYS if any(k in r for r in records)]
    panels = len(keys) + bool(grads)
    if panels:
        fig, axes = plt.subplots(1, panels, figsize=(3.2 * panels, 3.2), squeeze=False)
        for ax, key in zip(axes[0], keys):
            _series(ax, records, key)
            ax.set_title(key)
        if grads:  # which loss term the encoder learns from, on one log axis
            ax = axes[0][-1]
            for key in grads:
                _series(ax, records, key, label=key.removeprefix("encoder_grad_"))
            ax.set_yscale("log")
            ax.set_title("encoder gradient norm")
            ax.legend(fontsize=7)
        fig.suptitle(f"{title}: collapse diagnostics")
        fig.tight_layout()
        path = out_dir / "diagnostics.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def plot_probe_bars(linear_probe: dict[str, Any], path: Path, title: str) -> Path:
    """Bar chart of linear-probe accuracy (mean ± std over seeds) per feature set."""
    names = [k for k in ("jepa", "random_init", "raw", "chance") if k in linear_probe]
    means = [linear_probe[k]["mean"] for k in names]
    stds = [linear_probe[k]["std"] for k in names]
    fig, ax = plt.subplots(figsize=(5, 3.5))
    colours = ["tab:blue", "tab:gray", "tab:orange", "lightgray"][: len(names)]
    ax.bar(names, means, yerr=stds, capsize=4, color=colours)
    for i, m in enumerate(means):
        ax.text(i, m + 0.01, f"{m:.3f}", ha="center", va="bottom", fontsize=9)
    n = linear_probe[names[0]]["n"]
    ax.set_ylabel("linear-probe accuracy (test)")
    ax.set_title(f"{title} (n={n} seeds)")
    ax.set_ylim(0, min(1.0, max(means) + 0.15))
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_embedding_2d(
    features: Any, labels: Any, path: Path, title: str, classes: list[str] | None = None
) -> Path:
    """PCA of a representation to 2-D, coloured by class (or by value for regression)."""
    import numpy as np
    from sklearn.decomposition import PCA

    x = np.nan_to_num(np.asarray(features, dtype=np.float64))
    if min(x.shape) >= 2:  # PCA needs two rows and two columns
        xy = PCA(n_components=2).fit_transform(x)
    else:
        xy = np.c_[x[:, :1], np.zeros(len(x))]
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    if classes:
        for k, name in enumerate(classes):
            sel = labels == k
            ax.scatter(xy[sel, 0], xy[sel, 1], s=8, alpha=0.7, label=str(name))
        if len(classes) <= 12:
            ax.legend(fontsize=7, markerscale=2, loc="best")
    else:
        points = ax.scatter(xy[:, 0], xy[:, 1], c=labels, s=8, alpha=0.7, cmap="viridis")
        fig.colorbar(points, ax=ax, label="target")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
