"""load_csv: what it accepts, how it types the target, and one clear line for each bad file."""

import numpy as np
import pytest

from tui_trainer.engine.datasets import DataError, load_csv


def write(tmp_path, content, name="data.csv"):
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def error(path, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        load_csv(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


# --- what loads -----------------------------------------------------------------------------


def test_text_labels_are_classes_in_sorted_order(tmp_path):
    path = write(tmp_path, "a,b,kind\n1,2,dog\n3,4.5,cat\n5,6,emu\n7,8,cat\n")
    ds = load_csv(path)
    assert ds.problem == "multiclass" and ds.name == "data"
    assert ds.class_names == ["cat", "dog", "emu"]
    assert ds.y.tolist() == [1, 0, 2, 0] and ds.y.dtype == np.int64
    assert ds.X.tolist() == [[1, 2], [3, 4.5], [5, 6], [7, 8]] and ds.X.dtype == np.float64
    assert ds.feature_names == ["a", "b"] and ds.target_name == "kind"


def test_two_classes_is_binary(tmp_path):
    ds = load_csv(write(tmp_path, "x,y\n1,yes\n2,no\n3,yes\n"))
    assert ds.problem == "binary" and ds.class_names == ["no", "yes"] and ds.n_outputs == 1


def test_integer_labels_sort_numerically(tmp_path):
    ds = load_csv(write(tmp_path, "x,label\n1,10\n2,2\n3,-1\n4,2.0\n"))
    assert ds.class_names == ["-1", "2", "10"]
    assert ds.y.tolist() == [2, 1, 0, 1]


def test_float_target_is_regression(tmp_path):
    ds = load_csv(write(tmp_path, "x,price\n1,1.5\n2,2\n3,3.25\n"))
    assert ds.problem == "regression" and ds.class_names == [] and ds.num_classes == 0
    assert ds.y.dtype == np.float64 and ds.y.tolist() == [1.5, 2.0, 3.25]


def test_many_distinct_integers_are_regression(tmp_path):
    rows = "".join(f"{i},{i * 3}\n" for i in range(21))
    assert load_csv(write(tmp_path, "x,y\n" + rows)).problem == "regression"
    rows = "".join(f"{i},{i % 20}\n" for i in range(40))
    assert load_csv(write(tmp_path, "x,y\n" + rows)).num_classes == 20


def test_target_option_picks_any_column(tmp_path):
    path = write(tmp_path, "a,kind,b\n1,x,2\n3,y,4\n")
    ds = load_csv(path, target="kind", name="mine")
    assert ds.name == "mine" and ds.feature_names == ["a", "b"]
    assert ds.X.tolist() == [[1, 2], [3, 4]] and ds.class_names == ["x", "y"]


def test_bom_crlf_blank_lines_quotes_and_spaces(tmp_path):
    text = '\ufeff"width, cm", height ,target\r\n\r\n1, 2 ,a\r\n   \r\n3,4,b\r\n\r\n'
    ds = load_csv(write(tmp_path, text))
    assert ds.feature_names == ["width, cm", "height"]
    assert ds.X.tolist() == [[1, 2], [3, 4]] and ds.class_names == ["a", "b"]


# --- what is refused, and where the message points -------------------------------------------


def test_missing_file(tmp_path):
    assert "no such file" in error(tmp_path / "nope.csv")


def test_directory(tmp_path):
    assert "is a directory" in error(tmp_path)


@pytest.mark.parametrize("content", ["", "\n\n  \n"])
def test_empty_file(tmp_path, content):
    assert "file is empty" in error(write(tmp_path, content))


def test_header_only(tmp_path):
    assert "header but no data rows" in error(write(tmp_path, "a,b,target\n\n"))


def test_ragged_row(tmp_path):
    message = error(write(tmp_path, "a,b,target\n1,2,x\n\n3,y\n"))
    assert "line 4" in message and "expected 3 fields, got 2" in message


def test_non_numeric_feature(tmp_path):
    message = error(write(tmp_path, "a,b,target\n1,2,x\n3,abc,y\n"))
    assert "line 3" in message and "column 'b'" in message and "'abc' is not a number" in message


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity"])
def test_non_finite_feature(tmp_path, value):
    message = error(write(tmp_path, f"a,b,target\n1,2,x\n3,{value},y\n"))
    assert "line 3" in message and "column 'b'" in message and "not a finite number" in message


def test_non_finite_regression_target(tmp_path):
    message = error(write(tmp_path, "a,y\n1,0.5\n2,nan\n3,1.5\n"))
    assert "line 3" in message and "column 'y'" in message and "not a finite number" in message


@pytest.mark.parametrize("row", ["1,,x", "1,2,"])
def test_empty_cell(tmp_path, row):
    message = error(write(tmp_path, f"a,b,target\n3,4,y\n{row}\n"))
    assert "line 3" in message and "empty cell" in message and "column '" in message


def test_single_class(tmp_path):
    message = error(write(tmp_path, "a,x\n1,a\n2,a\n"))
    assert "target column 'x' has only one class 'a': need at least two" in message


def test_not_utf8(tmp_path):
    message = error(write(tmp_path, "a,target\n1,x\n2,caf\xe9\n".encode("latin-1")))
    assert "line 3" in message and "not UTF-8" in message


def test_binary_file(tmp_path):
    message = error(write(tmp_path, b"a,target\n1,x\n\x00\x01\x02"))
    assert "line 3" in message and "NUL byte" in message


def test_utf16_file_is_refused(tmp_path):
    assert "NUL byte" in error(write(tmp_path, "a,target\n1,x\n".encode("utf-16")))


def test_duplicate_header(tmp_path):
    message = error(write(tmp_path, "a,b,a,target\n1,2,3,x\n"))
    assert "line 1" in message and "duplicate column name 'a' (columns 1 and 3)" in message


def test_empty_header_name(tmp_path):
    message = error(write(tmp_path, "a,,target\n1,2,x\n"))
    assert "line 1" in message and "column 2 has an empty header name" in message


def test_missing_target_column(tmp_path):
    message = error(write(tmp_path, "a,b,label\n1,2,x\n"), target="species")
    assert "no target column 'species'; columns are: a, b, label" in message


def test_too_few_columns(tmp_path):
    message = error(write(tmp_path, "only\n1\n2\n"))
    assert "need at least 2 columns" in message and "found 1" in message


def test_line_numbers_count_blank_lines_and_bom(tmp_path):
    message = error(write(tmp_path, "\ufeff\na,target\n\n1,x\n\n2x,y\n"))
    assert "line 6" in message and "column 'a'" in message
