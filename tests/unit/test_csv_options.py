"""CSV header, column-name and delimiter options; a headerless file is never misread."""

from __future__ import annotations

import gc
import gzip
import sys
import warnings
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tskew as ts
from tskew.io import open_source

ADULT_ROWS = "39, State-gov, 77516\n50, Self-emp, 83311\n38, Private, 215646\n"
ADULT_NAMES = ["age", "workclass", "fnlwgt"]


def _z(inputs):
    return {"age_z": ts.scale_to_z_score(inputs["age"])}


def test_a_headerless_file_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(ADULT_ROWS)
    with pytest.raises(ts.DataError, match=r"adult\.csv line 1: the header row \(39, .*") as err:
        ts.analyze(_z, str(path))
    assert "header=None, column_names=[...]" in str(err.value)
    assert "header=True" in str(err.value)


def test_header_none_with_column_names_reads_every_row_typed(tmp_path):
    path = tmp_path / "adult.csv"
    path.write_text(ADULT_ROWS)
    tfn = ts.analyze(_z, str(path), header=None, column_names=ADULT_NAMES)
    assert tfn.statistics.num_rows == 3
    assert tfn.input_schema == ts.Schema({"age": ts.int64(False)})
    src = open_source(str(path), header=None, column_names=ADULT_NAMES)
    assert src.schema["fnlwgt"].dtype is ts.DType.STRING  # ", " leaves a space: text
    rows = pa.Table.from_batches(list(src.batches())).to_pydict()
    assert rows["age"] == [39, 50, 38]
    # the transform reads the same file the same way; header=None names the columns
    # in the input schema's order unless column_names says otherwise
    out = tfn.transform(str(path), header=None, column_names=ADULT_NAMES, output="numpy")
    assert out["age_z"].shape == (3,)


def test_header_none_takes_the_schema_order_and_needs_names(tmp_path):
    path = tmp_path / "ages.csv"
    path.write_text("39,1.5\n50,2.5\n")
    schema = {"age": "int64", "w": "float64"}
    src = open_source(str(path), schema, header=None)
    assert pa.Table.from_batches(list(src.batches())).to_pydict() == {
        "age": [39, 50],
        "w": [1.5, 2.5],
    }
    with pytest.raises(ts.ConfigError, match=r"header=None.*column_names=\[\.\.\.\]"):
        open_source(str(path), header=None)
    with pytest.raises(ts.DataError, match=r"ages\.csv line 1: expected 3 columns .* 2 fields"):
        open_source(str(path), header=None, column_names=["a", "b", "c"])


def test_a_declared_schema_also_catches_a_headerless_file(tmp_path):
    path = tmp_path / "ages.csv"
    path.write_text("39,1.5\n50,2.5\n")
    with pytest.raises(ts.DataError, match=r"ages\.csv line 1: the header row \(39, 1\.5\)"):
        open_source(str(path), {"age": "int64", "w": "float64"})
    with pytest.raises(ts.DataError, match="looks like data"):  # fewer features declared
        open_source(str(path), {"age": "int64"})


def test_a_real_header_passes_and_header_true_skips_the_check(tmp_path):
    (tmp_path / "named.csv").write_text("age,job\n39,a\n")
    assert open_source(str(tmp_path / "named.csv")).schema == ts.Schema(
        {"age": ts.int64(False), "job": ts.string(False)}
    )
    # a header of numbers that really is one (e.g. years as column names)
    (tmp_path / "years.csv").write_text("2019,2020\n1,2\n")
    with pytest.raises(ts.DataError, match="looks like data"):
        open_source(str(tmp_path / "years.csv"))
    src = open_source(str(tmp_path / "years.csv"), header=True)
    assert list(src.schema) == ["2019", "2020"]
    assert open_source(str(tmp_path / "years.csv"), header=0).schema == src.schema
    # string columns only: nothing tells a header from data, so it is a header
    (tmp_path / "words.csv").write_text("a,b\nc,d\n")
    assert list(open_source(str(tmp_path / "words.csv")).schema) == ["a", "b"]


def test_column_names_rename_a_header(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("Age,Job\n39,a\n")
    src = open_source(str(path), column_names=["age", "job"])
    assert pa.Table.from_batches(list(src.batches())).to_pydict() == {"age": [39], "job": ["a"]}
    with pytest.raises(ts.DataError, match=r"h\.csv line 1: expected 3 columns"):
        open_source(str(path), column_names=["a", "b", "c"])


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_option(tmp_path, delimiter):
    path = tmp_path / "d.csv"
    path.write_text(f'x{delimiter}s\n1{delimiter}"a{delimiter}b"\n2{delimiter}c\n')
    src = open_source(str(path), delimiter=delimiter)
    assert pa.Table.from_batches(list(src.batches())).to_pydict() == {
        "x": [1, 2],
        "s": [f"a{delimiter}b", "c"],
    }


def test_bad_options_name_the_argument(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("x\n1\n")
    for kwargs, pattern in [
        ({"delimiter": ";;"}, r"delimiter=';;'"),
        ({"delimiter": '"'}, "delimiter="),
        ({"header": "yes"}, r"header='yes'"),
        ({"header": 1}, r"header=1"),
        ({"column_names": "a,b"}, r"column_names='a,b': expected a list.*\['a', 'b'\]"),
        ({"column_names": ["a", "a"]}, "distinct"),
    ]:
        with pytest.raises(ts.ConfigError, match=pattern):
            open_source(str(path), **kwargs)


def test_duplicate_header_names_are_refused(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("a,a\nx,y\n")
    with pytest.raises(ts.DataError, match=r"dup\.csv line 1: .*\['a'\] more than once"):
        open_source(str(path))


def test_line_numbers_count_from_the_first_line_without_a_header(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("1,a\n2,b\nx,c\n")
    with pytest.raises(ts.DataError, match=r"bad\.csv line 3"):
        open_source(str(path), {"n": "int64", "s": "string"}, header=None)


def test_reading_leaves_no_file_open(tmp_path):
    text = "x,s\n1,a\n2,b\n"
    (tmp_path / "a.csv").write_text(text)
    with gzip.open(tmp_path / "b.csv.gz", "wt") as f:
        f.write(text)
    with zipfile.ZipFile(tmp_path / "c.csv.zip", "w") as z:
        z.writestr("inner.csv", text)
    pq.write_table(pa.table({"x": [1, 2], "s": ["a", "b"]}), tmp_path / "d.parquet")
    unraisable: list = []  # a ResourceWarning raised in a finalizer lands here
    hook, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            for name in ("a.csv", "b.csv.gz", "c.csv.zip", "d.parquet"):
                src = open_source(str(tmp_path / name), cache_bytes=0)  # streamed per pass
                assert sum(b.num_rows for b in src.batches()) == 2
                next(iter(src.batches()))  # a pass abandoned half way
                del src
                gc.collect()
    finally:
        sys.unraisablehook = hook
    assert not unraisable, [str(u.exc_value) for u in unraisable]
