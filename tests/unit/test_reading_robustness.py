"""Nothing lost, nothing hangs: generated text files with injected bad records.

Every bad record is counted exactly once at its line, and every other record is
kept, whatever the quoting, encoding, block boundaries and number overflows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tskew as ts
from tskew.io import BadRecordLog, open_source
from tskew.io.csv_records import drop_blank_lines, split_blocks
from tskew.io.text import read_csv_chunks

SCHEMA = {"id": ts.int64(), "x": ts.float64(), "s": ts.string(True)}

# One CSV record per kind: (lines of text, is it bad?)
GOOD_KINDS = ("plain", "quoted", "multiline", "escaped", "blank")
BAD_KINDS = ("unclosed", "fields", "utf8", "overflow")


def _record(kind: str, i: int) -> tuple[bytes, bool]:
    return {
        "plain": (f"{i},{i}.5,w{i}\n".encode(), False),
        "quoted": (f'{i},{i}.5,"a,{i}"\n'.encode(), False),
        "multiline": (f'{i},{i}.5,"line one\nline ""two"" {i}"\n'.encode(), False),
        "escaped": (f'{i},{i}.5,"say ""{i}"""\n'.encode(), False),
        "blank": (b"\n", False),
        "unclosed": (f'{i},{i}.5,"oops {i}\n'.encode(), True),
        "fields": (f"{i},{i}.5\n".encode(), True),
        "utf8": (f"{i},{i}.5,bad ".encode() + b"\xff\xfe\n", True),
        "overflow": (f"{i},1e400,w{i}\n".encode(), True),
    }[kind]


def _csv(kinds: list[str]) -> tuple[bytes, list[int], list[int]]:
    """The file, the ids of its good records and the lines of its bad ones."""
    out, good, bad, line = [b"id,x,s\n"], [], [], 2
    for i, kind in enumerate(kinds):
        text, is_bad = _record(kind, i)
        out.append(text)
        if is_bad:
            bad.append(line)
        elif kind != "blank":
            good.append(i)
        line += text.count(b"\n")
    return b"".join(out), good, bad


kinds_strategy = st.lists(st.sampled_from(GOOD_KINDS + BAD_KINDS), min_size=1, max_size=40)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(kinds=kinds_strategy, bom=st.booleans())
def test_generated_csv_bad_records_are_counted_exactly(tmp_path_factory, kinds, bom):
    data, good, bad = _csv(kinds)
    if not good:
        return
    path = tmp_path_factory.mktemp("csv") / "gen.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    src = open_source(str(path), SCHEMA, on_bad_record="skip", max_bad_examples=1000)
    table = pa.Table.from_batches(list(src.batches()))
    assert table.column("id").to_pylist() == good
    assert src.bad_records.count == len(bad)
    assert sorted(r.line for r in src.bad_records.examples) == bad
    multi = [i for i, k in enumerate(kinds) if k == "multiline"]
    values = dict(zip(table.column("id").to_pylist(), table.column("s").to_pylist(), strict=True))
    assert all(values[i] == f'line one\nline "two" {i}' for i in multi)


