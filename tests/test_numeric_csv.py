"""Text tables as pandas and users write them: headers, index columns, delimiters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from omnijepa.data.numeric_csv import read_numeric_table
from omnijepa.errors import DataError

DATA = np.arange(12, dtype=np.float64).reshape(4, 3) * 1.5 - 2


@pytest.mark.parametrize(
    "write",
    [
        lambda p: pd.DataFrame(DATA).to_csv(p),  # index column and names 0,1,2
        lambda p: pd.DataFrame(DATA).to_csv(p, index=False),  # names 0,1,2 only
        lambda p: pd.DataFrame(DATA, columns=["a", "b", "c"]).to_csv(p),
        lambda p: pd.DataFrame(DATA, columns=["a", "b", "c"]).to_csv(p, sep=";", index=False),
        lambda p: np.savetxt(p, DATA, delimiter="\t"),
        lambda p: np.savetxt(p, DATA),  # spaces
        lambda p: p.write_text("\ufeffx,y,z\n" + "\n".join(",".join(map(str, r)) for r in DATA)),
        lambda p: pd.DataFrame(DATA, columns=["1", "2", "3"]).to_csv(p, index=False),  # ROI labels
    ],
)
def test_tables_read_back_as_their_data(tmp_path: Path, write) -> None:  # noqa: ANN001
    path = tmp_path / "t.csv"
    write(path)
    np.testing.assert_allclose(read_numeric_table(path, "a table"), DATA)


def test_bad_cells_and_ragged_rows_are_named(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,oops\n")
    with pytest.raises(DataError, match=r"bad.csv: non-numeric cell 'oops' in data row 2"):
        read_numeric_table(tmp_path / "bad.csv", "a table")
    (tmp_path / "ragged.csv").write_text("1,2\n3,4,5\n")
    with pytest.raises(DataError, match="rows of different lengths"):
        read_numeric_table(tmp_path / "ragged.csv", "a table")
    (tmp_path / "head.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="a header and no data"):
        read_numeric_table(tmp_path / "head.csv", "a table")


def test_series_and_roi_tables_from_pandas(tmp_path: Path) -> None:
    from omnijepa.data.fmri_data import _read_subject
    from omnijepa.data.series_data import _read_series

    x = np.random.default_rng(0).standard_normal((60, 10))
    pd.DataFrame(x, columns=[f"roi{j}" for j in range(10)]).to_csv(tmp_path / "s.csv")
    assert _read_subject(tmp_path / "s.csv").shape == (10, 60)  # no index "region"
    pd.DataFrame(x).to_csv(tmp_path / "n.csv", index=False)
    assert _read_subject(tmp_path / "n.csv").shape == (10, 60)  # no header "time point"
    wave = np.sin(np.arange(100) / 7)
    pd.DataFrame({"value": wave}).to_csv(tmp_path / "w.csv", index=False)
    np.testing.assert_allclose(_read_series(tmp_path / "w.csv", 1)[0], wave, rtol=1e-6)
    np.savetxt(tmp_path / "row.csv", wave[None], delimiter=",")  # one channel as a row
    assert _read_series(tmp_path / "row.csv", 1).shape == (1, 100)


def test_a_time_column_is_left_out_and_a_channel_named_t_that_falls_is_kept(
    tmp_path: Path,
) -> None:
    """A ``time``/``TR`` column used to become one more ROI."""
    frame = pd.DataFrame(DATA, columns=["a", "b", "c"])
    frame.insert(0, "TR", np.arange(4) * 2.0)
    frame.to_csv(tmp_path / "t.csv", index=False)
    with pytest.warns(UserWarning, match="first column 'TR' counts time"):
        np.testing.assert_array_equal(read_numeric_table(tmp_path / "t.csv", "ROI series"), DATA)
    frame["TR"] = [3.0, 1.0, 2.0, 0.0]  # not a time axis: a channel
    frame.to_csv(tmp_path / "c.csv", index=False)
    assert read_numeric_table(tmp_path / "c.csv", "ROI series").shape == (4, 4)
