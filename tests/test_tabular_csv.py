"""A user's CSV read into typed columns: separators and decimal commas, thousands separators,
money and percentages, a pandas index column, repeated names, and files that are not CSV or not
UTF-8, each one error naming the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omnijepa.errors import DataError
from tests.test_tabular_data import _load, _write


def test_bad_files_raise_data_error_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing.csv"):
        _load(tmp_path / "missing.csv", target="y")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty.csv.*empty"):
        _load(tmp_path / "empty.csv", target="y")
    (tmp_path / "header.csv").write_text("a,y\n")
    with pytest.raises(DataError, match="header.csv.*no data rows"):
        _load(tmp_path / "header.csv", target="y")
    (tmp_path / "binary.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe\xfa" * 20)
    with pytest.raises(DataError, match="binary.csv"):
        _load(tmp_path / "binary.csv", target="y")
    (tmp_path / "ragged.csv").write_text("a,y\n1,2\n3,4,5,6\n")
    with pytest.raises(DataError, match="ragged.csv"):
        _load(tmp_path / "ragged.csv", target="y")


def test_folders_other_formats_and_other_encodings_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a folder.*one CSV file"):
        _load(tmp_path, target="y")
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    with pytest.raises(DataError, match="t.parquet.*CSV files only"):
        _load(tmp_path / "t.parquet", target="y")
    (tmp_path / "latin.csv").write_bytes("nom,y\ncaf\xe9,1\nth\xe9,0\n".encode("latin-1"))
    with pytest.raises(DataError, match="latin.csv.*not UTF-8.*re-save it as UTF-8"):
        _load(tmp_path / "latin.csv", target="y")


@pytest.mark.parametrize(("sep", "decimal"), [(";", ","), (";", "."), ("\t", "."), (",", ".")])
def test_semicolon_and_tab_separated_tables_read_like_commas(
    tmp_path: Path, sep: str, decimal: str
) -> None:
    """Excel writes ';' with decimal commas in many locales; .tsv files use tabs. They used to
    read as one column named 'a;b;colour;label'."""
    from omnijepa.data.tabular_csv import read_csv_table

    rows = [sep.join(["a", "b", "colour", "label"])]
    rows += [sep.join([f"{k}{decimal}5", str(k), "red" if k % 2 else "blue", str(k % 3)])
             for k in range(12)]  # fmt: skip
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    frame = read_csv_table(tmp_path / "t.csv").frame
    assert list(frame.columns) == ["a", "b", "colour", "label"]
    assert frame["a"].dtype == np.float64 and frame["a"].tolist()[:2] == [0.5, 1.5]
    assert str(frame["b"].dtype) == "Int64" and frame["colour"].tolist()[:2] == ["blue", "red"]


def test_numbers_with_thousands_separators_are_numbers(tmp_path: Path) -> None:
    """Quoted "12,345.67" cells were text, then screened out as an identifier column."""
    from omnijepa.data.tabular_csv import read_csv_table

    rows = [f'"{1000 * k + 345:,}.5",{k},"a{k % 3}"' for k in range(12)]
    (tmp_path / "t.csv").write_text("price,label,code\n" + "\n".join(rows) + "\n")
    frame = read_csv_table(tmp_path / "t.csv").frame
    assert frame["price"].dtype == np.float64 and frame["price"].tolist()[:3] == [345.5, 1345.5,
                                                                                2345.5]  # fmt: skip
    assert frame["code"].tolist()[:2] == ["a0", "a1"]  # text stays text


def test_a_typo_in_a_numeric_column_is_one_missing_cell_not_a_text_column(
    tmp_path: Path,
) -> None:
    """One stray word made the whole column text, which the identifier screen then dropped
    as an ID, losing a real feature without saying why."""
    from omnijepa.data.tabular_csv import read_csv_table

    rows = [f"{k * 0.5},{k % 7},{k % 2}" for k in range(40)]
    rows[5] = "oops,3,1"
    (tmp_path / "t.csv").write_text("a,b,label\n" + "\n".join(rows) + "\n")
    with pytest.warns(
        UserWarning, match=r"column 'a' is numeric but for 1 cell.*'oops' \(data row 6\)"
    ):
        frame = read_csv_table(tmp_path / "t.csv").frame
    assert frame["a"].dtype == np.float64 and np.isnan(frame["a"][5]) and frame["a"][6] == 3.0
    rows = [f"w{k % 5},{k}" for k in range(40)]  # words stay text
    (tmp_path / "w.csv").write_text("a,label\n" + "\n".join(rows) + "\n")
    assert read_csv_table(tmp_path / "w.csv").frame["a"].dtype == object


def test_a_pandas_index_column_is_left_out_with_a_warning(tmp_path: Path) -> None:
    import pandas as pd

    from omnijepa.data.tabular_csv import read_csv_table

    frame = pd.DataFrame({"age": [31, 45, 22, 60], "label": ["a", "b", "a", "b"]})
    frame.to_csv(tmp_path / "t.csv")  # with the index
    with pytest.warns(UserWarning, match="row index"):
        table = read_csv_table(tmp_path / "t.csv")
    assert list(table.frame.columns) == ["age", "label"]
    frame.to_csv(tmp_path / "plain.csv", index=False)
    assert list(read_csv_table(tmp_path / "plain.csv").frame.columns) == ["age", "label"]


def test_money_percent_and_float_class_targets(tmp_path: Path) -> None:
    """ "$1,234.56" and "12.3%" columns were screened out as identifiers; a 0.0 / 1.0 class
    column (pandas writes one once a value was missing) was trained as a regression target;
    a repeated header name was renamed without a word."""
    rows = [[f'"${1000 + 37 * i:,}.50"', f"{i % 9 + 0.5}%", str(float(i % 2)), str(i % 4)]
            for i in range(30)]  # fmt: skip
    path = _write(tmp_path / "m.csv", ["price", "share", "y", "price"], rows)
    with pytest.warns(UserWarning, match="'price' appear more than once"):
        data = _load(path, target="y")
    assert data.task == "classification" and data.classes == ["0", "1"]
    assert {"price", "share", "price.1"} <= set(data.feature_names)


def test_a_header_one_name_short_or_a_comment_line_is_said(tmp_path: Path) -> None:
    """A header one name short made pandas take the first column as row names: the rows were
    then named by it in `embed`, and repeated names crashed the money-column screen with a
    traceback; a comment line above the header became the only column name, unexplained."""
    from omnijepa.data.tabular_csv import read_csv_table

    rows = "".join(f"s{k // 2},{k * 1.5},{k % 3},{'ab'[k % 2]}\n" for k in range(20))
    (tmp_path / "short.csv").write_text("x,z,label\n" + rows)
    with pytest.warns(UserWarning, match="one column fewer than the rows hold"):
        frame = read_csv_table(tmp_path / "short.csv").frame
    assert list(frame.columns) == ["x", "z", "label"] and list(frame.index) == list(range(20))
    (tmp_path / "c.csv").write_text("# exported by tool v1\nx,label\n1,a\n2,b\n")
    with pytest.warns(UserWarning, match="looks like a comment"):
        read_csv_table(tmp_path / "c.csv")


def test_a_target_that_counts_the_rows_is_said(tmp_path: Path) -> None:
    rows = [[str(k * 0.3 % 1), str((k * 7) % 5), str(k)] for k in range(40)]
    path = _write(tmp_path / "t.csv", ["a", "b", "label"], rows)
    with pytest.warns(UserWarning, match="target 'label' counts the rows"):
        _load(path, target="label")
