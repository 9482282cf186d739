"""Full-size reproductions (minutes each): run with `make test-all` or `pytest -m slow`.

They check that a repro finishes within its budget and writes a complete results.json; the
verdict itself is a measurement, reported in the file and the README, not asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omnijepa.recipes import RECIPES


@pytest.mark.slow
@pytest.mark.parametrize("name", RECIPES.names())
def test_full_repro_within_budget(name: str, tmp_path: Path) -> None:
    RECIPES.get(name).repro(tmp_path, seeds=3, quick=False, overrides=[])
    res = json.loads((tmp_path / "results.json").read_text())
    assert {"name", "claim", "reference", "metrics", "verdict", "seconds"} <= set(res)
    assert res["verdict"] in ("reproduced", "not reproduced")
    assert res["seconds"] <= 600, f"{name} repro took {res['seconds']:.0f} s (> 10 min)"
    lp = res["metrics"]["linear_probe"]
    assert all(lp[k]["n"] == 3 for k in ("jepa", "random_init", "raw"))
