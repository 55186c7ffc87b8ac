"""tskew.beam.DetectSkew: one SkewReport per fixed window, equal to ts.skew_report on its rows."""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pytest

import tskew as ts
from tskew.skew.detect import SkewState
from tskew.skew.thresholds import Thresholds

beam = pytest.importorskip("apache_beam", reason="the beam extra is not installed")
tsb = pytest.importorskip("tskew.beam")
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions  # noqa: E402
from apache_beam.testing.test_stream import TestStream as Stream  # noqa: E402
from apache_beam.testing.util import assert_that, equal_to  # noqa: E402
from apache_beam.transforms.window import TimestampedValue  # noqa: E402

from tskew.beam.skew import _SkewCombineFn, rows_table  # noqa: E402

COMPANIES = ("a", "b", "c", "d")


def preprocessing_fn(i):
    return {
        "fare_z": ts.scale_to_z_score(ts.impute(i["fare"], "median")),
        "company_id": ts.compute_and_apply_vocabulary(i["company"], top_k=3, num_oov_buckets=1),
        "trips_bucket": ts.bucketize(i["trips"], 4),
    }


def make_rows(n: int, seed: int, shift: float = 0.0, companies=COMPANIES) -> list[dict]:
    rng = np.random.default_rng(seed)
    fare = rng.normal(10.0 + shift, 2.0, n)
    fare[rng.random(n) < 0.05] = np.nan
    company = rng.choice(list(companies), n)
    trips = rng.integers(0, 50, n)
    return [
        {"fare": float(f), "company": str(c), "trips": int(t)}
        for f, c, t in zip(fare, company, trips, strict=True)
    ]


@pytest.fixture(scope="module")
def tfn():
    return ts.analyze(preprocessing_fn, rows_table(make_rows(4000, seed=1)))


def streaming() -> PipelineOptions:
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return options


def label(start: int, end: int) -> str:
    def fmt(s: int) -> str:
        return f"1970-01-01T00:{s // 60:02d}:{s % 60:02d}Z"

    return f"window [{fmt(start)}, {fmt(end)})"


def timestamped(rows: list[dict], start: float) -> list[TimestampedValue]:
    """Rows spread over the 10 s after ``start`` (all inside one 10 s window)."""
    return [TimestampedValue(r, start + 9.0 * k / len(rows)) for k, r in enumerate(rows)]


def summary(report) -> dict:
    """Everything a report says, comparable with ==, except when it was generated."""
    doc = report.to_json()
    doc.pop("generated_at")
    return doc


def expected_summary(tfn, rows: list[dict], window: str) -> dict:
    doc = summary(ts.skew_report(tfn, rows_table(rows)))
    doc["serving"] = window
    return doc


def test_two_windows_second_drifted_fails_with_exact_counts(tfn):
    calm = make_rows(400, seed=2)
    drifted = make_rows(300, seed=3, shift=3.0, companies=("a", "b", "zz"))
    stream = (
        Stream()
        .advance_watermark_to(0)
        .add_elements(timestamped(calm, 0))
        .advance_watermark_to(10)
        .add_elements(timestamped(drifted, 10))
        .advance_watermark_to_infinity()
    )

    def verdicts(report):
        errors = sorted(f.name for f in report.feature_list if f.verdict == "error")
        return report.serving, report.rows["serving"], report.passed, errors

    with beam.Pipeline(options=streaming()) as p:
        reports = p | stream | tsb.DetectSkew(tfn, window_size=10)
        assert_that(
            reports | beam.Map(verdicts),
            equal_to(
                [
                    (label(0, 10), 400, True, []),
                    (
                        label(10, 20),
                        300,
                        False,
                        ["company", "company_id", "fare", "fare_z"],
                    ),
                ]
            ),
        )


def test_reports_equal_in_process_skew_report_per_window(tfn):
    """Dict rows and Arrow batches mixed; a small buffer so rows are folded mid-window."""
    first = make_rows(350, seed=4)
    second = make_rows(250, seed=5, shift=1.0, companies=("a", "b", "c", "d", "zz"))
    batch = rows_table(second[:100]).to_batches()[0]
    stream = (
        Stream()
        .advance_watermark_to(0)
        .add_elements(timestamped(first[:200], 0))
        .add_elements(timestamped(first[200:], 0))
        .add_elements([TimestampedValue(batch, 12.0)])
        .add_elements(timestamped(second[100:], 10))
        .advance_watermark_to_infinity()
    )
    expected = [
        expected_summary(tfn, first, label(0, 10)),
        expected_summary(tfn, second, label(10, 20)),
    ]
    assert expected[0]["passed"] and not expected[1]["passed"]
    with beam.Pipeline(options=streaming()) as p:
        reports = p | stream | tsb.DetectSkew(tfn, window_size=10, buffer_rows=64)
        assert_that(reports | beam.Map(summary), equal_to(expected))


def late_stream(on_time: list[dict], late: dict, later: list[dict]) -> Stream:
    return (
        Stream()
        .advance_watermark_to(0)
        .add_elements(timestamped(on_time, 0))
        .advance_watermark_to(25)  # window [0, 10) fires on time
        .add_elements([TimestampedValue(late, 5.0)])  # late for [0, 10)
        .add_elements(timestamped(later, 30))
        .advance_watermark_to(200)  # past [0, 10)'s end + any allowed lateness below
        .add_elements([TimestampedValue(late, 6.0)])  # too late even with lateness: dropped
        .advance_watermark_to_infinity()
    )


def counts(report):
    return report.serving, report.rows["serving"]


