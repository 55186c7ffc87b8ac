"""Golden skew metrics from TensorFlow Data Validation, for tests/unit/test_skew_metrics.py.

Run in the TFDV venv (TFDV is not a tskew dependency)::

    bash benchmarks/tfdv_env.sh                                # builds benchmarks/.venv-tfdv once
    benchmarks/.venv-tfdv/bin/python benchmarks/tfdv_golden.py # writes tests/data/tfdv_golden.json

For each case below (a small deterministic training and serving DataFrame) it runs
``tfdv.generate_statistics_from_dataframe`` on both, ``tfdv.infer_schema`` on training, sets a
skew comparator with threshold 0 for ``infinity_norm`` and ``jensen_shannon_divergence`` on every
feature, runs ``tfdv.validate_statistics(train, schema, serving_statistics=serve)`` and records,
per feature:

* the inputs TFDV's C++ metrics read: ``string_stats.rank_histogram`` (label -> sample_count) of
  each side for categorical features; the STANDARD ``num_stats.histograms`` (buckets as
  ``[low, high, count]`` and ``num_nan``) of each side for numeric ones (QUANTILES kept too);
* TFDV's values: ``anomalies.drift_skew_info[].skew_measurements[]`` (``L_INFTY``,
  ``JENSEN_SHANNON_DIVERGENCE``) and, for L-infinity, the category TFDV names in the anomaly
  description ("The feature value with maximum difference is: ...").

Non-finite floats are written as the strings "inf", "-inf", "nan" so the file is strict JSON.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd
import pyarrow as pa
import tensorflow_data_validation as tfdv
from tensorflow_data_validation.statistics import stats_impl
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2
from tfx_bsl.arrow import table_util

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "tfdv_golden.json"
INF, NAN = math.inf, math.nan


def _cases() -> dict[str, tuple[str, pd.DataFrame, pd.DataFrame]]:
    """name -> (description, training frame, serving frame); all deterministic.

    Cases whose name starts with ``arrow_`` are fed to TFDV as Arrow record batches that keep
    NaN as a value (as a float NaN in a tf.Example does); ``generate_statistics_from_dataframe``
    turns a pandas NaN into a missing value instead, so those cases never reach ``num_nan``.
    """
    rng = np.random.default_rng(20240606)
    cats = np.array(["alpha", "beta", "gamma", "delta", "epsilon"])
    cat_train = cats[rng.choice(5, size=400, p=[0.4, 0.25, 0.2, 0.1, 0.05])]
    cat_serve = np.concatenate(
        [cats[rng.choice(4, size=280, p=[0.2, 0.3, 0.3, 0.2])], np.array(["zeta"] * 20)]
    )
    normal_train = rng.normal(10.0, 2.0, size=500)
    normal_serve = rng.normal(11.0, 2.5, size=400)
    with_special_train = np.concatenate([rng.normal(0.0, 1.0, 190), [NAN] * 6, [INF] * 4])
    with_special_serve = np.concatenate(
        [rng.normal(0.5, 1.0, 170), [NAN] * 15, [INF] * 5, [-INF] * 10]
    )
    ident_num = np.concatenate([rng.uniform(-5.0, 5.0, 300)])
    ident_num_special = np.concatenate([rng.uniform(0.0, 1.0, 95), [NAN] * 3, [INF, -INF]])
    ints_train = rng.integers(0, 20, 300).astype(np.int64)
    ints_serve = rng.integers(5, 30, 300).astype(np.int64)
    const_train = np.full(100, 3.0)
    const_serve = np.concatenate([np.full(60, 3.0), rng.uniform(2.0, 4.0, 40)])
    nan_same_range_train = np.concatenate([np.arange(10.0), [NAN] * 2])
    nan_same_range_serve = np.concatenate([np.arange(10.0)[::-1], [NAN] * 5])
    nan_finite = np.arange(10.0)
    return {
        "arrow_nan_same_range": (
            "NaN kept as a value; the same finite values (same boundaries), NaN 2/12 vs 5/15",
            pd.DataFrame({"fare": np.concatenate([nan_finite, [NAN] * 2])}),
            pd.DataFrame({"fare": np.concatenate([nan_finite[::-1], [NAN] * 5])}),
        ),
        "arrow_nan_identical": (
            "NaN kept as a value; identical data with NaN and +inf",
            pd.DataFrame({"fare": np.concatenate([nan_finite, [NAN] * 3, [INF]])}),
            pd.DataFrame({"fare": np.concatenate([nan_finite, [NAN] * 3, [INF]])}),
        ),
        "arrow_nan_drift": (
            "NaN kept as a value; different ranges (rebucketed), NaN, +inf and -inf",
            pd.DataFrame({"fare": np.concatenate([with_special_train, [-INF] * 3])}),
            pd.DataFrame({"fare": with_special_serve}),
        ),
        "categorical_drift": (
            "5 categories with shifted shares; serving lacks 'epsilon' and has unseen 'zeta'",
            pd.DataFrame({"company": cat_train}),
            pd.DataFrame({"company": cat_serve}),
        ),
        "categorical_identical": (
            "the same category counts on both sides",
            pd.DataFrame({"company": cat_train}),
            pd.DataFrame({"company": cat_train[::-1].copy()}),
        ),
        "categorical_disjoint": (
            "no category in common",
            pd.DataFrame({"company": ["a"] * 30 + ["b"] * 10}),
            pd.DataFrame({"company": ["c"] * 5 + ["d"] * 15}),
        ),
        "numeric_drift": (
            "normal(10, 2) vs normal(11, 2.5)",
            pd.DataFrame({"fare": normal_train}),
            pd.DataFrame({"fare": normal_serve}),
        ),
        "numeric_nan_inf_drift": (
            "normal(0,1) with NaN and +inf vs normal(0.5,1) with more NaN, +inf and -inf",
            pd.DataFrame({"fare": with_special_train}),
            pd.DataFrame({"fare": with_special_serve}),
        ),
        "numeric_identical": (
            "the same values on both sides (no NaN/inf)",
            pd.DataFrame({"fare": ident_num}),
            pd.DataFrame({"fare": ident_num[::-1].copy()}),
        ),
        "numeric_identical_nan_inf": (
            "the same values on both sides, with NaN, +inf and -inf",
            pd.DataFrame({"fare": ident_num_special}),
            pd.DataFrame({"fare": ident_num_special[::-1].copy()}),
        ),
        "numeric_same_range_nan": (
            "the same finite values (same histogram boundaries), NaN share 2/12 vs 5/15",
            pd.DataFrame({"fare": nan_same_range_train}),
            pd.DataFrame({"fare": nan_same_range_serve}),
        ),
        "int_shift": (
            "int64 uniform on [0, 20) vs [5, 30)",
            pd.DataFrame({"hour": ints_train}),
            pd.DataFrame({"hour": ints_serve}),
        ),
        "point_mass": (
            "a constant training column (zero-width bucket) vs 60% the constant, 40% uniform",
            pd.DataFrame({"fare": const_train}),
            pd.DataFrame({"fare": const_serve}),
        ),
    }


def _f(x: float) -> float | str:
    """A float for strict JSON: non-finite values as strings."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _feature_inputs(feature: statistics_pb2.FeatureNameStatistics) -> dict:
    if feature.HasField("string_stats"):
        counts = {b.label: b.sample_count for b in feature.string_stats.rank_histogram.buckets}
        return {"kind": "categorical", "counts": counts}
    out: dict = {"kind": "numeric"}
    for h in feature.num_stats.histograms:
        name = statistics_pb2.Histogram.HistogramType.Name(h.type).lower()
        out[name] = {
            "num_nan": h.num_nan,
            "buckets": [[_f(b.low_value), _f(b.high_value), b.sample_count] for b in h.buckets],
        }
    return out


