"""Bounded accumulators stay exact: radix select over passes = sorting everything.

The limits are lowered (`small_limits`) so that a few hundred hostile values go
through every stage: overflow into the prefix histogram, sub-range counting,
collection under a budget, single-key windows, the histogram pass.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tskew as ts
from tskew.analyzers import distribution as dist_mod
from tskew.analyzers.distribution import Distribution, histogram_bins
from tskew.ops.values import Col
from tskew.statistics import histogram_edges

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
hostile = st.one_of(
    finite,
    st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, np.inf, -np.inf, np.nan]),
    st.floats(min_value=1.0, max_value=1.0 + 1e-12),  # many values within a few ulps
)
# the fixture only lowers module limits: the same for every generated example
FIXTURE_OK = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(dist_mod, "EXACT_LIMIT", 8)
    monkeypatch.setattr(dist_mod, "COLLECT_BUDGET", 16)
    monkeypatch.setattr(dist_mod, "REFINE_BINS", 16)


def _accumulate(parts: list[np.ndarray], dtype: str) -> Distribution:
    accs = [Distribution(dtype).add(Col(p)) for p in parts]
    out = accs[0]
    for acc in accs[1:]:
        out = out.merge(acc)
    return out


def _searched(parts: list[np.ndarray], dtype: str, ranks: list[int]) -> tuple[Distribution, int]:
    acc = _accumulate(parts, dtype)
    if acc.exact:
        return acc, 0
    search = acc.search_ranks(ranks, histogram=True)
    passes = 0
    while not search.done:
        probes = [search.probe().add(Col(p)) for p in reversed(parts)]  # any order
        merged = probes[0]
        for probe in probes[1:]:
            merged = merged.merge(probe)
        search.absorb(merged)
        passes += 1
    return acc.with_search(search), passes


@settings(max_examples=150, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.lists(hostile, min_size=1, max_size=300), st.integers(1, 5), st.data())
def test_values_and_ranks_equal_sorting(small_limits, values, pieces, data):
    x = np.array(values, np.float64)
    clean = np.sort(x[~np.isnan(x)] + 0.0)
    if not len(clean):
        return
    n = len(clean)
    ranks = sorted(set(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=20))))
    parts = np.array_split(x, pieces)
    acc, passes = _searched(parts, "float64", ranks)
    assert passes <= dist_mod.max_refinement_passes() + 1
    got = acc.value_at(np.array(ranks))
    assert got.tobytes() == clean[ranks].tobytes()
    expected_le = np.searchsorted(clean, clean[ranks], side="right")
    assert acc.count_at_or_below(np.array(ranks)).tolist() == expected_le.tolist()
    assert acc.total == n
    if not acc.exact and acc.search.histogram is not None:
        finite_x = clean[np.isfinite(clean)]
        edges = histogram_edges(float(finite_x[0]), float(finite_x[-1]))
        idx = np.clip(np.searchsorted(edges, finite_x, side="right") - 1, 0, len(edges) - 2)
        assert acc.search.histogram.tolist() == np.bincount(idx, minlength=len(edges) - 1).tolist()


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=200), st.integers(1, 4))
def test_int64_ranks_equal_sorting(small_limits, values, pieces):
    x = np.array(values, np.int64)
    clean = np.sort(x)
    ranks = sorted({0, len(x) // 2, len(x) - 1})
    acc, _ = _searched(np.array_split(x, pieces), "int64", ranks)
    assert acc.value_at(np.array(ranks)).tolist() == clean[ranks].tolist()


@settings(max_examples=60, deadline=None, suppress_health_check=FIXTURE_OK)
@given(st.lists(hostile, min_size=1, max_size=200), st.permutations(list(range(4))))
def test_state_is_independent_of_batching_and_merge_order(small_limits, values, order):
    x = np.array(values, np.float64)
    parts = np.array_split(x, 4)
    one = Distribution("float64").add(Col(x))
    merged = _accumulate([parts[i] for i in order], "float64")
    assert json.dumps(one.to_json()) == json.dumps(merged.to_json())
    assert Distribution.from_json(json.loads(json.dumps(merged.to_json()))) == merged


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=50), finite, finite)
def test_histogram_bins_equal_binary_search(values, a, b):
    lo, hi = min(a, b), max(a, b)
    x = np.clip(np.array(values), lo, hi)
    with np.errstate(all="ignore"):
        edges = histogram_edges(lo, hi)
    if not np.all(np.isfinite(edges)):
        return
    expected = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    assert histogram_bins(x, edges).tolist() == expected.tolist()


def test_memory_is_bounded_in_rows_and_distinct_values():
    rng = np.random.default_rng(3)
    sizes = []
    for n in (200_000, 800_000):
        acc = Distribution.create("float64")
        for part in np.array_split(rng.normal(size=n), 8):
            acc.add(Col(part))
        assert not acc.exact
        sizes.append(acc.prefix_counts.nbytes + acc.sketch.registers.nbytes + acc.keys.nbytes)
    assert sizes[0] == sizes[1]


def _fn(inputs):
    x = ts.impute(inputs["x"], "median")
    return {
        "z": ts.scale_to_z_score(x),
        "b": ts.bucketize(x, 7),
        "c": ts.clip_by_quantiles(x, 0.05, 0.95),
        "y": inputs["y"] * 2,
    }


def _data(n: int) -> pa.Table:
    rng = np.random.default_rng(11)
    x = rng.lognormal(0, 2, n)
    x[::50] = np.nan
    x[::7] = 0.0
    return pa.table({"x": x, "y": rng.integers(-(10**12), 10**12, n)})


def _comparable(tfn: ts.TransformFn) -> dict:
    from tskew.ir.serde import graph_to_json

    keep = (
        "count",
        "missing",
        "nan",
        "min",
        "max",
        "mean",
        "std",
        "quantiles",
        "percentiles",
        "percentile_cdf",
        "histogram",
        "posinf",
        "neginf",
    )
    stats = {
        f"{role}:{name}": {k: s.to_json()[k] for k in keep}
        for role, group in (("in", tfn.statistics.inputs), ("out", tfn.statistics.outputs))
        for name, s in group.items()
    }
    return {"graph": graph_to_json(tfn.graph, None), "stats": stats}


def test_analysis_with_bounded_accumulators_equals_exact_counting(monkeypatch):
    data = _data(6_000)
    monkeypatch.setattr(dist_mod, "EXACT_LIMIT", 1 << 20)
    reference = ts.analyze(_fn, data, workers=1)  # every distinct value counted
    assert reference.statistics.inputs["x"].num_distinct_error == 0
    monkeypatch.setattr(dist_mod, "EXACT_LIMIT", 64)
    monkeypatch.setattr(dist_mod, "COLLECT_BUDGET", 200)
    monkeypatch.setattr(dist_mod, "REFINE_BINS", 32)
    batches = data.to_batches(max_chunksize=777)
    bounded = ts.analyze(_fn, batches[::-1], schema=reference.input_schema, workers=2)
    assert bounded.metadata["passes"] > 2  # refinement passes ran
    assert _comparable(bounded) == _comparable(reference)
    x = bounded.statistics.inputs["x"]
    assert x.num_distinct_error > 0 and x.top_values == []
    assert abs(x.num_distinct - reference.statistics.inputs["x"].num_distinct) < 0.1 * 6_000
    out_ref, out_bounded = reference.transform(data), bounded.transform(data)
    for name in out_ref.column_names:
        assert out_ref[name].to_numpy().tobytes() == out_bounded[name].to_numpy().tobytes()
