"""Recipes: one file per seed system; the only place that names a paper."""

from omnijepa.recipes.base import Recipe
from omnijepa.registry import Registry

RECIPES: Registry[Recipe] = Registry("recipe")


def _register_builtin() -> None:
    from omnijepa.recipes.ijepa import IJEPARecipe
    from omnijepa.recipes.lejepa import LeJEPARecipe

    for recipe in (IJEPARecipe(), LeJEPARecipe()):
        RECIPES.add(recipe.name, recipe)


_register_builtin()
