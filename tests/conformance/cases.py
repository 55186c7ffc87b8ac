"""The conformance table: every op with inputs and the values numpy semantics give.

Each `Case` trains a small preprocessing_fn, transforms ``probe`` and states the
expected outputs. `test_conformance.py` runs every case on every backend
(numpy today; TensorFlow and ONNX register themselves in BACKENDS) and
requires bit-identical results, except for the ops in tskew.verify.ULP_TOLERANCE.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import tskew as ts

NAN, INF = float("nan"), float("inf")
HOSTILE = [0.0, -0.0, 1.0, -1.5, NAN, INF, -INF, 1e308, -1e308, 5e-324, 3.4e38, 1e-45]
HOSTILE32 = [0.0, -0.0, 1.0, -1.5, NAN, INF, -INF, 3.4e38, -3.4e38, 1e-45, 1.2e-38]
STRINGS = ["", "a", "A", " x ", "ünïcödé", "tab\there", "new\nline", "日本", "\x00nul", "a" * 300]



@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable[[dict], dict]
    train: dict[str, Any]
    probe: dict[str, Any]
    expected: dict[str, list] | None = None  # hand-computed where practical


def _f32(values):
    return np.array(values, dtype=np.float32)


CASES = [
    Case(
        "add_sub_mul_float32",
        lambda i: {"y": (i["x"] + 1.5) * 2.0 - i["x"]},
        {"x": _f32([1.0])},
        {"x": _f32(HOSTILE32)},
    ),
    Case(
        "div_by_column_int64",
        lambda i: {"y": i["a"] / i["b"]},
        {"a": [1], "b": [1]},
        {"a": [1, -7, 0, 0, 2**62], "b": [3, 2, 0, -5, 3]},
        {"y": [1 / 3, -3.5, NAN, -0.0, 2**62 / 3]},
    ),
    Case(
        "div_by_statistic_is_reciprocal_multiply",
        lambda i: {"y": (i["x"] - ts.mean(i["x"])) / ts.max(i["x"])},
        {"x": _f32([0.3, 0.7, 1.9, 7.1])},
        {"x": _f32(np.linspace(-3, 3, 2001))},
    ),
    Case(
        "z_score_float32",
        lambda i: {"y": ts.scale_to_z_score(i["x"])},
        {"x": _f32([0.1, 0.2, 0.7, 3.3])},
        {"x": _f32(HOSTILE32)},
    ),
    Case(
        "z_score_int64_to_float32",
        lambda i: {"y": ts.scale_to_z_score(i["x"])},
        {"x": [1, 2, 3, 10]},
        {"x": [0, 5, -(2**62)]},
    ),
    Case(
        "scale_by_min_max",
        lambda i: {"y": ts.scale_by_min_max(i["x"], -1.0, 1.0)},
        {"x": [0.0, 4.0]},
        {"x": HOSTILE},
    ),
    Case(
        "scale_to_0_1_degenerate_sigmoid",
        lambda i: {"y": ts.scale_to_0_1(i["x"])},
        {"x": [2.0, 2.0]},
        {"x": [0.0, 2.0, -50.0]},
        {"y": [0.5, 1 / (1 + np.exp(-2.0)), 1 / (1 + np.exp(50.0))]},
    ),
    Case(
        "compare_and_logic",
        lambda i: {"y": ts.cast((i["x"] > 0.0) & ~(i["x"] == 1.0) | (i["x"] <= -1.5), "int64")},
        {"x": [1.0]},
        {"x": HOSTILE},
    ),
    Case(
        "math",
        lambda i: {
            "l": ts.log1p(ts.abs(i["x"])),
            "s": ts.sqrt(ts.abs(i["x"])),
            "e": ts.exp(ts.clip(i["x"], -10.0, 10.0)),
        },
        {"x": [1.0]},
        {"x": HOSTILE},
    ),
    Case(
        "clip_keeps_nan", lambda i: {"y": ts.clip(i["x"], -1.0, 1.0)}, {"x": [0.0]}, {"x": HOSTILE}
    ),
    Case(
        "cast_float_to_int_saturates",
        lambda i: {"y": ts.cast(i["x"], "int64")},
        {"x": [0.0]},
        {"x": [1.9, -1.9, NAN, INF, -INF, 1e300, -0.0]},
        {"y": [1, -1, 0, 2**63 - 1, -(2**63), 2**63 - 1, 0]},
    ),
    Case(
        "cast_string_to_number",
        lambda i: {"y": ts.fill_missing(ts.cast(i["s"], "float64"), -1.0)},
        {"s": ["1"]},
        {"s": ["1.5", "", "abc", "-2e3", "inf", "nan", " 3"]},
        {"y": [1.5, -1.0, -1.0, -2000.0, INF, -1.0, -1.0]},
    ),  # "nan" parses to NaN: missing
    Case(
        "fill_missing_and_is_missing",
        lambda i: {"f": ts.fill_missing(i["x"], 9.0), "m": ts.is_missing(i["x"])},
        {"x": [1.0, None]},
        {"x": [None, NAN, 2.0, -INF]},
        {"f": [9.0, 9.0, 2.0, -INF], "m": [True, True, False, False]},
    ),
    Case(
        "apply_buckets",
        lambda i: {"y": ts.apply_buckets(i["x"], [-1.0, 0.0, 1.0])},
        {"x": [0.0]},
        {"x": HOSTILE},
    ),
    Case(
        "bucketize_exact_quantiles",
        lambda i: {"y": ts.bucketize(i["x"], 4)},
        {"x": list(range(1, 100))},
        {"x": [0, 24, 25, 26, 50, 74, 75, 99, 1000]},
        {"y": [0, 0, 1, 1, 2, 2, 3, 3, 3]},
    ),
    Case(
        "vocabulary_oov_hash",
        lambda i: {"y": ts.compute_and_apply_vocabulary(i["s"], top_k=4, num_oov_buckets=3)},
        {"s": [*STRINGS, "a", "a", "日本"]},
        {"s": [*STRINGS, "never seen"]},
    ),
    Case(
        "vocabulary_default_value",
        lambda i: {"y": ts.compute_and_apply_vocabulary(i["s"], default_value=-9)},
        {"s": ["b", "a", "b"]},
        {"s": ["a", "b", "c", ""]},
        {"y": [1, 0, -9, -9]},
    ),
    Case(
        "hash_strings", lambda i: {"y": ts.hash_strings(i["s"], 1000)}, {"s": ["a"]}, {"s": STRINGS}
    ),
    Case(
        "lower_strip_cross",
        lambda i: {"y": ts.cross([ts.lower(ts.strip(i["s"])), i["n"]])},
        {"s": ["a"], "n": [1]},
        {"s": STRINGS, "n": list(range(len(STRINGS)))},
    ),
    Case(
        "cross_strings_ints_bools",
        lambda i: {"y": ts.cross([i["s"], i["n"], i["n"] > 3])},
        {"s": ["a"], "n": [1]},
        {"s": STRINGS, "n": [*range(len(STRINGS) - 2), -(2**63), 2**63 - 1]},
    ),
    Case(
        "cast_string_to_int_and_bool",
        lambda i: {
            "n": ts.fill_missing(ts.cast(i["s"], "int64"), -1),
            "b": ts.fill_missing(ts.cast(i["s"], "bool"), False),
        },
        {"s": ["1"]},
        {
            "s": [
                "12",
                "+7",
                "-0",
                "007",
                "1.5",
                "",
                " 3",
                "TRUE",
                "false",
                "1",
                "0",
                "9223372036854775807",
                "9223372036854775808",
                "-9223372036854775808",
                "-9223372036854775809",
                "99999999999999999999",
                "0009223372036854775807",
            ]
        },
        {
            "n": [
                12,
                7,
                0,
                7,
                -1,
                -1,
                -1,
                -1,
                -1,
                1,
                0,
                2**63 - 1,
                -1,
                -(2**63),
                -1,
                -1,
                2**63 - 1,
            ],
            "b": [
                False,
                False,
                False,
                False,
                False,
                False,
                False,
                True,
                False,
                True,
                False,
                False,
                False,
                False,
                False,
                False,
                False,
            ],
        },
    ),
    Case(
        "where_and_one_hot",
        lambda i: {"w": ts.where(i["n"] > 2, i["n"], -i["n"]), "o": ts.one_hot(i["n"], 4)},
        {"n": [1]},
        {"n": [-1, 0, 3, 4, 2**62]},
        {
            "w": [1, 0, 3, 4, 2**62],
            "o": [[0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
        },
    ),
    Case(
        "impute_median_int",
        lambda i: {"y": ts.impute(i["n"], "median")},
        {"n": [5, None, 1, 3]},
        {"n": [None, 7]},
        {"y": [3, 7]},
    ),
]
