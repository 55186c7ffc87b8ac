"""Hostile inputs (NaN, +-inf, nulls, empty/non-ASCII strings, extreme magnitudes,
empty batches, single rows) through the executor, checked against independent
plain-Python/numpy oracles."""

from __future__ import annotations

import math
from fractions import Fraction

import mmh3
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

import tskew as ts

floats64 = st.one_of(
    st.floats(width=64),
    st.sampled_from([0.0, -0.0, float("inf"), -float("inf"), 1e308, -1e308, 5e-324]),
)
texts = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)


def _exact_mean_var(values: list[float]) -> tuple[float, float]:
    vals = [Fraction(v) for v in values]
    n = len(vals)
    s1 = sum(vals, Fraction(0))
    s2 = sum((v * v for v in vals), Fraction(0))
    return float(s1 / n), float((n * s2 - s1 * s1) / (n * n))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(min_value=-1e150, max_value=1e150), min_size=1, max_size=30),
    st.lists(floats64, max_size=30),
)
def test_z_score_matches_exact_oracle(train, probe):
    tfn = ts.analyze(
        lambda i: {"z": ts.scale_to_z_score(i["x"])},
        pa.table({"x": pa.array(train, pa.float64())}),
        schema={"x": ts.float64(nullable=False)},
    )
    mean, var = _exact_mean_var(train)
    inv = 1.0 / math.sqrt(var) if var > 0 else 1.0
    x = np.array(probe, dtype=np.float64)
    with np.errstate(all="ignore"):
        want = (x - mean) * inv
    got = tfn.transform(pa.table({"x": pa.array(x, pa.float64())})).column("z").to_numpy()
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.one_of(st.none(), texts), min_size=1, max_size=30),
    st.lists(st.one_of(st.none(), texts), max_size=30),
    st.integers(0, 3),
    st.integers(1, 50),
)
def test_vocabulary_and_hash_match_oracle(train, probe, oov, buckets):
    def fn(i):
        s = ts.fill_missing(i["s"], "")
        return {
            "id": ts.compute_and_apply_vocabulary(s, num_oov_buckets=oov),
            "h": ts.hash_strings(s, buckets),
        }

    schema = {"s": ts.string()}
    tfn = ts.analyze(fn, pa.table({"s": pa.array(train, pa.string())}), schema=schema)
    counts: dict[str, int] = {}
    for v in train:
        counts[v or ""] = counts.get(v or "", 0) + 1
    by_value = sorted(counts, key=lambda k: k.encode(), reverse=True)
    vocab = sorted(by_value, key=lambda k: -counts[k])  # stable: ties keep value order
    out = tfn.transform(pa.table({"s": pa.array(probe, pa.string())}))
    for v, got_id, got_h in zip(
        probe, out.column("id").to_pylist(), out.column("h").to_pylist(), strict=True
    ):
        key = v or ""
        h = mmh3.hash(key.encode(), 0, signed=False)
        assert got_h == h % buckets
        if key in counts:
            assert got_id == vocab.index(key)
        else:
            assert got_id == (len(vocab) + h % oov if oov else -1)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.one_of(st.none(), floats64), max_size=40),
    st.lists(st.floats(allow_nan=False), min_size=1, max_size=6),
)
def test_buckets_casts_and_missing_match_oracle(values, bounds):
    bounds = sorted(bounds)

    def fn(i):
        x = i["x"]
        return {
            "b": ts.apply_buckets(ts.fill_missing(x, 0.0), bounds),
            "m": ts.is_missing(x),
            "i": ts.cast(ts.fill_missing(x, -1.0), "int64"),
        }

    tfn = ts.analyze(fn, pa.table({"x": pa.array([1.0, None], pa.float64())}))
    out = tfn.transform(pa.table({"x": pa.array(values, pa.float64())}))
    for v, b, m, i in zip(values, *(out.column(c).to_pylist() for c in "bmi"), strict=True):
        missing = v is None or v != v
        filled = 0.0 if missing else v
        assert m == missing
        assert b == sum(1 for edge in bounds if edge <= filled)
        f = -1.0 if missing else v
        want = (
            0
            if f != f
            else max(
                -(2**63),
                min(2**63 - 1, int(f) if math.isfinite(f) else (2**63 - 1 if f > 0 else -(2**63))),
            )
        )
        assert i == want


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(-(2**62), 2**62), texts), max_size=20))
def test_cross_matches_oracle(rows):
    tfn = ts.analyze(lambda i: {"c": ts.cross([i["n"], i["s"]])}, pa.table({"n": [1], "s": ["a"]}))
    table = pa.table(
        {
            "n": pa.array([r[0] for r in rows], pa.int64()),
            "s": pa.array([r[1] for r in rows], pa.string()),
        }
    )
    got = tfn.transform(table).column("c").to_pylist()
    assert got == [f"{n}_X_{s}" for n, s in rows]
