"""tsb.Source: the user's own steps over a reader's batches run again on every re-read."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import tskew as ts
from tests.beam.fns import taxi_fn
from tests.beam.test_beam import fingerprint, options_for, sorted_rows
from tests.conftest import shared_file
from tskew.errors import ConfigError, SchemaError
from tskew.io.bad_records import BadRecordLog
from tskew.io.sources import infer_files, read_file

beam = pytest.importorskip("apache_beam", reason="the beam extra is not installed")
tsb = pytest.importorskip("tskew.beam")
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402


def paid(batch: pa.RecordBatch) -> pa.RecordBatch:
    return batch.filter(pc.fill_null(pc.greater(batch["fare"], 5.0), False))


def not_cash(batch: pa.RecordBatch) -> pa.RecordBatch:
    # filters on a column the preprocessing_fn never reads (no column projection then)
    return batch.filter(pc.fill_null(pc.not_equal(batch["payment_type"], "Cash"), True))


def fare_fn(inputs):
    """Two levels of analyzers: quantiles of a z-score."""
    return {"b": ts.bucketize(ts.scale_to_z_score(ts.fill_missing(inputs["fare"], 0.0)), 4)}


@pytest.fixture(scope="module")
def taxi_parquet(tmp_path_factory) -> str:
    csv = shared_file("chicago_taxi/data.csv")
    schema = infer_files([csv], 1 << 16)
    table = pa.Table.from_batches(read_file(csv, schema, BadRecordLog("error"), 1 << 16))
    path = tmp_path_factory.mktemp("taxi") / "taxi.parquet"
    pq.write_table(table, path, row_group_size=4_000)
    return str(path)


@pytest.mark.parametrize("mode", ["direct", "multiprocess"])
@pytest.mark.parametrize(("fn", "step"), [(taxi_fn, paid), (fare_fn, not_cash)])
def test_steps_applied_to_a_source_run_in_every_pass(
    mode, fn, step, taxi_parquet, tmp_path, request
):
    table = pq.read_table(taxi_parquet)
    kept = pa.Table.from_batches([step(b) for b in table.to_batches()])
    reference, ref_out = ts.analyze_and_transform(fn, kept)
    with beam.Pipeline(options=PipelineOptions(options_for(mode, request))) as p:
        raw = p | tsb.ReadParquet(taxi_parquet)
        source = raw.apply(beam.Map(step), "Step").apply(
            beam.Filter(lambda b: b.num_rows > 0), "NonEmpty"
        )
        assert isinstance(source, tsb.Source) and source.schema == raw.schema
        transformed, tfn = source | tsb.AnalyzeAndTransformDataset(fn)
        tfn | tsb.WriteTransformFn(tmp_path / "a")
        transformed | tsb.WriteParquet(tmp_path / "out")
        raw.dead_letters | tsb.WriteDeadLetters(tmp_path / "dead.jsonl")
        tsb.seal(p)
    got = ts.load(tmp_path / "a")
    assert got.statistics.num_rows == kept.num_rows < table.num_rows
    assert fingerprint(got) == fingerprint(reference)
    out = pa.concat_tables(pq.read_table(f) for f in (tmp_path / "out").glob("*.parquet"))
    assert sorted_rows(out) == sorted_rows(ref_out)
    assert (tmp_path / "dead.jsonl").read_text() == ""


def test_a_plain_pcollection_is_analyzed_with_a_schema(taxi_parquet, tmp_path):
    table = pq.read_table(taxi_parquet)
    kept = pa.Table.from_batches([paid(b) for b in table.to_batches()])
    reference = ts.analyze(fare_fn, kept)
    with beam.Pipeline() as p:
        raw = p | tsb.ReadParquet(taxi_parquet)
        plain = raw.batches | beam.Map(paid)  # no Source: all passes share this collection
        (
            plain
            | tsb.AnalyzeDataset(fare_fn, schema=raw.schema)
            | tsb.WriteTransformFn(tmp_path / "a")
        )
        tsb.seal(p)
    assert fingerprint(ts.load(tmp_path / "a")) == fingerprint(reference)


def test_a_plain_pcollection_without_schema_says_how_to_keep_it(taxi_parquet):
    with pytest.raises(SchemaError, match=r"pass schema=.*source\.apply"), beam.Pipeline() as p:
        raw = p | tsb.ReadParquet(taxi_parquet)
        raw.batches | beam.Map(paid) | tsb.AnalyzeDataset(fare_fn)


def test_a_repeated_step_label_is_refused(taxi_parquet):
    with pytest.raises(ConfigError, match="'Step' is already used"), beam.Pipeline() as p:
        raw = p | tsb.ReadParquet(taxi_parquet)
        raw.apply(beam.Map(paid), "Step").apply(beam.Map(paid), "Step")
