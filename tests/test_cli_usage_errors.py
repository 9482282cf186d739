"""Usage mistakes (argparse's own errors) are one line like every other error."""

from __future__ import annotations

import pytest

from omnijepa.cli.main import main
from tests.test_cli import assert_one_line_error


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["bench", "ijepa", "--steps", "0", "--out", "x"], ["bench:", "--steps", ">= 1"]),
        (["nonsense"], ["invalid choice", "nonsense"]),
        (["train", "ijepa", "--bogus"], ["train:", "unrecognized", "--bogus", "train -h"]),
        (["eval"], ["eval:", "run_dir"]),
    ],
)
def test_a_usage_mistake_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragments: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert_one_line_error(capsys.readouterr().err, *fragments, "-h`")
