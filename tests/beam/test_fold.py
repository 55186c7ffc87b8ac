"""Fold: a bundle's batches folded on several threads give one thread's accumulators."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

import tskew as ts
from tskew.errors import DataError
from tskew.interpreter import Executor
from tskew.schedule import Scheduler
from tskew.tracing import trace

pytest.importorskip("apache_beam", reason="the beam extra is not installed")
from tskew.beam.fold import Fold


def _plan():
    graph = trace(
        lambda i: {"b": ts.bucketize(i["x"], 4), "z": ts.scale_to_z_score(i["x"])},
        ts.Schema({"x": ts.float64(False)}),
    )
    return Scheduler(graph).next_pass()


def test_threads_fill_the_same_accumulators_as_one():
    plan = _plan()
    rng = np.random.default_rng(5)
    batches = [pa.record_batch({"x": rng.normal(size=5_000)}) for _ in range(12)]
    folds = [Fold(plan, Executor(plan.graph), threads) for threads in (1, 3)]
    for fold in folds:
        for batch in batches:
            fold.add(batch)
    one, three = (fold.result() for fold in folds)
    assert one.keys() == three.keys() and one["__rows__"] == three["__rows__"] == 60_000
    for spec in plan.fresh:
        assert one[spec].to_json() == three[spec].to_json(), spec


def test_an_error_on_a_worker_thread_reaches_the_caller():
    plan = _plan()
    fold = Fold(plan, Executor(plan.graph), threads=2)
    fold.add(pa.record_batch({"y": [1.0]}))  # no column x
    with pytest.raises(DataError, match="feature 'x' is missing"):
        for _ in range(8):  # later adds or the result raise it
            fold.add(pa.record_batch({"x": [1.0]}))
        fold.result()
    assert not any(thread.is_alive() for thread in fold._threads)  # none left waiting
