"""Skew accumulators follow the analyzers' `Accumulator` protocol: pure merge, JSON state."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

import tskew as ts
from tskew.analyzers.accumulators import ACCUMULATORS, Accumulator
from tskew.skew.accumulate import CategoricalAccumulator, NumericAccumulator
from tskew.skew.detect import SkewState


@pytest.fixture(scope="module")
def tfn():
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(0, 1, 3000), "c": rng.choice(["a", "b", "c"], 3000)}
    fn = lambda i: {"z": ts.scale_to_z_score(i["x"]), "id": ts.compute_and_apply_vocabulary(i["c"])}
    return ts.analyze(fn, data)


def _batches():
    rng = np.random.default_rng(1)
    x = [
        pa.array([0.5, np.inf, -np.inf, np.nan, None, 1e9, -1e9, 0.0]),
        pa.array(rng.normal(0.3, 1, 500)),
        pa.array(np.round(rng.normal(0, 1, 800), 1)),  # repeated values: the weighted path
    ]
    c = [pa.array(["b", None, "new"]), pa.array(["c", "a", "a", "new", "zz"])]
    return x, c


def _state(acc):
    return json.dumps(acc.to_json(), allow_nan=False)  # JSON-safe: no NaN, no numpy types


def test_every_accumulator_implements_the_protocol(tfn):
    for cls in ACCUMULATORS.values():
        assert isinstance(cls.create("float64"), Accumulator), cls
    for cls, name in ((NumericAccumulator, "x"), (CategoricalAccumulator, "c")):
        assert isinstance(cls.create(tfn.statistics.inputs[name]), Accumulator), cls


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
def test_merge_is_pure_and_equals_one_accumulator_over_all_batches(tfn, kind):
    cls, name = (NumericAccumulator, "x") if kind == "numeric" else (CategoricalAccumulator, "c")
    baseline = tfn.statistics.inputs[name]
    batches = _batches()[0 if kind == "numeric" else 1]
    whole = cls.create(baseline)
    for batch in batches:
        assert whole.add(batch, violations=1) is whole  # add folds in place
    first, rest = cls.create(baseline), cls.create(baseline)
    first.add(batches[0], violations=1)
    for batch in batches[1:]:
        rest.add(batch, violations=1)
    before = (_state(first), _state(rest))
    merged = first.merge(rest)
    assert merged is not first and merged is not rest
    assert (_state(first), _state(rest)) == before  # neither input changed
    assert _state(merged) == _state(whole)
    merged.add(batches[0])  # the merged accumulator shares no counts with its inputs
    assert (_state(first), _state(rest)) == before


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
def test_json_state_round_trips(tfn, kind):
    cls, name = (NumericAccumulator, "x") if kind == "numeric" else (CategoricalAccumulator, "c")
    baseline = tfn.statistics.inputs[name]
    acc = cls.create(baseline)
    for batch in _batches()[0 if kind == "numeric" else 1]:
        acc.add(batch, violations=2)
    back = cls.from_json(json.loads(_state(acc)), baseline)
    assert _state(back) == _state(acc)
    if kind == "numeric":
        assert back.min == -np.inf and back.finite_max == 1e9
        np.testing.assert_array_equal(back.cdf(), acc.cdf())
    else:
        assert list(back.counts.items()) == list(acc.counts.items())  # order kept


def test_bad_states_and_mismatched_merges_are_refused(tfn):
    numeric = NumericAccumulator.create(tfn.statistics.inputs["x"])
    with pytest.raises(ValueError, match="not the state of a categorical skew accumulator"):
        CategoricalAccumulator.from_json(numeric.to_json(), tfn.statistics.inputs["c"])
    other = NumericAccumulator.create(tfn.statistics.outputs["z"])
    with pytest.raises(ValueError, match="cannot merge the skew counts of 'x' with those of 'z'"):
        numeric.merge(other)
    categorical = CategoricalAccumulator.create(tfn.statistics.inputs["c"])
    with pytest.raises(TypeError, match="cannot merge categorical skew counts into numeric"):
        numeric.merge(categorical)


def test_skew_state_merge_is_pure_and_matches_one_pass(tfn):
    rng = np.random.default_rng(2)
    halves = [
        pa.table({"x": rng.normal(0.4, 1, 400), "c": rng.choice(["a", "new"], 400)}),
        pa.table({"x": ["oops"] * 300, "extra": [1] * 300}),  # violations, c missing
    ]
    one, first, second = SkewState(tfn), SkewState(tfn), SkewState(tfn)
    for table in halves:
        one.add(table)
    first.add(halves[0])
    second.add(halves[1])
    rows_before = (first.rows, second.rows, first.inputs["x"].count)
    merged = first.merge(second)
    assert (first.rows, second.rows, first.inputs["x"].count) == rows_before
    expected, got = one.report().to_json(), merged.report().to_json()
    for report in (expected, got):
        report.pop("generated_at")
    assert got == expected