def _features(stats: statistics_pb2.DatasetFeatureStatisticsList) -> dict[str, dict]:
    return {f.path.step[0]: _feature_inputs(f) for f in stats.datasets[0].features}


def _tfdv_values(anomalies: anomalies_pb2.Anomalies) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for info in anomalies.drift_skew_info:
        name = info.path.step[0]
        for m in info.skew_measurements:
            kind = anomalies_pb2.DriftSkewInfo.Measurement.Type.Name(m.type)
            out.setdefault(name, {})[kind.lower()] = m.value
    for name, info in anomalies.anomaly_info.items():
        for reason in info.reason:
            hit = re.search(
                r"The feature value with maximum difference is: (.*)$", reason.description
            )
            if hit:
                out.setdefault(name, {})["l_infty_value"] = hit.group(1)
    return out


def _arrow_statistics(frame: pd.DataFrame) -> statistics_pb2.DatasetFeatureStatisticsList:
    """TFDV statistics of a frame whose NaN stay values (not nulls), via an Arrow batch."""
    batch = pa.RecordBatch.from_arrays(
        [pa.array(frame[c].to_numpy(), from_pandas=False) for c in frame.columns],
        list(frame.columns),
    )
    return stats_impl.generate_statistics_in_memory(table_util.CanonicalizeRecordBatch(batch))


def run_case(train: pd.DataFrame, serve: pd.DataFrame, arrow: bool = False) -> dict:
    make = _arrow_statistics if arrow else tfdv.generate_statistics_from_dataframe
    train_stats, serve_stats = make(train), make(serve)
    schema = tfdv.infer_schema(train_stats)
    for column in train.columns:
        comparator = tfdv.get_feature(schema, column).skew_comparator
        comparator.infinity_norm.threshold = 0.0
        comparator.jensen_shannon_divergence.threshold = 0.0
    anomalies = tfdv.validate_statistics(train_stats, schema, serving_statistics=serve_stats)
    train_f, serve_f = _features(train_stats), _features(serve_stats)
    values = _tfdv_values(anomalies)
    return {
        column: {"train": train_f[column], "serve": serve_f[column], "tfdv": values.get(column, {})}
        for column in train.columns
    }


def main() -> None:
    golden = {
        "generated_by": "benchmarks/tfdv_golden.py",
        "tfdv_version": tfdv.__version__,
        "python": sys.version.split()[0],
        "notes": (
            "inputs are TFDV's own statistics (rank_histogram counts; STANDARD and QUANTILES "
            "histograms with num_nan); 'tfdv' holds anomalies.drift_skew_info skew_measurements "
            "(threshold 0) and the L-infinity category named in the anomaly description; "
            "non-finite floats are strings"
        ),
        "cases": {},
    }
    for name, (description, train, serve) in _cases().items():
        arrow = name.startswith("arrow_")
        golden["cases"][name] = {
            "description": description,
            "source": "arrow (NaN as value)" if arrow else "generate_statistics_from_dataframe",
            "features": run_case(train, serve, arrow),
        }
        print(name, {c: v["tfdv"] for c, v in golden["cases"][name]["features"].items()})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, indent=1, allow_nan=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
