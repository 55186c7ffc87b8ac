"""Analyzers and mappers on hand-checked cases, including TFT's published ones."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

import tskew as ts


def _stat(fn, column, values, dtype=None):
    """Analyze a one-column dataset and return the frozen output for `values`."""
    data = {column: pa.array(values, type=dtype)} if dtype else {column: values}
    return ts.analyze(fn, data)


def test_z_score_of_1_to_100_with_nans_matches_tft():
    values = [float(v) for v in range(1, 101)] + [float("nan")] * 7
    tfn = ts.analyze(
        lambda i: {
            "z": ts.scale_to_z_score(i["x"]),
            "m": i["x"] * 0.0 + ts.mean(i["x"]),
            "v": i["x"] * 0.0 + ts.var(i["x"]),
        },
        {"x": values},
    )
    out = tfn.transform({"x": [50.5, 1.0]})
    assert out["m"][0] == 50.5
    assert out["v"][0] == 833.25
    assert out["z"][0] == 0.0
    assert out["z"][1] == pytest.approx((1.0 - 50.5) / math.sqrt(833.25), rel=1e-15)
    stats = tfn.statistics.inputs["x"]
    assert (stats.count, stats.nan, stats.missing) == (107, 7, 0)


def test_z_score_of_constant_feature_is_x_minus_mean():
    tfn = ts.analyze(lambda i: {"z": ts.scale_to_z_score(i["x"])}, {"x": [3.0, 3.0, 3.0]})
    assert tfn.transform({"x": [3.0, 5.0]})["z"].tolist() == [0.0, 2.0]


def test_z_score_of_int_feature_is_float32_like_tft():
    tfn = ts.analyze(lambda i: {"z": ts.scale_to_z_score(i["x"])}, {"x": [1, 2, 3]})
    assert tfn.output_schema["z"].dtype is ts.DType.FLOAT32


def test_division_by_statistic_is_frozen_as_reciprocal_multiply():
    tfn = ts.analyze(lambda i: {"y": i["x"] / ts.max(i["x"])}, {"x": [1.0, 3.0]})
    ops = [n.op for n in tfn.graph.nodes]
    assert "div" not in ops and "mul" in ops
    recip = next(n for n in tfn.graph.nodes if n.op == "const")
    assert recip.attr("value") == 1.0 / 3.0


@pytest.mark.parametrize(
    ("values", "num_buckets", "expected"),
    [
        (list(range(1, 100)), 4, [25, 50, 75]),  # TFT's published boundaries
        ([1, 2, 3, 4], 6, [1, 2, 3, 3, 4]),  # TFT's case with more buckets than values
        ([5.0, 1.0, 3.0, float("nan")], 2, [3.0]),
    ],
)
def test_quantile_boundaries_are_exact(values, num_buckets, expected):
    tfn = ts.analyze(
        lambda i: {
            "b": ts.bucketize(ts.fill_missing(i["x"], 0), num_buckets),
            "raw": ts.fill_missing(i["x"], 0),
        },
        {"x": values},
    )
    bounds = [n for n in tfn.graph.nodes if n.op == "const" and n.type.shape.value == "vector"]
    got = [v for n in bounds for v in n.attr("value").values.tolist()]
    if float("nan") in values or any(v != v for v in values):
        got_expected = expected  # NaN was filled with 0 before bucketizing
        assert got == sorted(got) and len(got) == len(got_expected)
    else:
        assert got == expected


def test_apply_buckets_rule_and_nan():
    tfn = ts.analyze(lambda i: {"b": ts.apply_buckets(i["x"], [0.0, 10.0])}, {"x": [1.0]})
    out = tfn.transform({"x": [-1.0, 0.0, 9.99, 10.0, float("nan"), float("inf")]})["b"]
    assert out.tolist() == [0, 1, 1, 2, 2, 2]


def test_vocabulary_ties_by_decreasing_value_and_threshold_inclusive():
    data = {"s": ["b", "a", "c", "a", "b", "d", "é"]}
    tfn = ts.analyze(lambda i: {"id": ts.compute_and_apply_vocabulary(i["s"])}, data)
    vocab = next(n for n in tfn.graph.nodes if n.op == "const" and n.type.shape.value == "vector")
    # counts: a=2, b=2, then ties c, d, é ordered by decreasing byte value
    assert vocab.attr("value").values.tolist() == ["b", "a", "é", "d", "c"]
    tfn = ts.analyze(
        lambda i: {"id": ts.compute_and_apply_vocabulary(i["s"], frequency_threshold=2)}, data
    )
    assert tfn.transform({"s": ["a", "b", "c"]})["id"].tolist() == [1, 0, -1]


def test_empty_vocabulary_maps_everything_to_default_or_oov():
    data = {"s": ["x", "y"]}
    tfn = ts.analyze(
        lambda i: {
            "id": ts.compute_and_apply_vocabulary(i["s"], frequency_threshold=5, default_value=-7)
        },
        data,
    )
    assert tfn.transform({"s": ["x"]})["id"].tolist() == [-7]
    tfn = ts.analyze(
        lambda i: {
            "id": ts.compute_and_apply_vocabulary(i["s"], frequency_threshold=5, num_oov_buckets=3)
        },
        data,
    )
    ids = tfn.transform({"s": ["x", "y", "zz"]})["id"]
    assert all(0 <= v < 3 for v in ids)


def test_top_k_and_oov_buckets_are_stable_hashes():
    data = {"s": ["a"] * 3 + ["b"] * 2 + ["c"]}
    tfn = ts.analyze(
        lambda i: {"id": ts.compute_and_apply_vocabulary(i["s"], top_k=2, num_oov_buckets=4)}, data
    )
    out = tfn.transform({"s": ["a", "b", "c", "c", "zz"]})["id"].tolist()
    assert out[:2] == [0, 1] and out[2] == out[3] and all(2 <= v < 6 for v in out[2:])


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("mean", 2.5),
        ("median", 3.0),
        ("most_frequent", 1.0),
    ],
)
def test_impute_strategies(strategy, expected):
    data = {"x": [1.0, 1.0, 3.0, 5.0, None]}
    tfn = ts.analyze(lambda i: {"y": ts.impute(i["x"], strategy)}, data)
    assert tfn.transform({"x": [None, 7.0]})["y"].tolist() == [expected, 7.0]


def test_min_max_scaling_and_degenerate_range_uses_sigmoid():
    tfn = ts.analyze(lambda i: {"y": ts.scale_by_min_max(i["x"], -1.0, 1.0)}, {"x": [0.0, 10.0]})
    assert tfn.transform({"x": [0.0, 5.0, 10.0]})["y"].tolist() == [-1.0, 0.0, 1.0]
    tfn = ts.analyze(lambda i: {"y": ts.scale_to_0_1(i["x"])}, {"x": [2.0, 2.0]})
    assert tfn.transform({"x": [0.0]})["y"].tolist() == [0.5]


def test_clip_by_quantiles_and_sum_size():
    data = {"x": list(range(100))}
    tfn = ts.analyze(
        lambda i: {
            "c": ts.clip_by_quantiles(i["x"], 0.1, 0.9),
            "s": i["x"] * 0 + ts.sum(i["x"]),
            "n": i["x"] * 0 + ts.size(i["x"]),
        },
        data,
    )
    out = tfn.transform({"x": [0, 50, 99]})
    assert out["c"].tolist() == [10, 50, 90]
    assert out["s"].tolist() == [4950] * 3 and out["n"].tolist() == [100] * 3


def test_string_ops_cross_hash_lower_strip():
    data = {"a": ["  Ab ", "ÄÖ"], "n": [3, 4]}
    tfn = ts.analyze(
        lambda i: {
            "l": ts.lower(ts.strip(i["a"])),
            "c": ts.cross([i["n"], i["a"]]),
            "h": ts.hash_strings(i["a"], 10),
        },
        data,
    )
    out = tfn.transform(data)
    assert out["l"].tolist() == ["ab", "äö"]
    assert out["c"].tolist() == ["3_X_  Ab ", "4_X_ÄÖ"]
    import mmh3

    assert out["h"].tolist() == [mmh3.hash(s.encode(), 0, signed=False) % 10 for s in data["a"]]


def test_cast_semantics():
    data = {"f": [1.9, -1.9, float("nan"), 1e30], "s": ["12", "x", "-3", ""]}
    tfn = ts.analyze(
        lambda i: {
            "i": ts.cast(i["f"], "int64"),
            "p": ts.fill_missing(ts.cast(i["s"], "int64"), -1),
            "b": ts.cast(i["f"] > 0.0, ts.int64()),
        },
        data,
    )
    out = tfn.transform(data)
    assert out["i"].tolist() == [1, -1, 0, np.iinfo(np.int64).max]
    assert out["p"].tolist() == [12, -1, -3, -1]
    assert out["b"].tolist() == [1, 0, 0, 1]


def test_where_one_hot_is_missing_and_operators():
    data = {"x": [1.0, None, 3.0], "k": [0, 2, 5]}
    tfn = ts.analyze(
        lambda i: {
            "w": ts.where(ts.is_missing(i["x"]), -1.0, ts.fill_missing(i["x"], 0.0) * 2.0),
            "o": ts.one_hot(i["k"], 3),
            "cmp": ts.cast((i["k"] >= 2) & ~(i["k"] == 5), "int64"),
            "neg": -(i["k"] + 1) - 1,
            "abs": ts.abs(i["k"] - 3),
            "sq": ts.sqrt(ts.log1p(i["k"])),
        },
        data,
    )
    out = tfn.transform(data)
    assert out["w"].tolist() == [2.0, -1.0, 6.0]
    assert out["o"].tolist() == [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
    assert out["cmp"].tolist() == [0, 1, 0]
    assert out["neg"].tolist() == [-2, -4, -7]
    assert out["abs"].tolist() == [3, 1, 2]
    assert out["sq"].tolist() == np.sqrt(np.log1p(np.array([0.0, 2.0, 5.0]))).tolist()


def test_nested_analyzers_need_several_phases():
    fn = lambda i: {"b": ts.bucketize(ts.scale_to_z_score(ts.impute(i["x"], "median")), 4)}
    tfn = ts.analyze(fn, {"x": [float(v) for v in range(20)] + [None]})
    assert "3 phase(s)" in tfn.plan_text and "4 pass(es)" in tfn.plan_text
    assert sorted(set(tfn.transform({"x": [float(v) for v in range(20)]})["b"])) == [0, 1, 2, 3]
