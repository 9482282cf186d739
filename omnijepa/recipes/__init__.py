"""Recipes: one file per seed system; the only place that names a paper.

``RECIPES`` holds trainable recipes; ``REPRODUCTIONS`` maps every name that
``omnijepa repro NAME`` accepts to a function ``(out, seeds, quick, overrides) -> results``:
each recipe's claim, plus analyses that are not pre-training runs.
"""

from collections.abc import Callable
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import Any

from omnijepa.recipes.base import Recipe
from omnijepa.registry import Registry

ReproFn = Callable[[Path, int, bool, list[str]], dict[str, Any]]

RECIPES: Registry[Recipe] = Registry("recipe")
REPRODUCTIONS: Registry[ReproFn] = Registry("reproduction")


# name -> (module, class) of every built-in recipe. Each module is imported on the recipe's
# first use: importing all of them (audio, video, robot rollouts …) cost every command ~0.5 s,
# and one recipe's broken optional import broke every command
BUILTIN: dict[str, tuple[str, str]] = {
    "ijepa": ("ijepa", "IJEPARecipe"),
    "lejepa": ("lejepa", "LeJEPARecipe"),
    "tjepa": ("tjepa", "TJEPARecipe"),
    "pointjepa": ("pointjepa", "PointJEPARecipe"),
    "3djepa": ("three_d_jepa", "ThreeDJEPARecipe"),
    "series_jepa": ("series_jepa", "SeriesJEPARecipe"),
    "ajepa": ("ajepa", "AJEPARecipe"),
    "sjepa": ("sjepa", "SJEPARecipe"),
    "brainjepa": ("brainjepa", "BrainJEPARecipe"),
    "vjepa": ("vjepa", "VJEPARecipe"),
    "mcjepa": ("mcjepa", "MCJEPARecipe"),
    "uijepa": ("uijepa", "UIJEPARecipe"),
    "tijepa": ("tijepa", "TIJEPARecipe"),
    "actjepa": ("actjepa", "ACTJEPARecipe"),
}

# analyses and extra reproductions: name -> (module, function)
ANALYSES: dict[str, tuple[str, str]] = {
    "linear-jepa": ("linear_jepa", "repro_linear_jepa"),
    "copying": ("copying", "repro_copying"),
    "arithmetic": ("arithmetic", "repro_arithmetic"),
}
# reproductions of a recipe's other claims: name -> (recipe, module, function)
RECIPE_REPROS: dict[str, tuple[str, str, str]] = {
    "sjepa-radius": ("sjepa", "sjepa_repros", "repro_sjepa_radius"),
    "sjepa-real": ("sjepa", "sjepa_repros", "repro_sjepa_real"),
}


def _attribute(module: str, name: str) -> Any:
    return getattr(import_module(f"omnijepa.recipes.{module}"), name)


def _load_recipe(name: str) -> Recipe:
    module, cls = BUILTIN[name]
    recipe = _attribute(module, cls)()
    if recipe.name != name:
        raise KeyError(f"recipe class {cls} is named {recipe.name!r}, registered as {name!r}")
    return recipe


def _recipe_repro(name: str) -> ReproFn:
    return lambda *args: RECIPES.get(name).repro(*args)


def _other_repro(recipe: str, module: str, function: str) -> ReproFn:
    return lambda *args: _attribute(module, function)(RECIPES.get(recipe), *args)


def _register_builtin() -> None:
    for name in BUILTIN:
        RECIPES.add_lazy(name, partial(_load_recipe, name))
        REPRODUCTIONS.add(name, _recipe_repro(name))
    for name, (recipe, module, function) in RECIPE_REPROS.items():
        REPRODUCTIONS.add(name, _other_repro(recipe, module, function))
    for name, (module, function) in ANALYSES.items():
        REPRODUCTIONS.add_lazy(name, partial(_attribute, module, function))


_register_builtin()
