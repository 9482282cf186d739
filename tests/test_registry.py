"""Registries: clear errors, and lazy entries that import their module only when used."""

from __future__ import annotations

import subprocess
import sys

import pytest

from omnijepa.errors import ConfigError
from omnijepa.registry import Registry


def test_a_lazy_entry_is_listed_at_once_and_built_once_on_first_get() -> None:
    built = []
    reg: Registry[str] = Registry("thing")
    reg.add("plain", "p")
    reg.add_lazy("lazy", lambda: built.append(1) or "l")
    assert reg.names() == ["lazy", "plain"] and "lazy" in reg and len(reg) == 2
    assert built == []
    assert reg.get("lazy") == "l" and reg.get("lazy") == "l"
    assert built == [1]
    with pytest.raises(KeyError, match="already registered"):
        reg.add_lazy("plain", lambda: "again")
    with pytest.raises(ConfigError, match="valid: lazy, plain"):
        reg.get("nope")


def test_asking_for_one_recipe_imports_no_other_recipe_module() -> None:
    code = (
        "import sys\n"
        "from omnijepa.recipes import RECIPES, REPRODUCTIONS\n"
        "assert len(RECIPES.names()) >= 14 and 'sjepa-real' in REPRODUCTIONS\n"
        "RECIPES.get('ijepa')\n"
        "loaded = {m for m in sys.modules if m.startswith('omnijepa.recipes.')}\n"
        "print(' '.join(sorted(loaded)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert "omnijepa.recipes.ijepa" in loaded
    for other in ("ajepa", "actjepa", "vjepa", "uijepa", "tijepa", "sjepa", "tjepa"):
        assert f"omnijepa.recipes.{other}" not in loaded, other


def test_every_builtin_recipe_is_registered_under_its_own_name() -> None:
    from omnijepa.recipes import BUILTIN, RECIPES

    for name in BUILTIN:
        assert RECIPES.get(name).name == name
