"""Beam readers share the in-process readers' bad-record accounting and change checks."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tskew as ts

beam = pytest.importorskip("apache_beam", reason="the beam extra is not installed")
tsb = pytest.importorskip("tskew.beam")


def test_parquet_dead_letters_count_every_dropped_row(tmp_path):
    path = tmp_path / "g.parquet"
    pq.write_table(pa.table({"x": [None, 1.0, 2.0, None, 3.0, 4.0]}), path, row_group_size=3)
    schema = {"x": ts.float64(False)}
    with beam.Pipeline() as p:
        raw = p | tsb.ReadParquet(str(path), schema=schema, max_bad_fraction=0.5)
        tfn = raw | tsb.AnalyzeDataset(lambda i: {"y": i["x"] * 2.0})
        tfn | tsb.WriteTransformFn(tmp_path / "a")
        raw.dead_letters | tsb.WriteDeadLetters(tmp_path / "dead.jsonl")
        tsb.seal(p)
    dead = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert sorted(d["row"] for d in dead) == [0, 3]
    stats = ts.load(tmp_path / "a").statistics
    assert stats.bad_records == 2 and stats.num_rows == 4


def test_unclosed_quote_is_one_dead_letter(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text('x,s\n1,a\n2,"b\n3,c\n4,d\n')
    with beam.Pipeline() as p:
        raw = p | tsb.ReadCsv(str(path), max_bad_fraction=0.5)
        raw.dead_letters | tsb.WriteDeadLetters(tmp_path / "dead.jsonl")
        tfn = raw | tsb.AnalyzeDataset(lambda i: {"y": i["x"] * 2})
        tfn | tsb.WriteTransformFn(tmp_path / "a")
        tsb.seal(p)
    dead = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert [d["line"] for d in dead] == [3] and "unclosed quote" in dead[0]["reason"]
    assert ts.load(tmp_path / "a").statistics.num_rows == 3


def test_a_file_changed_after_the_pipeline_was_built_fails(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("x\n" + "".join(f"{i}\n" for i in range(100)))
    with (
        pytest.raises(Exception, match=r"c\.csv changed after it was first read"),
        beam.Pipeline() as p,
    ):
        raw = p | tsb.ReadCsv(str(path))
        path.write_text("x\n1\n")
        raw | tsb.AnalyzeDataset(lambda i: {"y": i["x"] * 2})
        tsb.seal(p)