@settings(max_examples=40, deadline=None)
@given(kinds=kinds_strategy, cuts=st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_block_boundaries_do_not_change_records(kinds, cuts):
    data, _, _ = _csv(kinds)
    body = data[len(b"id,x,s\n") :]
    chunks, pos = [], 0
    for size in cuts * (len(body) // max(sum(cuts), 1) + 1):
        chunks.append(body[pos : pos + size])
        pos += size
    chunks.append(body[pos:])
    whole = list(split_blocks([body], ord(","), 2))
    parts = list(split_blocks([c for c in chunks if c], ord(","), 2))

    def lines(blocks):
        for block in blocks:
            if block.maybe_blank:  # left to the parse on the fast path
                drop_blank_lines(block)
        return [int(n) for b in blocks for n in b.lines], [n for b in blocks for n, _ in b.unclosed]

    assert lines(parts) == lines(whole)


def test_unclosed_quote_is_one_bad_record_and_the_rest_is_kept(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text('x,n,s\n1.0,1,a\n2.0,2,"b\n3.0,3,c\n4.0,4,d\n')
    with pytest.raises(ts.DataError, match=r"u\.csv line 3: unclosed quote"):
        open_source(str(path))
    src = open_source(str(path), on_bad_record="skip")
    table = pa.Table.from_batches(list(src.batches()))
    assert table.to_pydict() == {"x": [1.0, 3.0, 4.0], "n": [1, 3, 4], "s": ["a", "c", "d"]}
    assert src.bad_records.count == 1


def test_unclosed_quote_in_a_large_file_keeps_every_other_row(tmp_path):
    rows = 200_000
    lines = [f"{i},w{i % 10}" for i in range(rows)]
    lines[7] = '7,"w7'
    path = tmp_path / "big.csv"
    path.write_text("n,s\n" + "\n".join(lines) + "\n")
    src = open_source(str(path), on_bad_record="skip", batch_size=1000)
    assert sum(b.num_rows for b in src.batches()) == rows - 1
    assert [r.line for r in src.bad_records.examples] == [9]


def test_small_blocks_split_inside_a_multiline_field(tmp_path):
    path = tmp_path / "m.csv"
    kinds = ["plain", "multiline", "plain", "unclosed", "plain"] * 40
    data, good, bad = _csv(kinds)
    path.write_bytes(data)
    log = BadRecordLog("skip", max_examples=1000)
    ids = []
    for table, *_ in read_csv_chunks(path, log, block_size=37):
        ids += table.column("id").to_pylist()
    assert [int(i) for i in ids] == good
    assert sorted(r.line for r in log.examples) == bad


def test_invalid_utf8_is_one_bad_record_not_a_crash(tmp_path):
    csv_path, jsonl_path = tmp_path / "b.csv", tmp_path / "b.jsonl"
    csv_path.write_bytes(b"x,s\n1,a\n2,\xff\n3,c\n")
    jsonl_path.write_bytes(b'{"x": 1}\n{"x": 2, "s": "\xff"}\n{"x": 3}\n')
    for path in (csv_path, jsonl_path):
        src = open_source(str(path), on_bad_record="skip")
        assert sum(b.num_rows for b in src.batches()) == 2, path
        (record,) = src.bad_records.examples
        assert record.line == 2 + (path.suffix == ".csv") and "UTF-8" in record.reason
        with pytest.raises(ts.DataError, match=rf"{path.name} line \d: .*invalid UTF-8"):
            open_source(str(path))


def test_float_overflow_in_text_is_a_bad_record(tmp_path):
    (tmp_path / "f.csv").write_text("x\n1.0\n1e400\ninf\n-1E999\n")
    (tmp_path / "f.jsonl").write_text('{"x": 1.0}\n{"x": 1e400}\n{"x": Infinity}\n')
    csv = open_source(str(tmp_path / "f.csv"), on_bad_record="skip")
    assert pa.Table.from_batches(list(csv.batches())).column("x").to_pylist() == [1.0, np.inf]
    assert [r.line for r in csv.bad_records.examples] == [3, 5]
    js = open_source(str(tmp_path / "f.jsonl"), on_bad_record="skip")
    assert pa.Table.from_batches(list(js.batches())).column("x").to_pylist() == [1.0, np.inf]
    assert [r.line for r in js.bad_records.examples] == [2]
    assert "1e400 is too large for a float64" in js.bad_records.examples[0].reason


def test_bom_is_ignored(tmp_path):
    (tmp_path / "b.csv").write_bytes(b"\xef\xbb\xbfx,s\n1,a\n")
    (tmp_path / "b.jsonl").write_bytes(b'\xef\xbb\xbf{"x": 1, "s": "a"}\n')
    for name in ("b.csv", "b.jsonl"):
        src = open_source(str(tmp_path / name))
        assert pa.Table.from_batches(list(src.batches())).to_pydict() == {"x": [1], "s": ["a"]}


def test_tsv_is_tab_separated(tmp_path):
    (tmp_path / "t.tsv").write_text("x\ts\n1\ta,b\n")
    src = open_source(str(tmp_path / "t.tsv"))
    assert pa.Table.from_batches(list(src.batches())).to_pydict() == {"x": [1], "s": ["a,b"]}


def test_empty_and_header_only_files_say_so(tmp_path):
    (tmp_path / "e.csv").write_text("")
    (tmp_path / "h.csv").write_text("x,s\n")
    for name in ("e.csv", "h.csv"):
        with pytest.raises(ts.DataError, match=rf"{name} has no data rows.*empty or only a header"):
            ts.analyze(lambda i: {"y": i["x"]}, str(tmp_path / name))


def test_not_parquet_names_the_file(tmp_path):
    (tmp_path / "fake.parquet").write_text("hello, I am a CSV")
    with pytest.raises(ts.DataError, match=r"fake\.parquet: not a readable Parquet file"):
        open_source(str(tmp_path / "fake.parquet"))


def test_in_memory_input_errors_name_the_problem():
    with pytest.raises(ts.DataError, match=r"duplicate columns \['x'\]"):
        open_source(pd.DataFrame([[1, 2]], columns=["x", "x"]))
    with pytest.raises(ts.DataError, match=r"'x' is a single value \(1\.0\).*\{'x': \[1\.0\]\}"):
        open_source({"x": 1.0})
    big = pd.DataFrame({"x": np.array([2**63 + 5, 3], dtype=np.uint64)})
    with pytest.raises(ts.DataError, match=r"row 0: feature 'x': 9223372036854775813"):
        open_source(big)
    src = open_source(big, on_bad_record="skip")
    assert [b.column("x").to_pylist() for b in src.batches()] == [[3]]


def _two_group_parquet(path: Path) -> None:
    table = pa.table({"x": [None, 1.0, 2.0, None, 3.0, 4.0]})
    pq.write_table(table, path, row_group_size=3)


def test_parquet_bad_records_count_every_dropped_row(tmp_path):
    path = tmp_path / "g.parquet"
    _two_group_parquet(path)
    src = open_source(str(path), {"x": ts.float64(False)}, on_bad_record="skip")
    assert sum(b.num_rows for b in src.batches()) == 4
    assert src.bad_records.count == 2
    assert [r.row for r in src.bad_records.examples] == [0, 3]


@pytest.mark.parametrize("kind", ["dict", "frame", "table", "batch", "csv", "parquet", "jsonl"])
def test_transform_skip_reports_dropped_rows_for_every_input(tmp_path, kind):
    tfn = ts.analyze(lambda i: {"y": i["x"] * 2.0}, {"x": [0.0, 5.0]})
    values = [1.0, None, 2.0, None, 3.0]
    data = {
        "dict": lambda: {"x": values},
        "frame": lambda: pd.DataFrame({"x": values}, index=list("abcde")),
        "table": lambda: pa.table({"x": values}),
        "batch": lambda: pa.RecordBatch.from_pydict({"x": values}),
    }
    if kind in data:
        data = data[kind]()
    else:
        path = tmp_path / f"in.{kind}"
        if kind == "csv":
            path.write_text("x\n1.0\n\n2.0\nNA\n3.0\n".replace("\n\n", "\nbad\n", 1))
        elif kind == "jsonl":
            path.write_text('{"x": 1.0}\n{"x": null}\n{"x": 2.0}\n{}\n{"x": 3.0}\n')
        else:
            pq.write_table(pa.table({"x": values}), path, row_group_size=2)
        data = str(path)
    with pytest.warns(UserWarning, match="dropped 2 bad record"):
        tfn.transform(data, on_bad_record="skip")
    out, report = tfn.transform(data, on_bad_record="skip", return_report=True)
    assert report.count == 2 and report.dropped_rows.tolist() == [1, 3]
    assert (report.rows_in, report.rows_out) == (5, 3)
    if kind == "frame":
        assert list(out.index) == ["a", "c", "e"] and out["y"].tolist() == [2.0, 4.0, 6.0]


def test_a_file_changed_between_passes_is_an_error(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("x\n" + "".join(f"{i}\n" for i in range(100)))
    src = open_source(str(path), cache_bytes=0)
    assert sum(b.num_rows for b in src.batches()) == 100
    path.write_text("x\n" + "".join(f"{i}\n" for i in range(50)))
    with pytest.raises(ts.DataError, match=r"c\.csv changed after it was first read"):
        list(src.batches())
    # same size and modification time, fewer records: the record count catches it
    path.write_text("x\n" + "".join(f"{i}\n" for i in range(100)))
    src = open_source(str(path), cache_bytes=0, on_bad_record="skip")
    list(src.batches())
    stat = path.stat()
    path.write_bytes(path.read_bytes().replace(b"1\n2\n", b"1,2\n", 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(ts.DataError, match=r"c\.csv changed while it was being read"):
        list(src.batches())