def test_late_data_is_dropped_by_default(tfn):
    on_time, later = make_rows(150, seed=6), make_rows(120, seed=7)
    late = make_rows(1, seed=8)[0]
    with beam.Pipeline(options=streaming()) as p:
        reports = p | late_stream(on_time, late, later) | tsb.DetectSkew(tfn, window_size=10)
        assert_that(
            reports | beam.Map(counts),
            equal_to([(label(0, 10), 150), (label(30, 40), 120)]),
        )


def test_allowed_lateness_fires_an_updated_late_pane(tfn):
    on_time, later = make_rows(150, seed=6), make_rows(120, seed=7)
    late = make_rows(1, seed=8)[0]
    with beam.Pipeline(options=streaming()) as p:
        reports = (
            p
            | late_stream(on_time, late, later)
            | tsb.DetectSkew(tfn, window_size=10, allowed_lateness=60)
        )
        assert_that(
            reports | beam.Map(summary),
            equal_to(
                [
                    expected_summary(tfn, on_time, label(0, 10)),
                    # accumulating: the late pane reports the whole window so far
                    expected_summary(tfn, [*on_time, late], label(0, 10) + " late pane 1"),
                    expected_summary(tfn, later, label(30, 40)),
                ]
            ),
        )


def test_empty_window_between_two_emits_nothing(tfn):
    a, b = make_rows(130, seed=9), make_rows(110, seed=10)
    stream = (
        Stream()
        .advance_watermark_to(0)
        .add_elements(timestamped(a, 0))
        .advance_watermark_to(10)
        .advance_watermark_to(20)  # [10, 20) passes without a request
        .add_elements(timestamped(b, 20))
        .advance_watermark_to_infinity()
    )
    with beam.Pipeline(options=streaming()) as p:
        reports = p | stream | tsb.DetectSkew(tfn, window_size=10)
        assert_that(
            reports | beam.Map(counts), equal_to([(label(0, 10), 130), (label(20, 30), 110)])
        )


def test_bounded_collection_with_timestamps(tfn):
    """Batch mode: beam.Create + TimestampedValue; Arrow batches and dict rows; a gap."""
    a, b = make_rows(300, seed=11), make_rows(200, seed=12, shift=-2.0)
    elements = [(r, 60 + 50.0 * k / len(a)) for k, r in enumerate(a)]
    elements += [(rows_table(b[:80]).to_batches()[0], 185.0), *((r, 190.0) for r in b[80:])]
    with beam.Pipeline() as p:
        reports = (
            p
            | beam.Create(elements)
            | beam.MapTuple(TimestampedValue)
            | tsb.DetectSkew(tfn, window_size=60)
        )
        assert_that(
            reports | beam.Map(summary),
            equal_to(
                [
                    expected_summary(tfn, a, label(60, 120)),
                    expected_summary(tfn, b, label(180, 240)),
                ]
            ),
        )


def test_accumulators_pickle_without_the_transform_fn(tfn):
    """What a runner does between workers: compact, pickle, merge, re-attach the tfn."""
    rows = make_rows(500, seed=13, shift=0.5)
    fn = _SkewCombineFn(tfn, Thresholds(), buffer_rows=100)
    parts = []
    for chunk in (rows[:130], rows[130:170], rows[170:]):
        acc = fn.create_accumulator()
        for row in chunk:
            acc = fn.add_input(acc, row)
        data = pickle.dumps(fn.compact(acc))
        assert len(data) < len(pickle.dumps(acc.state.__dict__))  # tfn left out
        parts.append(pickle.loads(data))
    assert parts[0].state.tfn is None
    report = fn.extract_output(fn.merge_accumulators(parts))
    assert summary(report) == expected_summary(tfn, rows, "")

    state = pickle.loads(pickle.dumps(SkewState(tfn)))
    with pytest.raises(ValueError, match="needs its TransformFn back"):
        state.report()
    state.tfn = tfn
    state.add(rows_table(rows))
    assert summary(state.report()) == expected_summary(tfn, rows, "")


def test_bad_arguments(tfn):
    with pytest.raises(ValueError, match="window_size"):
        tsb.DetectSkew(tfn, window_size=0)
    assert rows_table([{}, {}]).num_rows == 2
    assert rows_table([{"fare": 1.0}, {"fare": "twelve"}]).column("fare").type == pa.string()


def test_batches_without_a_column_count_as_missing_like_skew_report(tfn):
    """Issue 13: a batch (or dict row) lacking a feature counts as missing for it."""
    rows = make_rows(400, seed=9)
    with_fare = pa.Table.from_pylist(rows[:200])
    without = pa.Table.from_pylist(rows[200:300]).drop(["fare"])
    fn = _SkewCombineFn(tfn, Thresholds())
    acc = fn.create_accumulator()
    acc = fn.add_input(acc, with_fare)
    acc = fn.add_input(acc, without)
    for row in rows[300:]:
        acc = fn.add_input(acc, {k: v for k, v in row.items() if k != "fare"})
    report = fn.extract_output(acc)
    nulls = [{**r, "fare": None} for r in rows[200:]]
    want = ts.skew_report(tfn, rows_table(rows[:200] + nulls))
    assert report.features["fare"].serving_rows == 400
    got = report.features["fare"].metric("missing_rate_change").value
    assert got == want.features["fare"].metric("missing_rate_change").value
    assert got > 0.45 and report.features["fare"].verdict == "error"
    with pytest.raises(ts.ConfigError, match="window_size"):
        tsb.DetectSkew(tfn, window_size=float("nan"))
    with pytest.raises(ts.SchemaError, match="no feature 'fair'"):
        tsb.DetectSkew(tfn, 10, Thresholds(features={"fair": {"psi": None}}))
