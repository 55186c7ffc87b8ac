"""tskew.beam on four execution modes, bit for bit against ts.analyze."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import tskew as ts
from tests.beam.fns import rows_fn, taxi_fn, words_fn
from tests.conftest import shared_file
from tskew.ir.serde import graph_to_json

beam = pytest.importorskip("apache_beam", reason="the beam extra is not installed")
tsb = pytest.importorskip("tskew.beam")
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402


def fingerprint(tfn: ts.TransformFn) -> str:
    return json.dumps([graph_to_json(tfn.graph, None), tfn.statistics.to_json()], sort_keys=True)


def sorted_rows(table: pa.Table) -> list[tuple]:
    return sorted(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("dask.distributed", reason="dask extra missing")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    yield cluster
    cluster.close()


def options_for(mode: str, request) -> list[str]:
    if mode == "direct":
        return []
    if mode == "multiprocess":
        return ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    cluster = request.getfixturevalue("dask_cluster")
    return [
        "--runner=apache_beam.runners.dask.dask_runner.DaskRunner",
        f"--dask_client_address={cluster.scheduler_address}",
    ]


def run_pipeline(source, fn, tmp: Path, args: list[str]) -> tuple[ts.TransformFn, pa.Table]:
    with beam.Pipeline(options=PipelineOptions(args)) as p:
        raw = source(p)
        transformed, transform_fn = raw | tsb.AnalyzeAndTransformDataset(fn)
        transform_fn | tsb.WriteTransformFn(tmp / "artifact")
        transformed | tsb.WriteParquet(tmp / "out")
        tsb.seal(p)
    parts = sorted((tmp / "out").glob("*.parquet"))
    table = pa.concat_tables([pq.read_table(f) for f in parts]) if parts else None
    return ts.load(tmp / "artifact"), table


@pytest.mark.parametrize("mode", ["direct", "multiprocess", "dask"])
def test_taxi_bit_identical_to_in_process(mode, tmp_path, request):
    path = str(shared_file("chicago_taxi/data.csv"))
    reference, ref_out = ts.analyze_and_transform(taxi_fn, path)
    assert "3 phase(s)" in reference.plan_text
    tfn, out = run_pipeline(
        lambda p: p | tsb.ReadCsv(path), taxi_fn, tmp_path, options_for(mode, request)
    )
    assert fingerprint(tfn) == fingerprint(reference)
    assert sorted_rows(out) == sorted_rows(ref_out)


def test_high_cardinality_vocabulary(tmp_path):
    n = 220_000
    words = np.array([f"w{i:07d}" for i in range(n)], dtype=object)
    rng = np.random.default_rng(3)
    table = pa.table(
        {"w": pa.array(words[rng.permutation(n)].tolist()), "n": pa.array(rng.normal(size=n))}
    )
    reference = ts.analyze(words_fn, table)
    batches = table.to_batches(max_chunksize=50_000)
    schema = reference.input_schema
    with beam.Pipeline() as p:
        tfn = p | beam.Create(batches) | tsb.AnalyzeDataset(words_fn, schema=schema)
        tfn | tsb.WriteTransformFn(tmp_path / "a")
    got = ts.load(tmp_path / "a")
    assert fingerprint(got) == fingerprint(reference)
    assert got.statistics.inputs["w"].num_distinct == n


def test_empty_input_fails_clearly(tmp_path):
    (tmp_path / "empty.csv").write_text("fare,company\n")
    schema = {"fare": ts.float64(), "company": ts.string()}
    with pytest.raises(Exception, match="empty training data"), beam.Pipeline() as p:
        raw = p | tsb.ReadCsv(str(tmp_path / "empty.csv"), schema=schema)
        raw | tsb.AnalyzeDataset(
            lambda i: {"z": ts.scale_to_z_score(ts.fill_missing(i["fare"], 0.0))}
        )


def _bad_csv(tmp_path: Path) -> Path:
    lines = ["x,s"] + [f"{i},s{i % 7}" for i in range(200)]
    lines[51] = "oops"  # wrong field count, line 52
    lines[120] = "1.5x,s1"  # not a number, line 121
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_malformed_lines_go_to_dead_letters(tmp_path):
    path = _bad_csv(tmp_path)
    schema = {"x": ts.int64(), "s": ts.string()}
    with beam.Pipeline() as p:
        raw = p | tsb.ReadCsv(str(path), schema=schema, max_bad_fraction=0.05)
        tfn = raw | tsb.AnalyzeDataset(lambda i: {"x": ts.fill_missing(i["x"], 0) * 2})
        tfn | tsb.WriteTransformFn(tmp_path / "a")
        raw.dead_letters | tsb.WriteDeadLetters(tmp_path / "dead.jsonl")
        tsb.seal(p)
    dead = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert [d["line"] for d in dead] == [52, 121]
    assert dead[0]["raw"] == "oops" and "expected 2 fields" in dead[0]["reason"]
    assert "'1.5x' is not a valid int64" in dead[1]["reason"]
    stats = ts.load(tmp_path / "a").statistics
    assert stats.bad_records == 2 and stats.num_rows == 198


def test_default_fails_on_first_bad_record_with_location(tmp_path):
    path = _bad_csv(tmp_path)
    with (
        pytest.raises(Exception, match=r"bad\.csv line 52: expected 2 fields"),
        beam.Pipeline() as p,
    ):
        raw = p | tsb.ReadCsv(str(path), schema={"x": ts.int64(), "s": ts.string()})
        raw | tsb.AnalyzeDataset(lambda i: {"x": ts.fill_missing(i["x"], 0) * 2})


def test_max_bad_fraction_exceeded(tmp_path):
    path = _bad_csv(tmp_path)
    with pytest.raises(Exception, match=r"more than max_bad_fraction=0\.001"), beam.Pipeline() as p:
        raw = p | tsb.ReadCsv(
            str(path), schema={"x": ts.int64(), "s": ts.string()}, max_bad_fraction=0.001
        )
        raw | tsb.AnalyzeDataset(lambda i: {"x": ts.fill_missing(i["x"], 0) * 2})


def test_read_transform_fn_and_transform_dataset(tmp_path):
    table = pa.table({"w": ["a", "b", "a"], "n": [1.0, 2.0, 3.0]})
    tfn = ts.analyze(words_fn, table)
    tfn.save(tmp_path / "a")
    with beam.Pipeline() as p:
        loaded = p | tsb.ReadTransformFn(tmp_path / "a")
        out = (p | "rows" >> beam.Create(table.to_batches()), loaded) | tsb.TransformDataset()
        out | tsb.WriteParquet(tmp_path / "out")
        tsb.seal(p)
    got = pa.concat_tables([pq.read_table(f) for f in (tmp_path / "out").glob("*.parquet")])
    assert sorted_rows(got) == sorted_rows(tfn.transform(table))


def test_cli_analyze_writes_a_loadable_artifact(tmp_path):
    path = shared_file("chicago_taxi/data.csv")
    out = tmp_path / "taxi"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tskew",
            "analyze",
            "--preprocessing-fn",
            "tests.beam.fns:taxi_fn",
            "--data",
            str(path),
            "--output",
            str(out),
            "--direct_num_workers=1",
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "15,002 rows" in proc.stdout
    assert "pass 1: 15,002 rows read" in proc.stderr
    tfn = ts.load(out)
    assert fingerprint(tfn) == fingerprint(ts.analyze(taxi_fn, str(path)))
    assert (tmp_path / "taxi.dead_letters.jsonl").read_text() == ""


def _dict_rows(n: int) -> list[dict]:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(n):
        row = {"w": f"w{int(rng.integers(0, 300))}", "n": float(rng.normal())}
        if i % 97 == 0:
            row["n"] = None  # missing values travel as None (or as an absent key)
        if i % 89 == 0:
            del row["n"]
        rows.append(row)
    return rows


@pytest.mark.parametrize("mode", ["direct", "multiprocess", "dask"])
def test_dict_rows_are_batched_and_bit_identical(mode, tmp_path, request):
    rows = _dict_rows(5_000)
    schema = {"w": ts.string(nullable=False), "n": ts.float64()}
    table = pa.table(
        {"w": [r["w"] for r in rows], "n": pa.array([r.get("n") for r in rows], pa.float64())}
    )
    reference, ref_out = ts.analyze_and_transform(rows_fn, table, schema=schema)
    with beam.Pipeline(options=PipelineOptions(options_for(mode, request))) as p:
        raw = p | beam.Create(rows)
        transformed, tfn = raw | tsb.AnalyzeAndTransformDataset(rows_fn, schema=schema)
        tfn | tsb.WriteTransformFn(tmp_path / "a")
        transformed | tsb.WriteParquet(tmp_path / "out")
        # Standalone TransformDataset takes the same dict rows.
        again = (raw, tfn) | "Again" >> tsb.TransformDataset()
        again | "WriteAgain" >> tsb.WriteParquet(tmp_path / "again")
        tsb.seal(p)
    assert fingerprint(ts.load(tmp_path / "a")) == fingerprint(reference)
    for out in ("out", "again"):
        parts = sorted((tmp_path / out).glob("*.parquet"))
        # whole batches, not one per row
        assert len(parts) < 10
        got = pa.concat_tables([pq.read_table(f) for f in parts])
        assert sorted_rows(got) == sorted_rows(ref_out)


def test_malformed_dict_row_fails_naming_the_row():
    rows = _dict_rows(2_000)
    rows[1234] = {"w": "x", "n": "not a number"}
    schema = {"w": ts.string(nullable=False), "n": ts.float64()}
    with (
        pytest.raises(Exception, match=r"'not a number' is not a valid float64.*not a number"),
        beam.Pipeline() as p,
    ):
        p | beam.Create(rows) | tsb.AnalyzeDataset(rows_fn, schema=schema)


def test_malformed_dict_rows_go_to_dead_letters(tmp_path):
    rows = _dict_rows(3_000)
    rows[10] = {"w": "x", "n": "1.5x"}
    rows[2000] = {"w": None, "n": 1.0}  # w is declared non-nullable
    schema = {"w": ts.string(nullable=False), "n": ts.float64()}
    good = [r for i, r in enumerate(rows) if i not in (10, 2000)]
    reference = ts.analyze(
        rows_fn,
        pa.table({"w": [r["w"] for r in good], "n": pa.array([r.get("n") for r in good])}),
        schema=schema,
    )
    with beam.Pipeline() as p:
        batches = p | beam.Create(rows) | tsb.BatchRows(schema, max_bad_fraction=0.01)
        batches | tsb.AnalyzeDataset(rows_fn) | tsb.WriteTransformFn(tmp_path / "a")
        batches.dead_letters | tsb.WriteDeadLetters(tmp_path / "dead.jsonl")
        tsb.seal(p)
    dead = [json.loads(line) for line in (tmp_path / "dead.jsonl").read_text().splitlines()]
    assert sorted(d["raw"] for d in dead) == ['{"n": "1.5x", "w": "x"}', '{"n": 1.0, "w": null}']
    assert any("'1.5x' is not a valid float64" in d["reason"] for d in dead)
    assert any("feature 'w' is missing" in d["reason"] for d in dead)
    stats = ts.load(tmp_path / "a").statistics
    assert stats.bad_records == 2
    assert stats.to_json()["inputs"] == reference.statistics.to_json()["inputs"]
