"""Errors name the thing, say what was expected and suggest the fix."""

from __future__ import annotations

import pytest

import tskew as ts


def test_unknown_feature_lists_closest_names():
    with pytest.raises(ts.SchemaError, match=r"unknown feature 'fair'.*did you mean 'fare'"):
        ts.analyze(lambda i: {"y": i["fair"]}, {"fare": [1.0], "tips": [2.0]})


def test_wrong_dtype_names_op_and_suggests_cast():
    with pytest.raises(ts.TraceError, match=r"scale|sub|var.*string.*ts.cast"):
        ts.analyze(lambda i: {"y": ts.scale_to_z_score(i["s"])}, {"s": ["a"]})


def test_nullable_output_is_rejected_with_suggestion():
    with pytest.raises(ts.TraceError, match=r"output 'y' could be null.*fill_missing.*impute"):
        ts.analyze(lambda i: {"y": i["x"] * 2.0}, {"x": [1.0, None]})


def test_empty_training_data():
    import pyarrow as pa

    empty = pa.table({"x": pa.array([], pa.float64())})
    with pytest.raises(ts.AnalyzeError, match="empty training data"):
        ts.analyze(
            lambda i: {"y": i["x"] - ts.mean(i["x"])},
            empty,
            schema={"x": ts.float64(nullable=False)},
        )


def test_analyzer_without_values_names_feature():
    with pytest.raises(ts.AnalyzeError, match=r"mean of x saw no values"):
        ts.analyze(
            lambda i: {"y": ts.fill_missing(i["x"], 0.0) - ts.mean(i["x"])},
            {"x": [float("nan"), float("nan")]},
        )


def test_statistic_as_output_and_bad_return_value():
    with pytest.raises(ts.TraceError, match="dataset statistic"):
        ts.analyze(lambda i: {"m": ts.mean(i["x"])}, {"x": [1.0]})
    with pytest.raises(ts.TraceError, match="dict"):
        ts.analyze(lambda i: [i["x"]], {"x": [1.0]})


def test_python_truthiness_of_column_is_explained():
    with pytest.raises(ts.TraceError, match=r"ts\.where"):
        ts.analyze(lambda i: {"y": i["x"] if i["x"] > 0 else -i["x"]}, {"x": [1.0]})


def test_non_nullable_feature_receiving_null_at_transform_time():
    tfn = ts.analyze(lambda i: {"y": i["x"] + 1.0}, {"x": [1.0, 2.0]})
    with pytest.raises(ts.DataError, match=r"'x'.*null"):
        tfn.transform({"x": [1.0, None]})


def test_float_to_string_cast_is_refused_at_trace_time():
    with pytest.raises(ts.TraceError, match="float -> string"):
        ts.analyze(lambda i: {"y": ts.cast(i["x"], "string")}, {"x": [1.0]})
