"""A finished run's trained encoder, reused frozen by another recipe (TI-JEPA's image side:
``model.image_encoder=DIR``). The recipe registry is passed in, not imported, because the
recipes that reuse encoders are themselves registered there."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from omnijepa.errors import RunDirError
from omnijepa.recipes.base import Recipe
from omnijepa.recipes.run import read_saved, saved_config
from omnijepa.registry import Registry
from omnijepa.train.checkpoint import load_model_weights


def recipe_of_run(run_dir: Path, recipes: Registry[Recipe]) -> Recipe:
    """The recipe in ``recipes`` that an existing run directory was trained with."""
    return recipes.get(read_saved(run_dir)[0])


def run_encoder(run_dir: Path, device: torch.device, recipes: Registry[Recipe]) -> nn.Module:
    """The encoder a finished run's verdict probes (its target encoder for EMA recipes),
    with the run's weights, in eval mode and frozen; its recipe is looked up in ``recipes``."""
    recipe = recipe_of_run(run_dir, recipes)
    built = recipe.build(saved_config(recipe, run_dir), device)
    objective = built.parts.objective.to(device)
    load_model_weights(run_dir, objective)
    if not hasattr(objective, "eval_encoder"):
        raise RunDirError(f"{run_dir}: a {recipe.name!r} run has no token encoder to reuse")
    encoder = objective.eval_encoder().eval()
    encoder.requires_grad_(False)
    return encoder


__all__ = ["recipe_of_run", "run_encoder"]
