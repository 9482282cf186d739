"""What a recipe is: one seed system's defaults, how to build it, and its small-scale claim."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from omnijepa.console import say
from omnijepa.train.trainer import TrainParts


@dataclass
class Built:
    """A recipe instantiated for one config: trainer inputs plus its evaluation."""

    parts: TrainParts
    evaluate: Callable[[nn.Module], dict]  # objective -> results (probes, collapse)
    description: str  # one line about the data
    figures: Callable[[nn.Module, Path], None] | None = None  # (objective, run_dir): extra PNGs

    def timed_evaluate(self, recipe: str, objective: nn.Module) -> dict:
        """``evaluate`` between two progress lines: after the last training step it can run
        for minutes (a wide table's probes took 400 s) with no bar of its own."""
        say(f"[{recipe}] evaluating the frozen encoder against its baselines")
        t0 = time.perf_counter()
        metrics = self.evaluate(objective)
        say(f"[{recipe}] evaluation took {time.perf_counter() - t0:.0f} s")
        return metrics


class Recipe(ABC):
    """Subclasses set the class attributes and implement ``default_config`` and ``build``."""

    name: str = ""
    summary: str = ""  # one line for `omnijepa list`
    claim: str = ""  # what `omnijepa repro NAME` checks
    reference: dict[str, Any] = {}  # the paper's numbers, for the side-by-side table
    main_probe: str = "linear_probe"  # the metric section a run's verdict reads first
    raw_name: str = "the raw input"  # what the ``raw`` feature set is, in words
    embeds: bool = True  # judged on pooled frozen features, so ``omnijepa embed`` can export them
    # where the features ``omnijepa embed`` exports do not come from data.path: why (an error)
    embed_ignores_path: str = ""
    # set before the user's overrides by `omnijepa bench` without --config: the step the
    # side-by-side benchmark against the paper's code times, where the default differs from it
    bench_overrides: tuple[str, ...] = ()

    @abstractmethod
    def default_config(self) -> Any:
        """The recipe's config dataclass with its defaults."""

    def data_fixed(self, cfg: Any) -> str:
        """Why a run of ``cfg`` cannot be evaluated on other data (``data.*`` overrides of
        ``omnijepa eval``/``embed``), or "" where it can."""
        return ""

    @abstractmethod
    def build(self, cfg: Any, device: torch.device) -> Built:
        """Load data and build the objective, collate and evaluation for ``cfg``."""

    def quick_overrides(self) -> list[str]:
        """Overrides that shrink a run to smoke size (``--quick``)."""
        return []

    def repro(self, out: Path, seeds: int, quick: bool, overrides: list[str]) -> dict[str, Any]:
        """Run the small-scale claim; returns metrics and the verdict (see recipes.run)."""
        raise NotImplementedError(f"recipe {self.name!r} has no reproduction")

    def draw_masks(self, cfg: Any, path: Path, n: int) -> None:
        """Write a PNG picture of what the model sees as context and targets."""
        raise NotImplementedError(f"recipe {self.name!r} has no mask picture")
