"""Recipes: one file per seed system; the only place that names a paper.

``RECIPES`` holds trainable recipes; ``REPRODUCTIONS`` maps every name that
``omnijepa repro NAME`` accepts to a function ``(out, seeds, quick, overrides) -> results``:
each recipe's claim, plus analyses that are not pre-training runs.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from omnijepa.recipes.base import Recipe
from omnijepa.registry import Registry

ReproFn = Callable[[Path, int, bool, list[str]], dict[str, Any]]

RECIPES: Registry[Recipe] = Registry("recipe")
REPRODUCTIONS: Registry[ReproFn] = Registry("reproduction")


def _register_builtin() -> None:
    from omnijepa.recipes.actjepa import ACTJEPARecipe
    from omnijepa.recipes.ajepa import AJEPARecipe
    from omnijepa.recipes.brainjepa import BrainJEPARecipe
    from omnijepa.recipes.ijepa import IJEPARecipe
    from omnijepa.recipes.lejepa import LeJEPARecipe
    from omnijepa.recipes.mcjepa import MCJEPARecipe
    from omnijepa.recipes.pointjepa import PointJEPARecipe
    from omnijepa.recipes.series_jepa import SeriesJEPARecipe
    from omnijepa.recipes.sjepa import SJEPARecipe
    from omnijepa.recipes.three_d_jepa import ThreeDJEPARecipe
    from omnijepa.recipes.tijepa import TIJEPARecipe
    from omnijepa.recipes.tjepa import TJEPARecipe
    from omnijepa.recipes.uijepa import UIJEPARecipe
    from omnijepa.recipes.vjepa import VJEPARecipe

    recipes = (
        IJEPARecipe(), LeJEPARecipe(), TJEPARecipe(), PointJEPARecipe(), ThreeDJEPARecipe(),
        SeriesJEPARecipe(), AJEPARecipe(), SJEPARecipe(), BrainJEPARecipe(),
        VJEPARecipe(), MCJEPARecipe(), UIJEPARecipe(), TIJEPARecipe(RECIPES), ACTJEPARecipe(),
    )  # fmt: skip
    for recipe in recipes:
        RECIPES.add(recipe.name, recipe)
        REPRODUCTIONS.add(recipe.name, recipe.repro)

    from omnijepa.recipes.sjepa_repros import repro_sjepa_radius, repro_sjepa_real

    sjepa = RECIPES.get("sjepa")
    REPRODUCTIONS.add("sjepa-radius", lambda *args: repro_sjepa_radius(sjepa, *args))
    REPRODUCTIONS.add("sjepa-real", lambda *args: repro_sjepa_real(sjepa, *args))

    from omnijepa.recipes.linear_jepa import repro_linear_jepa

    REPRODUCTIONS.add("linear-jepa", repro_linear_jepa)

    from omnijepa.recipes.arithmetic import repro_arithmetic
    from omnijepa.recipes.copying import repro_copying

    REPRODUCTIONS.add("copying", repro_copying)
    REPRODUCTIONS.add("arithmetic", repro_arithmetic)


_register_builtin()
