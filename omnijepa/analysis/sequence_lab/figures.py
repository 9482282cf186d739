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


def _accuracy_lines(
    lines: dict[str, tuple[list[int], list[float]]],
    xlabel: str,
    ylabel: str,
    title: str,
    path: Path,
    vline: float | None = None,
) -> None:
    """One accuracy-vs-x line per entry of ``lines`` (label -> (xs, ys)), y in [0, 1]."""
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    for label, (xs, ys) in lines.items():
        ax.plot(xs, ys, marker="o", label=label)
    if vline is not None:
        ax.axvline(vline, color="grey", ls="--", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.03, 1.03)
    ax.set_title(title)
    ax.legend(fontsize=7)
    _save(fig, path)


def plot_duplicate_probe(probe: dict[str, dict[str, float]], path: Path) -> None:
    """Copy accuracy when one n-gram is written twice, against n."""
    lines = {name: ([int(n) for n in per], list(per.values())) for name, per in probe.items()}
    _accuracy_lines(lines, "duplicated n-gram length n", "string accuracy",
                    "copy with a duplicated n-gram", path)  # fmt: skip


def plot_addition(addition: dict[str, Any], train_max: int, path: Path) -> None:
    """Exact-match accuracy of additions against operand digits, a line per scheme."""
    lines = {name: ([int(n) for n in e["accuracy"]], list(e["accuracy"].values()))
             for name, e in addition.items()}  # fmt: skip
    _accuracy_lines(lines, "digits per operand (dashed: longest trained)", "exact-match accuracy",
                    "addition: absolute vs relative positions", path, vline=train_max)  # fmt: skip


def plot_priming(mul: dict[str, Any], digits: int, path: Path) -> None:
    """Accuracy at the primed length against n_prime, a line per training-set size."""
    lines = {}
    for size, per in mul.items():
        primes = sorted(int(p) for p in per)
        lines[f"N = {size}"] = (primes, [per[str(p)]["accuracy"][str(digits)] for p in primes])
    _accuracy_lines(lines, "n_prime (fixed long examples in the training set)",
                    f"exact match at {digits} digits", "multiplication: train-set priming",
                    path)  # fmt: skip
