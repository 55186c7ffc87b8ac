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
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa

from tskew.analyzers.accumulators import ACCUMULATORS
from tskew.analyzers.extract import accumulator_kind, extract
from tskew.compiler import finalize, freeze
from tskew.errors import AnalyzeError
from tskew.exporters.numpy import Executor
from tskew.io import open_source
from tskew.ir.graph import Graph
from tskew.plan import AccumulatorSpec, Phase, Plan, make_plan
from tskew.schema import Schema, SchemaLike, as_schema
from tskew.statistics import DatasetStatistics, FeatureStatistics
from tskew.tracing import describe_node, trace
from tskew.transform_fn import TransformFn, arrow_output_schema

ROWS = "__rows__"  # key of the row count beside the accumulators of a pass
DEFAULT_BATCH_SIZE = 1 << 18  # big batches amortise per-batch Python overhead


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def accumulate(
    executor: Executor,
    specs: Iterable[AccumulatorSpec],
    batches: Iterable[pa.RecordBatch],
    workers: int = 1,
    targets: Iterable[int] = (),
    on_values: Callable[[int, dict], None] | None = None,
) -> dict:
    """One fused pass: fill every accumulator in ``specs`` from ``batches``.

    With several workers each thread fills its own accumulators, merged at
    the end; results are identical because accumulators are order-independent.
    ``on_values(batch_index, values)`` sees the evaluated ``targets`` of each batch.
    """
    specs = list(specs)
    targets = sorted({s.node for s in specs} | set(targets))
    it = enumerate(batches)
    lock = threading.Lock()

    def next_batch() -> tuple[int, pa.RecordBatch] | None:
        with lock:
            return next(it, None)

    def work() -> tuple[dict, int]:
        accs = {s: ACCUMULATORS[s.kind].create(s.dtype.value) for s in specs}
        rows = 0
        while (item := next_batch()) is not None:
            index, batch = item
            rows += batch.num_rows
            if not targets:
                continue
            values = executor.run(batch, targets)
            for spec, acc in accs.items():
                acc.add(values[spec.node])
            if on_values:
                on_values(index, values)
        return accs, rows

    if workers <= 1:
        results = [work()]
    else:
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(lambda _: work(), range(workers)))
    merged = results[0][0]
    for accs, _ in results[1:]:
        merged = {s: merged[s].merge(accs[s]) for s in specs}
    merged[ROWS] = sum(r for _, r in results)
    return merged


def phase_values(graph: Graph, phase: Phase, accs: Mapping) -> dict[int, Any]:
    """The frozen value of every analyzer of ``phase``, from its merged accumulators."""
    values = {}
    for aid in phase.analyzers:
        node = graph.nodes[aid]
        src = graph.nodes[node.inputs[0]]
        spec = AccumulatorSpec(accumulator_kind(node.op, src.type.dtype), src.id, src.type.dtype)
        what = describe_node(graph.nodes, src, 3)
        values[aid] = extract(node.op, node.attr_dict, accs[spec], src.type.dtype, what)
    return values


def analyze_graph(
    graph: Graph,
    batches: Callable[[], Iterator[pa.RecordBatch]],
    *,
    workers: int = 1,
    plan: Plan | None = None,
) -> tuple[Graph, dict[int, Any], int]:
    """Run every analysis phase; return the frozen graph, phase-0 accumulators, rows."""
    plan = plan or make_plan(graph)
    current = graph
    first: dict = {}
    rows = 0
    for phase in plan.phases:
        accs = accumulate(Executor(current), phase.accumulators, batches(), workers)
        if phase.index == 0:
            rows = accs[ROWS]
            if rows == 0:
                raise AnalyzeError("empty training data: the data has no rows to analyze")
            first = accs
        current = freeze(current, phase_values(graph, phase, accs))
    return finalize(current), first, rows


