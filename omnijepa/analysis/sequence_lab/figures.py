"""PNG figures of the copying and arithmetic labs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_accuracy_vs_length(results: dict[str, Any], train_max: dict[str, int], path: Path) -> None:
    """One panel per task: string accuracy against length, a line per model."""
    tasks = list(results)
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for name, entry in results[task].items():
            lengths = [int(n) for n in entry["by_length"]]
            accs = [v["string"] for v in entry["by_length"].values()]
            ax.plot(lengths, accs, marker="o", label=name)
        ax.axvline(train_max[task], color="grey", ls="--", lw=1)
        ax.set_title(f"{task} (dashed: longest trained)")
        ax.set_xlabel("entries" if task == "phonebook" else "string length")
        ax.set_ylabel("string accuracy")
        ax.set_ylim(-0.03, 1.03)
        ax.legend(fontsize=7)
    _save(fig, path)


def plot_learning_curves(
    curves: dict[str, list[list[float]]], title: str, xlabel: str, path: Path
) -> None:
    """Monitored accuracy against training examples seen, a line per model."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, curve in curves.items():
        if curve:
            ax.plot([c[0] for c in curve], [c[1] for c in curve], label=name)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("string accuracy")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(title)
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_duplicate_probe(probe: dict[str, dict[str, float]], path: Path) -> None:
    """Copy accuracy when one n-gram is written twice, against n."""
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for name, per in probe.items():
        ax.plot([int(n) for n in per], list(per.values()), marker="o", label=name)
    ax.set_xlabel("duplicated n-gram length n")
    ax.set_ylabel("string accuracy")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("copy with a duplicated n-gram")
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_addition(addition: dict[str, Any], train_max: int, path: Path) -> None:
    """Exact-match accuracy of additions against operand digits, a line per scheme."""
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for name, entry in addition.items():
        acc = entry["accuracy"]
        ax.plot([int(n) for n in acc], list(acc.values()), marker="o", label=name)
    ax.axvline(train_max, color="grey", ls="--", lw=1)
    ax.set_xlabel("digits per operand (dashed: longest trained)")
    ax.set_ylabel("exact-match accuracy")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("addition: absolute vs relative positions")
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_priming(mul: dict[str, Any], digits: int, path: Path) -> None:
    """Accuracy at the primed length against n_prime, a line per training-set size."""
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for size, per in mul.items():
        primes = sorted(int(p) for p in per)
        ax.plot(primes, [per[str(p)]["accuracy"][str(digits)] for p in primes],
                marker="o", label=f"N = {size}")  # fmt: skip
    ax.set_xlabel("n_prime (fixed long examples in the training set)")
    ax.set_ylabel(f"exact match at {digits} digits")
    ax.set_ylim(-0.03, 1.03)
    ax.set_title("multiplication: train-set priming")
    ax.legend(fontsize=7)
    _save(fig, path)
