"""The conformance table: every op with inputs and the values its semantics give.

Each `Case` trains a small preprocessing_fn, transforms ``probe`` and states the
expected outputs: hand-computed lists, or a formula written directly in numpy /
Python from the documented semantics (not through tskew). `test_conformance.py`
checks every backend against them, bit for bit except for the ulp tolerances of
the op specs; `test_matrix.py` checks that the cases cover every op and dtype
combination each backend claims.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

import tskew as ts

NAN, INF = float("nan"), float("inf")
HOSTILE = [0.0, -0.0, 1.0, -1.5, NAN, INF, -INF, 1e308, -1e308, 5e-324, 3.4e38, 1e-45]
HOSTILE32 = [0.0, -0.0, 1.0, -1.5, NAN, INF, -INF, 3.4e38, -3.4e38, 1e-45, 1.2e-38]
STRINGS = ["", "a", "A", " x ", "ünïcödé", "tab\there", "new\nline", "日本", "\x00nul", "a" * 300]
ASCII_WHITESPACE = " \t\n\v\f\r"

Expected = dict[str, Any] | Callable[[dict[str, np.ndarray]], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    """A preprocessing_fn, its training data, a probe and the outputs the probe must give.

    ``expected`` is the outputs, or a function of the probe's columns (numpy arrays)
    computing them from the documented semantics.
    """

    name: str
    fn: Callable[[dict], dict]
    train: dict[str, Any]
    probe: dict[str, Any]
    expected: Expected

    def expected_outputs(self) -> dict[str, Any]:
        if callable(self.expected):
            with np.errstate(all="ignore"):
                return self.expected({k: _array(v) for k, v in self.probe.items()})
        return self.expected


def _array(values: Any) -> np.ndarray:
    return values if isinstance(values, np.ndarray) else np.array(values)


def _f32(values):
    return np.array(values, dtype=np.float32)


def exact_mean(values) -> Fraction:
    return sum(map(Fraction, map(float, values)), Fraction(0)) / len(values)


def exact_var(values) -> float:
    """Population variance, exact, rounded once (tskew's statistic)."""
    mean = exact_mean(values)
    return float(sum((Fraction(float(v)) - mean) ** 2 for v in values) / len(values))


def _z_score32(train) -> Callable[[dict], dict]:
    mean, inv_std = (
        np.float32(float(exact_mean(train))),
        np.float32(1.0 / np.sqrt(exact_var(train))),
    )
    return lambda p: {"y": (p["x"].astype(np.float32) - mean) * inv_std}


CASES = [
    Case(
        "add_sub_mul_float32",
        lambda i: {"y": (i["x"] + 1.5) * 2.0 - i["x"]},
        {"x": _f32([1.0])},
        {"x": _f32(HOSTILE32)},
        lambda p: {"y": (p["x"] + np.float32(1.5)) * np.float32(2.0) - p["x"]},
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
        # float32 - float64 mean -> float64; one multiply by the reciprocal of max (frozen)
        lambda p: {
            "y": (p["x"].astype(np.float64) - float(exact_mean(_f32([0.3, 0.7, 1.9, 7.1]))))
            * (1.0 / np.float64(np.float32(7.1)))
        },
    ),
    Case(
        "z_score_float32",
        lambda i: {"y": ts.scale_to_z_score(i["x"])},
        {"x": _f32([0.1, 0.2, 0.7, 3.3])},
        {"x": _f32(HOSTILE32)},
        _z_score32(_f32([0.1, 0.2, 0.7, 3.3])),
    ),
    Case(
        "z_score_int64_to_float32",
        lambda i: {"y": ts.scale_to_z_score(i["x"])},
        {"x": [1, 2, 3, 10]},
        {"x": [0, 5, -(2**62)]},
        _z_score32([1, 2, 3, 10]),  # mean 4, variance 12.5; int64 -> float32 like TFT
    ),
    Case(
        "scale_by_min_max",
        lambda i: {"y": ts.scale_by_min_max(i["x"], -1.0, 1.0)},
        {"x": [0.0, 4.0]},
        {"x": HOSTILE},
        lambda p: {"y": (p["x"] - 0.0) * (1.0 / (4.0 - 0.0)) * 2.0 + -1.0},
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
        {"y": [0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1]},
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
        lambda p: {
            "l": np.log1p(np.abs(p["x"])),
            "s": np.sqrt(np.abs(p["x"])),
            "e": np.exp(np.minimum(np.maximum(p["x"], -10.0), 10.0)),
        },
    ),
    Case(
        "clip_keeps_nan",
        lambda i: {"y": ts.clip(i["x"], -1.0, 1.0)},
        {"x": [0.0]},
        {"x": HOSTILE},
        {"y": [0.0, -0.0, 1.0, -1.0, NAN, 1.0, -1.0, 1.0, -1.0, 5e-324, 1.0, 1e-45]},
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
        {"y": [2, 2, 3, 0, 3, 3, 0, 3, 0, 2, 3, 2]},  # b[i-1] <= x < b[i]; NaN last
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
        # vocabulary: a (3), 日本 (2), then ties by decreasing bytes: ünïcödé, tab\there;
        # the others: 4 + MurmurHash3(s) % 3 (the hashes of the hash_strings case)
        {"y": [4, 0, 5, 6, 2, 3, 4, 1, 6, 6, 4]},
    ),
    Case(
        "vocabulary_default_value",
        lambda i: {"y": ts.compute_and_apply_vocabulary(i["s"], default_value=-9)},
        {"s": ["b", "a", "b"]},
        {"s": ["a", "b", "c", ""]},
        {"y": [1, 0, -9, -9]},
    ),
    Case(
        "hash_strings",
        lambda i: {"y": ts.hash_strings(i["s"], 1000)},
        {"s": ["a"]},
        {"s": STRINGS},
        # MurmurHash3_x86_32(seed 0) % 1000; "" hashes to 0, "a" to 0x3C2569B2 = 1009084850
        {"y": [0, 850, 502, 606, 956, 94, 450, 458, 763, 243]},
    ),
    Case(
        "lower_strip_cross",
        lambda i: {"y": ts.cross([ts.lower(ts.strip(i["s"])), i["n"]])},
        {"s": ["a"], "n": [1]},
        {"s": STRINGS, "n": list(range(len(STRINGS)))},
        lambda p: {
            "y": [
                f"{s.strip(ASCII_WHITESPACE).lower()}_X_{n}"
                for s, n in zip(p["s"], p["n"], strict=True)
            ]
        },
    ),
    Case(
        "cross_strings_ints_bools",
        lambda i: {"y": ts.cross([i["s"], i["n"], i["n"] > 3]), "y2": ts.cross([i["s"], i["n"]])},
        {"s": ["a"], "n": [1]},
        {"s": STRINGS, "n": [*range(len(STRINGS) - 2), -(2**63), 2**63 - 1]},
        lambda p: {
            "y": [
                f"{s}_X_{n}_X_{str(n > 3).lower()}"
                for s, n in zip(p["s"].tolist(), p["n"].tolist(), strict=True)
            ],
            "y2": [f"{s}_X_{n}" for s, n in zip(p["s"].tolist(), p["n"].tolist(), strict=True)],
        },
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
    Case(
        "compare_lt_ge_and_strings_ne",
        lambda i: {
            "lt": ts.cast(i["x"] < 1.0, "int64"),
            "ge": ts.cast(i["x"] >= 1.0, "int64"),
            "ne": ts.cast(i["s"] != "a", "int64"),
        },
        {"x": [1.0], "s": ["a"]},
        {"x": [0.5, 1.0, NAN, 2.0], "s": ["a", "b", "", "A"]},
        {"lt": [1, 0, 0, 0], "ge": [0, 1, 0, 1], "ne": [0, 1, 1, 1]},
    ),
    Case(
        "sum_size_most_frequent",
        lambda i: {
            "y": i["n"] * ts.size(i["n"]) + ts.sum(i["n"]),
            "m": ts.impute(i["s"], "most_frequent"),
        },
        {"n": [1, 2, 2, 5], "s": ["b", "a", "b", None]},
        {"n": [0, 3], "s": [None, "c"]},
        {"y": [10, 22], "m": ["b", "c"]},  # size 4, sum 10, most frequent "b"
    ),
    Case(
        "top_k_map_labels",
        lambda i: {"y": ts.policy.top_k_labels(["a", "b", "c"]).fn(ts.one_hot(i["n"], 3))},
        {"n": [0]},
        {"n": [0, 2, 1, 5, -1]},
        {"y": ["a", "c", "b", "a", "a"]},  # all-zero scores: ties go to the lower id
    ),
]