def input_statistics(graph: Graph, accs: Mapping) -> dict[str, FeatureStatistics]:
    out = {}
    for name, nid in graph.inputs.items():
        dtype = graph.nodes[nid].type.dtype
        counts = accs[AccumulatorSpec("counts", nid, dtype)]
        moments = accs.get(AccumulatorSpec("moments", nid, dtype))
        out[name] = FeatureStatistics.from_accumulators(name, dtype.value, counts, moments)
    return out


def output_statistic_specs(graph: Graph) -> list[AccumulatorSpec]:
    specs = []
    for nid in graph.outputs.values():
        t = graph.nodes[nid].type
        if t.width:
            continue  # vector-per-row outputs (one_hot) are described by their input
        if t.dtype.is_numeric:
            specs.append(AccumulatorSpec("moments", nid, t.dtype))
        specs.append(AccumulatorSpec("counts", nid, t.dtype))
    return specs


def output_statistics(graph: Graph, accs: Mapping, rows: int) -> dict[str, FeatureStatistics]:
    out = {}
    for name, nid in graph.outputs.items():
        t = graph.nodes[nid].type
        counts = accs.get(AccumulatorSpec("counts", nid, t.dtype))
        if t.width or counts is None:
            out[name] = FeatureStatistics(name, t.dtype.value, count=rows)
            continue
        moments = accs.get(AccumulatorSpec("moments", nid, t.dtype))
        out[name] = FeatureStatistics.from_accumulators(name, t.dtype.value, counts, moments)
    return out


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

    Raises:
        AnalyzeError: empty data, or an analyzer saw no values.
        TraceError, SchemaError, DataError: see their messages.
    """
    options = _source_options(batch_size, on_bad_record, cache_bytes)
    tfn, _ = _analyze(
        preprocessing_fn, data, schema, options, output_statistics, workers, keep_output=False
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
) -> tuple[TransformFn, pa.Table]:
    """`analyze`, then transform the same data, sharing the final pass.

    Returns the TransformFn and the transformed rows as a pyarrow Table.
    """
    options = _source_options(batch_size, on_bad_record, cache_bytes)
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
    output_statistics: bool,
    workers: int | None,
    keep_output: bool,
) -> tuple[TransformFn, pa.Table | None]:
    started = time.perf_counter()
    if schema is not None:
        schema = as_schema(schema)
    source = open_source(data, schema, **source_options)
    graph = trace(preprocessing_fn, source.schema)
    plan = make_plan(graph, statistics=True)
    workers = workers or default_workers()
    frozen, first, rows = analyze_graph(graph, source.batches, workers=workers, plan=plan)
    stats_in = input_statistics(graph, first)
    stats_out: dict[str, FeatureStatistics] = {}
    transformed = None
    if output_statistics or keep_output:
        stats_out, transformed = _final_pass(frozen, source.batches(), rows, keep_output, workers)
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
            "bad_record_examples": [str(e) for e in source.bad_records.examples[:5]],
        },
    )
    return tfn, transformed


def _final_pass(
    graph: Graph, batches: Iterable[pa.RecordBatch], rows: int, keep_output: bool, workers: int
) -> tuple[dict[str, FeatureStatistics], pa.Table | None]:
    """Transform every batch once, folding output statistics (and keeping outputs)."""
    from tskew.exporters.numpy import column_to_arrow

    kept: dict[int, pa.RecordBatch] = {}
    ids = list(graph.outputs.values())
    out_schema = arrow_output_schema(graph)

    def keep(index: int, values: dict) -> None:
        arrays = [column_to_arrow(values[nid], graph.nodes[nid].type) for nid in ids]
        kept[index] = pa.RecordBatch.from_arrays(arrays, schema=out_schema)

    accs = accumulate(
        Executor(graph),
        output_statistic_specs(graph),
        batches,
        workers,
        targets=ids,
        on_values=keep if keep_output else None,
    )
    stats = output_statistics(graph, accs, rows)
    if not keep_output:
        return stats, None
    return stats, pa.Table.from_batches([kept[k] for k in sorted(kept)], schema=out_schema)


__all__ = ["analyze", "analyze_and_transform"]
