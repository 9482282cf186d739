"""The Python API: the README's calls work in a fresh interpreter, and wrong argument types
are one clear error at the door."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import omnijepa
from omnijepa.api import _overrides
from omnijepa.errors import ConfigError


def test_train_stays_the_function_after_the_training_package_is_imported() -> None:
    """``omnijepa.train`` used to turn into the ``omnijepa.train`` sub-package as soon as any
    run imported it, so the README's snippet failed with 'module object is not callable'."""
    code = (
        "import omnijepa; omnijepa.list_recipes(); import omnijepa.train.trainer; "
        "from omnijepa.recipes.run import train_run; "
        "assert callable(omnijepa.train) and omnijepa.train.__module__ == 'omnijepa.api'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda out: omnijepa.train("ijepa", out, "train.steps=2"), TypeError, "wrap it"),
        (lambda out: omnijepa.train("ijepa", out, [5]), TypeError, "got 5"),
        (lambda out: omnijepa.train("ijepa", None), TypeError, "out must be a path"),
        (lambda out: omnijepa.evaluate(None), TypeError, "run_dir must be a path"),
        (lambda out: omnijepa.repro("ijepa", out, seeds=0), ConfigError, "seeds must be"),
        (lambda out: omnijepa.repro("ijepa", out, seeds="1"), ConfigError, "seeds must be"),
    ],
)
def test_wrong_argument_types_are_one_clear_error(tmp_path: Path, call, error, match) -> None:  # noqa: ANN001
    with pytest.raises(error, match=match):
        call(tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_overrides_may_be_a_list_tuple_dict_or_none() -> None:
    assert _overrides(["a=1"]) == _overrides(("a=1",)) == ["a=1"]
    assert _overrides({"train.steps": 2, "eval.few_shot": []}) == [
        "train.steps=2",
        "eval.few_shot=[]",
    ]
    assert _overrides(None) == []
