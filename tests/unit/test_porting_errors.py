"""A TFT preprocessing_fn ported by renaming: what TFT users write either works, or fails
with a tskew error in their terms (the feature, the call, the ts equivalent, the fix)."""

from __future__ import annotations

import numpy as np
import pytest

import tskew as ts
from tskew.errors import ArgumentError

DATA = {"x": [1.0, 2.0, 4.0], "s": ["a", "b", "a"], "label": [0, 1, 1]}


def _trace_error(fn, data=DATA) -> str:
    with pytest.raises(ts.TraceError) as info:
        ts.analyze(fn, data)
    return str(info.value)


def test_inputs_is_the_dict_tft_passes():
    def fn(inputs):
        outputs = inputs.copy()  # TFT's idiom: pass raw features through, replace some
        outputs["x"] = ts.scale_to_0_1(outputs.pop("x"))
        outputs["s_id"] = ts.compute_and_apply_vocabulary(outputs["s"])
        del outputs["s"], outputs["label"]
        assert "label" not in outputs and "label" in inputs and len(outputs) == 2
        assert dict(inputs).keys() == {"x", "s", "label"}
        return outputs

    tfn = ts.analyze(fn, DATA)
    assert list(tfn.graph.outputs) == ["x", "s_id"]
    assert tfn.transform(DATA)["x"].tolist() == [0.0, 1 / 3, 1.0]
    assert ts.analyze(lambda i: {"y": i.pop("nope", i["x"])}, DATA).transform(DATA)["y"].size
    with pytest.raises(ts.SchemaError, match=r"unknown feature 'lable'.*'label'"):
        ts.analyze(lambda i: {"y": i.copy().pop("lable")}, DATA)


def test_tensorflow_on_a_column_names_the_ts_function():
    tf = pytest.importorskip("tensorflow")
    message = _trace_error(lambda i: {"y": tf.math.log(i["x"])})
    assert "tf.math.log(...) was given the tskew column x" in message
    assert "ts.log1p" in message
    assert "use ts.mean" in _trace_error(lambda i: {"y": i["x"] - tf.reduce_mean(i["x"])})
    assert "tskew ops" in _trace_error(lambda i: {"y": tf.nn.relu(i["x"])})


def test_numpy_on_a_column_names_the_ts_function_and_numpy_scalars_still_combine():
    assert "np.sqrt(...)" in _trace_error(lambda i: {"y": np.sqrt(i["x"])})
    assert "use ts.mean" in _trace_error(lambda i: {"y": i["x"] - np.mean(i["x"])})
    schema = {"x": ts.float32(nullable=False)}

    def scaled(i):
        return {"y": np.float32(2.0) * i["x"] - np.float32(1.0), "big": np.float32(2.0) < i["x"]}

    out = ts.analyze(scaled, {"x": [1.0, 3.0]}, schema=schema).transform({"x": [1.0, 3.0]})
    assert out["y"].dtype == np.float32 and out["y"].tolist() == [1.0, 5.0]
    assert out["big"].tolist() == [False, True]


def test_argument_values_raise_value_error_like_tft():
    with pytest.raises(ValueError, match="output_min \\(2\\) must be less than output_max"):
        ts.analyze(lambda i: {"y": ts.scale_by_min_max(i["x"], 2, 1)}, DATA)
    with pytest.raises(ArgumentError, match="unknown strategy"):
        ts.analyze(lambda i: {"y": ts.impute(i["x"], "mode")}, DATA)
    assert issubclass(ArgumentError, ts.TraceError)  # `except ts.TraceError` still catches it


def test_statistics_are_not_python_values_while_tracing():
    message = _trace_error(
        lambda i: {
            "y": ts.one_hot(ts.compute_and_apply_vocabulary(i["s"]), len(ts.vocabulary(i["s"])))
        }
    )
    assert message.startswith("len() of vocabulary(s) is not known while tracing")
    assert "top_k=K, num_oov_buckets=B" in message
    ids = "compute_and_apply_vocabulary(s)"

    def depth_from_max(i):
        found = ts.compute_and_apply_vocabulary(i["s"])
        return {"y": ts.one_hot(found, ts.max(found) + 1)}

    message = _trace_error(depth_from_max)
    assert "one_hot: depth must be a Python value known while tracing" in message
    assert "depth=K + B" in message and ids not in message  # the column is described
    assert "int()" in _trace_error(lambda i: {"y": i["x"] * int(ts.size(i["x"]))})
    assert "iterating" in _trace_error(lambda i: {"y": ts.cross(i["s"])})


def test_nullable_output_error_names_the_feature_and_both_fixes():
    message = _trace_error(lambda i: {"y": i["x"] * 2.0}, {"x": [1.0, None]})
    assert "is null wherever 'x' is missing" in message
    assert "ts.fill_missing(x, value)" in message
    assert "{'x': ts.float64(nullable=False)}" in message
    assert ts.float32() == ts.float32(nullable=True)  # declared features are nullable by default
