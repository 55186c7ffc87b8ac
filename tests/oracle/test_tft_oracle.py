"""TensorFlow Transform itself as the oracle for the functions tskew shares with it.

One TFT pipeline (DirectRunner) computes every output at once; tskew runs the same
preprocessing on the same rows. Integer outputs (buckets, vocabulary ids) must be
identical; float outputs agree to float32 rounding: TFT accumulates its statistics
with its own float combiners while tskew's are exact, so the last bits may differ.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tskew as ts
import tskew.tft_args as tft_args
from tests.conftest import shared_file

tft = pytest.importorskip("tensorflow_transform", reason="TFT is the oracle here (extra 'tft')")
tf = pytest.importorskip("tensorflow")
tft_beam = pytest.importorskip("tensorflow_transform.beam")

WORDS = ["b", "a", "c", "a", "b", "d", "é", "a", "", "zz", "b"]


def _rows() -> dict[str, list]:
    rng = np.random.default_rng(7)
    n = 99
    return {
        "x": [float(v) for v in rng.normal(3.0, 2.0, n).astype(np.float32)],
        "k": list(range(1, n + 1)),  # 1..99: TFT's published bucket case
        "flat": [2.0] * n,  # zero variance, min == max
        "s": [WORDS[i % len(WORDS)] for i in range(n)],
    }


def tskew_fn(i):
    return {
        "x_z": ts.scale_to_z_score(i["x"]),
        "k_z": ts.scale_to_z_score(i["k"]),
        "x_01": ts.scale_to_0_1(i["x"]),
        "x_mm": ts.scale_by_min_max(i["x"], -1.0, 1.0),
        "flat_z": ts.scale_to_z_score(i["flat"]),
        "flat_mm": ts.scale_by_min_max(i["flat"], -1.0, 1.0),
        "x_centered": i["x"] - ts.cast(ts.mean(i["x"]), "float32"),
        "k_b": ts.bucketize(i["k"], 4),
        "k_ab": ts.apply_buckets(i["k"], [10, 50, 90]),
        "s_id": ts.compute_and_apply_vocabulary(i["s"]),
        "s_top": ts.compute_and_apply_vocabulary(i["s"], top_k=3, default_value=-5),
        "s_thr": ts.compute_and_apply_vocabulary(i["s"], frequency_threshold=9),
    }


def tft_fn(i):
    return {
        "x_z": tft.scale_to_z_score(i["x"]),
        "k_z": tft.scale_to_z_score(i["k"]),
        "x_01": tft.scale_to_0_1(i["x"]),
        "x_mm": tft.scale_by_min_max(i["x"], -1.0, 1.0),
        "flat_z": tft.scale_to_z_score(i["flat"]),
        "flat_mm": tft.scale_by_min_max(i["flat"], -1.0, 1.0),
        "x_centered": i["x"] - tft.mean(i["x"]),
        "k_b": tft.bucketize(i["k"], 4),
        "k_ab": tft.apply_buckets(i["k"], tf.constant([[10, 50, 90]], tf.int64)),
        "s_id": tft.compute_and_apply_vocabulary(i["s"]),
        "s_top": tft.compute_and_apply_vocabulary(i["s"], top_k=3, default_value=-5),
        "s_thr": tft.compute_and_apply_vocabulary(i["s"], frequency_threshold=9),
    }


def run_tft(fn, rows: dict[str, list], spec: dict, tmp_path) -> dict[str, np.ndarray]:
    from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

    instances = [dict(zip(rows, values, strict=True)) for values in zip(*rows.values(),
                                                                        strict=True)]
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    with tft_beam.Context(temp_dir=str(tmp_path), force_tf_compat_v1=False):
        (out, _), _ = (instances, metadata) | tft_beam.AnalyzeAndTransformDataset(fn)
    return {name: np.array([row[name] for row in out]) for name in out[0]}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    rows = _rows()
    spec = {
        "x": tf.io.FixedLenFeature([], tf.float32),
        "k": tf.io.FixedLenFeature([], tf.int64),
        "flat": tf.io.FixedLenFeature([], tf.float32),
        "s": tf.io.FixedLenFeature([], tf.string),
    }
    want = run_tft(tft_fn, rows, spec, tmp_path_factory.mktemp("tft"))
    schema = {"x": ts.float32(False), "k": ts.int64(False), "flat": ts.float32(False),
              "s": ts.string(False)}
    tfn = ts.analyze(tskew_fn, rows, schema=schema)
    got = tfn.transform(rows)
    return want, got


@pytest.mark.parametrize("name", ["k_b", "k_ab", "s_id", "s_top", "s_thr"])
def test_integer_outputs_identical(both, name):
    want, got = both
    words = np.array(_rows()["s"], dtype=object)
    real = words != ""
    assert got[name][real].tolist() == want[name][real].tolist()


def test_empty_string_is_a_vocabulary_entry_unlike_tft(both):
    """Intentional difference: TFT drops "" from vocabularies (its vocabulary is a text
    file, one token per line); tskew keeps every value, "" included, so it does not
    silently become out-of-vocabulary."""
    want, got = both
    empty = np.array(_rows()["s"], dtype=object) == ""
    assert (want["s_id"][empty] == -1).all()
    assert (got["s_id"][empty] >= 0).all()


@pytest.mark.parametrize("name", ["x_z", "k_z", "x_01", "x_mm", "flat_z", "flat_mm",
                                  "x_centered"])
def test_float_outputs_agree_to_float32_rounding(both, name):
    want, got = both
    assert got[name].dtype == np.float32  # TFT hands back Python floats of float32 values
    np.testing.assert_allclose(got[name], want[name], rtol=2e-6, atol=2e-6)


def test_chicago_taxi_slice(tmp_path):
    frame = pd.read_csv(shared_file("chicago_taxi/data.csv"), nrows=2000)
    rows = {"fare": frame["fare"].fillna(0.0).astype(np.float32).tolist(),
            "payment_type": frame["payment_type"].fillna("").tolist()}
    spec = {"fare": tf.io.FixedLenFeature([], tf.float32),
            "payment_type": tf.io.FixedLenFeature([], tf.string)}

    def tft_taxi(i):
        return {"fare_z": tft.scale_to_z_score(i["fare"]),
                "pay": tft.compute_and_apply_vocabulary(i["payment_type"])}

    def ts_taxi(i):
        return {"fare_z": ts.scale_to_z_score(i["fare"]),
                "pay": ts.compute_and_apply_vocabulary(i["payment_type"])}

    want = run_tft(tft_taxi, rows, spec, tmp_path)
    got = ts.analyze(ts_taxi, rows, schema={"fare": ts.float32(False),
                                            "payment_type": ts.string(False)}).transform(rows)
    assert got["pay"].tolist() == want["pay"].tolist()
    np.testing.assert_allclose(got["fare_z"], want["fare_z"], rtol=1e-5, atol=1e-6)


def test_int64_vocabulary_ties_follow_tft_byte_order(tmp_path):
    """TFT keeps a vocabulary's tokens as bytes, so tied int64 values rank by their decimal
    text (b"2" > b"111"), and `top_k` / `frequency_threshold` keep the same members. The
    numpy executor, the SavedModel and ONNX serve the same ids."""
    from tskew.verify import verify

    # 111, 2 and 3 tie at 2; -5 and 40 tie at 3; 7 is seen once.
    values = [111, 2, 2, 3, 111, 3, -5, 40, -5, 40, -5, 40, 7]
    rows = {"n": values}
    spec = {"n": tf.io.FixedLenFeature([], tf.int64)}

    def tft_ids(i):
        return {"all": tft.compute_and_apply_vocabulary(i["n"]),
                "top": tft.compute_and_apply_vocabulary(i["n"], top_k=3),
                "thr": tft.compute_and_apply_vocabulary(i["n"], frequency_threshold=2, top_k=4)}

    def ts_ids(i):
        return {"all": ts.compute_and_apply_vocabulary(i["n"]),
                "top": ts.compute_and_apply_vocabulary(i["n"], top_k=3),
                "thr": ts.compute_and_apply_vocabulary(i["n"], frequency_threshold=2, top_k=4)}

    want = run_tft(tft_ids, rows, spec, tmp_path)
    tfn = ts.analyze(ts_ids, rows, schema={"n": ts.int64(False)})
    got = tfn.transform(rows)
    for name in ("all", "top", "thr"):
        assert got[name].tolist() == want[name].tolist(), name
    assert got["all"].tolist()[:4] == [4, 3, 3, 2]  # ids: 40, -5 | 3, 2, 111 | 7
    report = verify(tfn, {"n": [*values, 999]})
    assert report.ok and {r.backend for r in report.rows} >= {"numpy", "tensorflow", "onnx"}


def test_tft_parameters_keep_their_meaning(tmp_path, monkeypatch):
    """The same calls with TFT's extra parameters give TFT's values and dtypes: ``output_dtype``
    float32 keeps ``k - mean(k)`` float32, ``epsilon`` / ``elementwise`` / ``name`` change
    nothing on scalar features, and ``top_k`` may be a numeric string."""
    rows = {"k": _rows()["k"], "s": _rows()["s"]}
    spec = {"k": tf.io.FixedLenFeature([], tf.int64), "s": tf.io.FixedLenFeature([], tf.string)}

    def tft_params(i):
        kf = tf.cast(i["k"], tf.float32)
        return {"c": kf - tft.mean(i["k"], name="m", output_dtype=tf.float32),
                "z": tft.scale_to_z_score(i["k"], elementwise=True, output_dtype=tf.float32),
                "b": tft.bucketize(i["k"], 4, epsilon=0.01, elementwise=True, name="b"),
                "v": tft.compute_and_apply_vocabulary(i["s"], top_k="2", name="v")}

    def ts_params(i):
        kf = ts.cast(i["k"], "float32")
        return {"c": kf - ts.mean(i["k"], name="m", output_dtype=tf.float32),
                "z": ts.scale_to_z_score(i["k"], elementwise=True, output_dtype=tf.float32),
                "b": ts.bucketize(i["k"], 4, epsilon=0.01, elementwise=True, name="b"),
                "v": ts.compute_and_apply_vocabulary(i["s"], top_k="2", name="v")}

    want = run_tft(tft_params, rows, spec, tmp_path)
    monkeypatch.setattr(tft_args, "_epsilon_noted", False)  # said once per process
    with pytest.warns(UserWarning, match="epsilon=0.01 is ignored"):
        got = ts.analyze(ts_params, rows, schema={"k": ts.int64(False),
                                                  "s": ts.string(False)}).transform(rows)
    assert got["c"].dtype == got["z"].dtype == np.float32
    for name in ("c", "z"):
        np.testing.assert_allclose(got[name], want[name], rtol=2e-6, atol=2e-6)
    assert got["b"].tolist() == want["b"].tolist()
    assert got["v"].tolist() == want["v"].tolist()


def test_what_tft_returns_on_a_feature_with_no_values(tmp_path):
    """tskew refuses an analyzer that saw no value and its error names TFT's values:
    mean and var 0, min +inf, max -inf; filling the feature first gives TFT's mean."""
    rows = {"d": [1.0, 2.0], "e": [[], []]}
    spec = {"d": tf.io.FixedLenFeature([], tf.float32), "e": tf.io.VarLenFeature(tf.float32)}

    def tft_empty(i):
        return {"mean": i["d"] * 0 + tft.mean(i["e"]), "var": i["d"] * 0 + tft.var(i["e"]),
                "min": i["d"] * 0 + tft.min(i["e"]), "max": i["d"] * 0 + tft.max(i["e"])}

    want = run_tft(tft_empty, rows, spec, tmp_path)
    assert want["mean"].tolist() == want["var"].tolist() == [0.0, 0.0]
    assert want["min"].tolist() == [np.inf, np.inf] and want["max"].tolist() == [-np.inf] * 2
    for op, tft_value in (("mean", "0"), ("min", r"\+inf"), ("max", "-inf")):
        def fn(i, op=op):
            return {"o": i["d"] * 0.0 + ts.cast(getattr(ts, op)(i["e"]), "float32")}

        with pytest.raises(ts.AnalyzeError, match=f"TFT would return {tft_value} here"):
            ts.analyze(fn, {"d": rows["d"], "e": [None, None]},
                       schema={"d": ts.float32(False), "e": ts.float32()})
