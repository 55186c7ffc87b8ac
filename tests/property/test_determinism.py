"""Statistics are bit-identical whatever the row order and the split into batches."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tskew as ts
from tskew.analyzers.accumulators import MinMax, Moments, ValueCounts
from tskew.ops.values import Col

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
hostile_float = st.one_of(
    finite,
    st.just(float("nan")),
    st.floats(min_value=-1e300, max_value=1e300),
    st.sampled_from([0.0, -0.0, 5e-324, 1e308, -1e308]),
)
text = st.text(min_size=0, max_size=6)


def fn(inputs):
    x = ts.impute(inputs["x"], "median")
    s = ts.fill_missing(inputs["s"], "")
    return {
        "z": ts.scale_to_z_score(x),
        "b": ts.bucketize(x, 3),
        "id": ts.compute_and_apply_vocabulary(s, top_k=5, num_oov_buckets=2),
        "c": ts.clip_by_quantiles(x, 0.1, 0.9),
    }


@st.composite
def datasets(draw):
    n = draw(st.integers(min_value=2, max_value=60))
    xs = draw(st.lists(st.one_of(st.none(), hostile_float), min_size=n, max_size=n))
    xs[0] = draw(finite)  # at least one usable value
    ss = draw(st.lists(st.one_of(st.none(), text), min_size=n, max_size=n))
    perm = draw(st.permutations(list(range(n))))
    cuts = sorted(draw(st.lists(st.integers(1, n - 1), max_size=5, unique=True)))
    return xs, ss, perm, cuts


def _table(xs, ss, order):
    return pa.table(
        {
            "x": pa.array([xs[i] for i in order], pa.float64()),
            "s": pa.array([ss[i] for i in order], pa.string()),
        }
    )


def _fingerprint(tfn: ts.TransformFn) -> str:
    from tskew.ir.serde import graph_to_json

    return json.dumps([graph_to_json(tfn.graph, None), tfn.statistics.to_json()], sort_keys=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_permutation_and_batching_give_identical_bits(case):
    xs, ss, perm, cuts = case
    schema = {"x": ts.float64(), "s": ts.string()}
    base = ts.analyze(fn, _table(xs, ss, range(len(xs))), schema=schema, workers=1)
    shuffled = _table(xs, ss, perm)
    bounds = [0, *cuts, len(xs)]
    batches = [
        b for lo, hi in itertools.pairwise(bounds) for b in shuffled.slice(lo, hi - lo).to_batches()
    ]
    split = ts.analyze(fn, batches, schema=schema, workers=2)
    assert _fingerprint(base) == _fingerprint(split)
    probe = _table(xs, ss, range(len(xs)))
    a, b = base.transform(probe), split.transform(probe)
    for name in a.column_names:  # NaN-aware, bit-for-bit
        x, y = (t.column(name).to_numpy() for t in (a, b))
        assert x.tobytes() == y.tobytes(), name


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.none(), hostile_float), max_size=40),
    st.lists(st.one_of(st.none(), hostile_float), max_size=40),
)
def test_merge_equals_accumulating_the_concatenation(a, b):
    def col(values):
        arr = pa.array(values, pa.float64())
        mask = np.asarray(arr.is_null())
        return Col(np.asarray(arr.fill_null(0.0)), mask if mask.any() else None)

    for cls in (Moments, ValueCounts, MinMax):
        whole = cls.create("float64").add(col(a + b))
        merged = cls.create("float64").add(col(a)).merge(cls.create("float64").add(col(b)))
        assert whole.to_json() == merged.to_json()
        assert cls.from_json(json.loads(json.dumps(merged.to_json()))).to_json() == merged.to_json()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.one_of(st.none(), text), max_size=40),
    st.lists(st.one_of(st.none(), text), max_size=40),
)
def test_string_counts_merge(a, b):
    def col(values):
        arr = pa.array(values, pa.string())
        mask = np.asarray(arr.is_null())
        return Col(arr, mask if mask.any() else None)

    whole = ValueCounts.create("string").add(col(a + b))
    merged = (
        ValueCounts.create("string").add(col(a)).merge(ValueCounts.create("string").add(col(b)))
    )
    assert whole.to_json() == merged.to_json()
