"""Real data through the numpy executor, a SavedModel saved and loaded back, and ONNX Runtime.

The whole UCI Adult test set (trained on adult.data) and the whole Chicago taxi sample go
through ``tf.saved_model.load(...).signatures[...]`` and through an ``.onnx`` file in
``onnxruntime`` in one batch; every output must be bit-identical to the numpy executor's,
except the documented exceptions (`tskew.verify.ULP_TOLERANCE`): subnormal floats on TF
(its CPU kernels flush them; the reference is flushed there) and ``log1p``/``exp``/``sigmoid``
within a few ulp.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import tskew as ts
from tests.conformance.test_conformance import (
    allowed_ulps,
    assert_same_bits,
    flush_subnormals,
    run_numpy,
)
from tests.conftest import shared_file
from tests.e2e.test_real_data import adult_fn, read_adult, taxi_fn

tf = pytest.importorskip("tensorflow")

from tskew.exporters.saved_model import export_saved_model, serving_inputs  # noqa: E402

TRANSCENDENTAL_ULPS = 4  # measured bound; tests/property/test_backend_parity.py


def _conformed_table(tfn: ts.TransformFn, data) -> pa.Table:
    """``data`` read and conformed to the transform's schema, as one Arrow table."""
    from tskew.io import open_source

    source = open_source(data, tfn.input_schema)
    return pa.Table.from_batches(list(source.batches()))


def _serve(path, signature: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    loaded = tf.saved_model.load(str(path))
    fn = loaded.signatures[signature]
    specs = fn.structured_input_signature[1]
    feeds = {
        name: tf.constant(values.tolist() if values.dtype == object else values, specs[name].dtype)
        for name, values in inputs.items()
    }
    out = {}
    for name, t in fn(**feeds).items():
        values = t.numpy()
        if values.dtype == object:  # tf.string -> bytes; tskew strings are str
            values = np.array([v.decode("utf-8") for v in values], object)
        out[name] = values
    return out


def assert_saved_model_matches_numpy(tfn: ts.TransformFn, data, path) -> dict[str, np.ndarray]:
    """Export ``tfn`` to ``path``, load it, serve ``data``; compare with the numpy executor.

    Returns:
        The numpy executor's outputs.
    """
    table = _conformed_table(tfn, data)
    exact = run_numpy(tfn, table)
    want = {name: flush_subnormals(v) for name, v in exact.items()}
    inputs = serving_inputs(tfn, table)
    _assert_onnx_matches(tfn, inputs, exact, path.with_suffix(".onnx"))
    export_saved_model(tfn, path)
    ulps = allowed_ulps(tfn, "tensorflow")
    for signature in ("serving_default", "transform_features"):
        got = _serve(path, signature, inputs)
        assert set(got) == set(want), signature
        for name, values in want.items():
            assert got[name].dtype == values.dtype, f"{signature}/{name}: dtype"
            per_op_ulps = ulps if values.dtype.kind == "f" else 0
            assert_same_bits(got[name], values, f"{signature}/{name}", per_op_ulps)
    return want


def _assert_onnx_matches(tfn: ts.TransformFn, inputs: dict, want: dict, path) -> None:
    """The same rows through an exported .onnx file in onnxruntime (skipped without ORT)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return
    from tskew.exporters.onnx import output_name

    try:
        exported = tfn.to_onnx(path)
    except ts.UnsupportedOpError:  # lower/strip: documented as not expressible in ONNX
        return
    session = ort.InferenceSession(str(exported))
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(names, inputs), strict=True))
    ulps = allowed_ulps(tfn, "onnx")
    for name, values in want.items():
        per_op_ulps = ulps if values.dtype.kind == "f" else 0
        assert_same_bits(got[output_name(tfn.graph, name)], values, f"onnx/{name}", per_op_ulps)


def test_adult_test_set_saved_model_matches_numpy(tmp_path):
    train, test = read_adult("adult.data"), read_adult("adult.test")
    tfn = ts.analyze(adult_fn, train)
    want = assert_saved_model_matches_numpy(tfn, test, tmp_path / "adult")
    assert len(want["age_z"]) == 16281
    # the test set really exercises the hard paths: OOV/missing occupations, many buckets
    assert test["occupation"].isna().sum() > 0
    assert len(set(want["hours_b"].tolist())) >= 4  # 5 buckets, two share a boundary
    assert want["label"].sum() == (test["label"] == ">50K").sum()


def test_adult_gain_log_exact_outside_simd_differences(tmp_path):
    """Everything but the log1p output is bit-identical; log1p mostly is too."""
    train, test = read_adult("adult.data"), read_adult("adult.test")
    tfn = ts.analyze(lambda i: {"gain_log": ts.log1p(i["capital_gain"])}, train)
    table = _conformed_table(tfn, test)
    want = run_numpy(tfn, table)["gain_log"]
    export_saved_model(tfn, tmp_path / "gain")
    got = _serve(tmp_path / "gain", "serving_default", serving_inputs(tfn, table))["gain_log"]
    differing = np.count_nonzero(got != want)
    assert differing <= len(want) // 20, f"{differing} of {len(want)} log1p values differ"
    assert_same_bits(got, want, "gain_log", TRANSCENDENTAL_ULPS)


@pytest.fixture(scope="module")
def taxi_path():
    return shared_file("chicago_taxi/data.csv")


def test_taxi_saved_model_matches_numpy(taxi_path, tmp_path):
    tfn = ts.analyze(taxi_fn, str(taxi_path))
    want = assert_saved_model_matches_numpy(tfn, str(taxi_path), tmp_path / "taxi")
    assert len(want["fare_z"]) == 15002
    assert want["company_id"].max() == 50  # the OOV bucket is used
    assert np.isfinite(want["tip_share"]).all()


def test_taxi_every_column_kind_matches_numpy(taxi_path, tmp_path):
    """A second taxi transform touching every raw column: casts, strings, nulls, dates."""

    def fn(i):
        company = ts.fill_missing(i["company"], "")
        return {
            "company_lower": ts.lower(ts.strip(company)),
            "company_missing": ts.is_missing(i["company"]),
            "payment_hash": ts.hash_strings(ts.fill_missing(i["payment_type"], "?"), 1_000_003),
            "tract_filled": ts.fill_missing(i["pickup_census_tract"], -1.0),
            "lat_bucket": ts.bucketize(ts.fill_missing(i["pickup_latitude"], 0.0), 20),
            "seconds_clip": ts.clip(ts.fill_missing(i["trip_seconds"], 0), 0, 3600),
            "ts_as_float32": ts.cast(i["trip_start_timestamp"], "float32"),
            "miles_int": ts.cast(ts.fill_missing(i["trip_miles"], -1.0), "int64"),
            "fare_per_mile": ts.fill_missing(i["fare"] / i["trip_miles"], 0.0),
            "area_x_month": ts.cross(
                [ts.fill_missing(i["pickup_community_area"], -1.0) > 8.0, i["trip_start_month"]]
            ),
        }

    tfn = ts.analyze(fn, str(taxi_path))
    want = assert_saved_model_matches_numpy(tfn, str(taxi_path), tmp_path / "taxi_all")
    assert want["company_missing"].sum() == 5140
    assert "" in set(want["company_lower"].tolist())
