"""The in-process analyze phase: trace, plan, run fused passes, freeze.

``ts.analyze`` is the embedded default for data that fits one machine;
``tskew.beam`` runs the same accumulators as a Beam pipeline.

Example:
    >>> import tskew as ts
    >>> tfn = ts.analyze(lambda i: {"y": i["x"] - ts.mean(i["x"])}, {"x": [1, 2, 6]})
    >>> tfn.transform({"x": [3]})["y"].tolist()
    [0.0]
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from tskew.compiler import finalize
from tskew.interpreter import Executor
from tskew.io import open_source
from tskew.io.schemas import SchemaLike, as_schema
from tskew.ir.graph import Graph
from tskew.plan import AccumulatorSpec, make_plan
from tskew.schedule import PassPlan, Scheduler, merge_states
from tskew.schema import DType, Schema
from tskew.statistics import DatasetStatistics, FeatureStatistics
from tskew.targets import check_targets
from tskew.tracing import trace
from tskew.transform_fn import TransformFn, arrow_output_schema

DEFAULT_BATCH_SIZE = 1 << 18  # big batches amortise per-batch Python overhead


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def run_pass(
    plan: PassPlan,
    batches: Iterable[pa.RecordBatch],
    workers: int = 1,
    on_values: Callable[[int, dict], None] | None = None,
    targets: Iterable[int] = (),
) -> dict:
    """One fused pass: fill every accumulator of ``plan`` from ``batches``.

    With several workers each thread fills its own accumulators, merged at
    the end; results are identical because accumulators are order-independent.
    ``on_values(batch_index, values)`` sees the evaluated ``targets`` of each batch.
    """
    executor = Executor(plan.graph)
    targets = sorted(set(targets))
    it = enumerate(batches)
    lock = threading.Lock()

    def next_batch() -> tuple[int, pa.RecordBatch] | None:
        with lock:
            return next(it, None)

    def work() -> dict:
        accs = plan.empty()
        while (item := next_batch()) is not None:
            index, batch = item
            plan.add(accs, batch, executor)
            if on_values:
                on_values(index, executor.run(batch, targets))
        return accs

    if workers <= 1:
        return merge_states([work()])
    with ThreadPoolExecutor(workers) as pool:
        return merge_states(list(pool.map(lambda _: work(), range(workers))))


def analyze_graph(
    graph: Graph,
    batches: Callable[..., Iterator[pa.RecordBatch]],
    *,
    workers: int = 1,
    output_statistics: bool = True,
) -> Scheduler:
    """Run passes until every analyzer is frozen (and every statistic known).

    ``batches(columns)`` streams the data once more, reading at least ``columns``.
    """
    scheduler = Scheduler(graph, statistics=True, output_statistics=output_statistics)
    while (plan := scheduler.next_pass()) is not None:
        columns = None if plan.first else plan.columns()
        scheduler.absorb(run_pass(plan, batches(columns), workers))
    return scheduler


def input_statistics(graph: Graph, scheduler: Scheduler) -> dict[str, FeatureStatistics]:
    return {
        name: _feature_statistics(name, graph.nodes[nid].type.dtype, scheduler, specs)
        for name, specs in scheduler.input_specs.items()
        for nid in [graph.inputs[name]]
    }


def output_statistics(graph: Graph, scheduler: Scheduler) -> dict[str, FeatureStatistics]:
    out = {}
    for name, nid in graph.outputs.items():
        t = graph.nodes[nid].type
        specs = scheduler.output_specs.get(name, [])
        if not specs:  # vector outputs (one_hot) are described by their input
            out[name] = FeatureStatistics(name, t.dtype.value, count=scheduler.rows)
            continue
        out[name] = _feature_statistics(name, t.dtype, scheduler, specs)
    return out


def _feature_statistics(
    name: str, dtype: DType, scheduler: Scheduler, specs: list[AccumulatorSpec]
) -> FeatureStatistics:
    counts, *rest = (scheduler.done[s] for s in specs)
    return FeatureStatistics.from_accumulators(name, dtype.value, counts, rest[0] if rest else None)


def analyze(
    preprocessing_fn: Callable,
    data: Any,
    schema: SchemaLike | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_bad_record: str = "error",
    output_statistics: bool = True,
    workers: int | None = None,
    cache_bytes: int | None = None,
    targets: Sequence[str] = (),
    header: Any = "auto",
    column_names: Sequence[str] | None = None,
    delimiter: str | None = None,
) -> TransformFn:
    """Analyze ``data`` and freeze ``preprocessing_fn`` into a `TransformFn`.

    Args:
        preprocessing_fn: ``inputs -> dict`` of output columns, written with ``ts.*``.
        data: a CSV/Parquet/JSONL path or glob (or a list), a pandas DataFrame,
            a pyarrow Table/RecordBatch, or a dict of columns.
        schema: raw feature types (a `Schema`, a dict, or a tensorflow_metadata Schema
            proto or .pbtxt path); inferred from the data when omitted.
        batch_size: rows per batch while streaming.
        on_bad_record: "error" (default) stops at the first malformed record with
            its file and line; "skip" drops it and counts it in the statistics.
        output_statistics: also compute statistics of the outputs (one more pass).
        workers: threads for each pass (default: the CPU count, at most 4).
        cache_bytes: files up to this size are read once and kept in memory for
            the passes; bigger ones are streamed again on each pass (bounded memory).
        targets: serving backends the transform must export to (``"tensorflow"``,
            ``"onnx"``); an op one of them cannot run is an `UnsupportedOpError`
            right after tracing, before the data is analyzed.
        header, column_names, delimiter: how to read CSV files (see
            `tskew.io.open_source`): ``header=None, column_names=[...]`` for a file
            without a header row, ``delimiter=";"`` for another separator.

    Raises:
        AnalyzeError: empty data, or an analyzer saw no values.
        TraceError, SchemaError, DataError: see their messages.
        UnsupportedOpError: an op a backend in ``targets`` cannot run.
    """
    options = _source_options(batch_size, on_bad_record, cache_bytes)
    options.update(header=header, column_names=column_names, delimiter=delimiter)
    tfn, _ = _analyze(
        preprocessing_fn,
        data,
        schema,
        options,
        output_statistics,
        workers,
        keep_output=False,
        targets=targets,
    )
    return tfn


def analyze_and_transform(
    preprocessing_fn: Callable,
    data: Any,
    schema: SchemaLike | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_bad_record: str = "error",
    workers: int | None = None,
    cache_bytes: int | None = None,
    header: Any = "auto",
    column_names: Sequence[str] | None = None,
    delimiter: str | None = None,
) -> tuple[TransformFn, pa.Table]:
    """`analyze`, then transform the same data, sharing the final pass.

    Returns the TransformFn and the transformed rows as a pyarrow Table.
    """
    options = _source_options(batch_size, on_bad_record, cache_bytes)
    options.update(header=header, column_names=column_names, delimiter=delimiter)
    return _analyze(preprocessing_fn, data, schema, options, True, workers, keep_output=True)


def _source_options(batch_size: int, on_bad_record: str, cache_bytes: int | None) -> dict:
    options: dict[str, Any] = {"batch_size": batch_size, "on_bad_record": on_bad_record}
    if cache_bytes is not None:
        options["cache_bytes"] = cache_bytes
    return options


def _analyze(
    preprocessing_fn: Callable,
    data: Any,
    schema: SchemaLike | None,
    source_options: dict[str, Any],
    output_statistics_wanted: bool,
    workers: int | None,
    keep_output: bool,
    targets: Sequence[str] = (),
) -> tuple[TransformFn, pa.Table | None]:
    started = time.perf_counter()
    if schema is not None:
        schema = as_schema(schema)
    source = open_source(data, schema, **source_options)
    graph = trace(preprocessing_fn, source.schema)
    check_targets(graph, [targets] if isinstance(targets, str) else targets)
    plan = make_plan(graph, statistics=True)
    workers = workers or default_workers()
    scheduler = analyze_graph(
        graph, source.batches, workers=workers, output_statistics=output_statistics_wanted
    )
    frozen = finalize(scheduler.current)
    rows = scheduler.rows
    stats_in = input_statistics(graph, scheduler)
    stats_out = output_statistics(graph, scheduler) if output_statistics_wanted else {}
    transformed = _transform_all(frozen, source.batches(), workers) if keep_output else None
    statistics = DatasetStatistics(rows, stats_in, stats_out, source.bad_records.count)
    input_schema = Schema({name: source.schema[name] for name in graph.inputs})
    tfn = TransformFn(
        frozen,
        input_schema,
        statistics,
        plan_text=plan.describe(graph),
        metadata={
            "source": source.description,
            "analyze_seconds": round(time.perf_counter() - started, 3),
            "passes": scheduler.passes,
            "bad_record_examples": [str(e) for e in source.bad_records.examples[:5]],
        },
    )
    return tfn, transformed


def _transform_all(graph: Graph, batches: Iterable[pa.RecordBatch], workers: int) -> pa.Table:
    """Transform every batch (in order) with the frozen graph."""
    from tskew.interpreter import column_to_arrow

    kept: dict[int, pa.RecordBatch] = {}
    ids = list(graph.outputs.values())
    out_schema = arrow_output_schema(graph)

    def keep(index: int, values: dict) -> None:
        arrays = [column_to_arrow(values[nid], graph.nodes[nid].type) for nid in ids]
        kept[index] = pa.RecordBatch.from_arrays(arrays, schema=out_schema)

    run_pass(PassPlan(graph, {}, first=False), batches, workers, on_values=keep, targets=ids)
    return pa.Table.from_batches([kept[k] for k in sorted(kept)], schema=out_schema)


__all__ = ["analyze", "analyze_and_transform"]
