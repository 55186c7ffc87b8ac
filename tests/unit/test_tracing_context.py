"""The builder being traced is per thread / task (a ContextVar), not a global stack."""

from __future__ import annotations

import threading

import pytest

import tskew as ts
from tskew.schema import Schema
from tskew.tracing import GraphBuilder, building, current_builder, trace


def test_concurrent_traces_each_see_their_own_builder():
    # Both threads are inside their `with` block at once; a shared stack would hand
    # the first thread the second thread's builder.
    inside, checked = threading.Barrier(2), threading.Barrier(2)
    seen: dict[int, bool] = {}

    def run(key: int) -> None:
        builder = GraphBuilder(Schema({}))
        with building(builder):
            inside.wait(timeout=10)
            seen[key] = current_builder() is builder
            checked.wait(timeout=10)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {0: True, 1: True}


def test_nested_building_restores_the_outer_builder():
    outer, inner = GraphBuilder(Schema({})), GraphBuilder(Schema({}))
    with building(outer):
        with building(inner):
            assert current_builder() is inner
        assert current_builder() is outer


def test_a_failing_preprocessing_fn_leaves_no_builder_behind():
    schema = ts.Schema({"x": ts.float64(nullable=False)})

    def broken(inputs):
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        trace(broken, schema)
    with pytest.raises(ts.TraceError, match="inside preprocessing_fn"):
        current_builder()
