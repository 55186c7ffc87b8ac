"""AnalyzeDataset, TransformDataset and AnalyzeAndTransformDataset.

Passes: phase 0 reads the input collection itself (no side input, so a runner
fuses it with the read); every later phase and the final pass (output
statistics, plus the transformed rows in AnalyzeAndTransformDataset) read the
`Source` again (`Source.read_again`). Merged states and frozen
values are only ever read as ``AsList`` side inputs of a ``Map`` over a
one-element ``Create``: the constructs that behave the same on the DirectRunner
(in-memory and multi-process) and the DaskRunner.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from tskew.analysis import default_workers, input_statistics, output_statistics
from tskew.beam.fold import Fold
from tskew.beam.rows import BatchRows, GroupRows, to_batch
from tskew.beam.runner import loses_finish_bundle_outputs
from tskew.beam.source import Source, TakesSource, batches_of
from tskew.compiler import finalize
from tskew.errors import AnalyzeError, DataError, SchemaError
from tskew.interpreter import Executor, column_to_arrow
from tskew.io.bad_records import BadRecordLog
from tskew.io.schemas import SchemaLike, as_schema
from tskew.ir.graph import Graph
from tskew.plan import make_plan, max_passes
from tskew.schedule import ROWS, PassPlan, Scheduler, merge_states
from tskew.schema import Schema
from tskew.statistics import DatasetStatistics
from tskew.tracing import trace
from tskew.transform_fn import TransformFn, arrow_output_schema

_log = logging.getLogger(__name__)


class _Progress:
    """Rows seen by this worker in one pass, logged (INFO) as the pass runs."""

    def __init__(self, label: str | None):
        self.label, self.rows = label, 0

    def add(self, rows: int) -> None:
        if self.label is None:
            return
        self.rows += rows
        _log.info("%s: %s rows read (worker %d)", self.label, f"{self.rows:,}", os.getpid())


class _Accumulate(beam.DoFn):
    """Fold the batches of a bundle into one set of accumulators for this pass's plan.

    A bundle's batches are folded by ``threads`` threads (`Fold`) beside the read.
    With ``per_batch`` (runners that drop ``finish_bundle`` outputs) every batch
    yields its own accumulators instead.
    """

    def __init__(self, progress: str | None = None, per_batch: bool = False, threads: int = 1):
        self.progress_label = progress
        self.per_batch = per_batch
        self.threads = threads

    def setup(self) -> None:
        self._progress = _Progress(self.progress_label)
        self._plan_id: Any = None
        self._executor: Executor | None = None

    def start_bundle(self) -> None:
        self._fold: Fold | None = None

    def process(self, batch: pa.RecordBatch, plan: PassPlan | None):
        if plan is None:  # the analysis finished in an earlier pass
            return
        if self._plan_id != id(plan):
            self._executor, self._plan_id = Executor(plan.graph), id(plan)
        self._progress.add(batch.num_rows)
        if self.per_batch:
            accs = plan.empty()
            plan.add(accs, batch, self._executor)
            yield accs
            return
        if self._fold is None or self._fold.plan is not plan:
            yield from self._flush()
            self._fold = Fold(plan, self._executor, self.threads)
        self._fold.add(batch)

    def _flush(self):
        if self._fold is not None:
            accs, self._fold = self._fold.result(), None
            yield WindowedValue(accs, GlobalWindow().max_timestamp(), [GlobalWindow()])

    def finish_bundle(self):
        yield from self._flush()

    def teardown(self) -> None:
        # a bundle that failed midway leaves its Fold open: stop its threads
        fold = getattr(self, "_fold", None)
        if fold is not None:
            fold.close()


class _Merge(beam.CombineFn):
    """Merge per-bundle accumulator states; order-independent, so runner-independent."""

    def create_accumulator(self) -> dict:
        return {ROWS: 0}

    def add_input(self, acc: dict, state: dict) -> dict:
        return merge_states([acc, state])

    def merge_accumulators(self, accs) -> dict:
        return merge_states(list(accs))

    def extract_output(self, acc: dict) -> dict:
        return acc


class _Finished:
    """Stands in for a finished scheduler in the passes after the last needed one, so
    those passes do not copy the scheduler (and its accumulators) from step to step."""


FINISHED = _Finished()


def _next_plan(scheduler: Scheduler | _Finished) -> PassPlan | None:
    return None if isinstance(scheduler, _Finished) else scheduler.next_pass()


def _advance(
    _: Any,
    scheduler: Scheduler | _Finished,
    plan: PassPlan | None,
    merged: list[dict],
    mark: bool = True,
) -> Scheduler | _Finished:
    """The scheduler after folding in one pass (a copy: side inputs may be shared);
    after the last needed pass `FINISHED` (with ``mark``) or the scheduler itself."""
    if plan is None:
        return FINISHED if mark else scheduler
    scheduler = scheduler.fork()
    scheduler.absorb(merged[0] if merged else plan.empty())
    return scheduler


def _finished(scheduler: Scheduler | _Finished) -> bool:
    return isinstance(scheduler, Scheduler) and scheduler.next_pass() is None


def _only(finished: tuple[list[Scheduler], ...], most: int) -> Scheduler:
    """The scheduler of the pass that completed the analysis."""
    schedulers = [s for f in finished for s in f if _finished(s)]
    if not schedulers:
        raise AnalyzeError(f"internal error: the analysis needs more than {most} passes")
    return schedulers[0]


def _if_finished(scheduler: Scheduler | _Finished) -> list[Scheduler]:
    """The scheduler when this pass completed the analysis (once per analysis)."""
    return [scheduler] if _finished(scheduler) else []


def _build(
    _: Any,
    graph: Graph,
    schema: Schema,
    plan_text: str,
    *finished: list[Scheduler],
    most: int,
    bad: list[dict],
    max_bad_fraction: float,
    source: str,
) -> TransformFn:
    scheduler = _only(finished, most)
    rows = scheduler.rows
    bad_count = len(bad)
    if bad_count and bad_count > max_bad_fraction * (rows + bad_count):
        raise DataError(
            f"{bad_count} of {rows + bad_count} records of {source} were malformed, "
            f"more than max_bad_fraction={max_bad_fraction}; see the dead letters"
        )
    statistics = DatasetStatistics(
        rows,
        input_statistics(graph, scheduler),
        output_statistics(graph, scheduler),
        bad_count,
    )
    input_schema = Schema({n: schema[n] for n in graph.inputs})
    return TransformFn(
        finalize(scheduler.current),
        input_schema,
        statistics,
        plan_text,
        {"source": source, "runner": "beam", "built_at": time.time(), "passes": scheduler.passes},
    )


class _Frozen:
    """The finalized graph of the scheduler a worker last saw (rebuilt when it changes)."""

    def __init__(self):
        self._for = None

    def get(self, scheduler: Scheduler) -> Graph:
        if self._for != id(scheduler):
            self.frozen = finalize(scheduler.current)
            self.executor = Executor(self.frozen)
            self.ids = list(self.frozen.outputs.values())
            self._for = id(scheduler)
        return self.frozen


class _TransformRows(beam.DoFn):
    """Transform a batch with the frozen graph (as TransformFn.transform_batch does)."""

    def setup(self) -> None:
        self._cache = _Frozen()

    def process(self, batch: pa.RecordBatch, *finished: list[Scheduler]):
        frozen = self._cache.get(_only(finished, len(finished)))
        evaluated = self._cache.executor.run(batch, self._cache.ids)
        arrays = [column_to_arrow(evaluated[i], frozen.nodes[i].type) for i in self._cache.ids]
        yield pa.RecordBatch.from_arrays(arrays, schema=arrow_output_schema(frozen))


def _as_source(value: Any, schema: Schema | None) -> Source:
    """The `Source` to analyze: ``value`` itself, or a plain PCollection via `BatchRows`."""
    if isinstance(value, Source):
        return value if schema is None else dataclasses.replace(value, schema=schema)
    if schema is None:
        raise SchemaError(
            "AnalyzeDataset needs a schema for a plain PCollection: pass schema=..., or "
            "read the data with a tskew.beam reader (ReadCsv, ReadParquet, ReadJsonl) and "
            "apply your own transforms with source.apply(transform), which keeps the schema"
        )
    return value | "BatchRows" >> BatchRows(schema)


def _analyze(
    value: Any, preprocessing_fn: Callable, schema: Schema | None, progress: bool, keep_rows: bool
):
    """The analysis passes over a `Source` or PCollection: (transform_fn, transformed rows
    or None)."""
    source = _as_source(value, schema)
    schema = source.schema
    graph = trace(preprocessing_fn, schema)
    plan = make_plan(graph)
    p = source.pipeline

    def label(text: str) -> str | None:
        return text if progress else None

    seed = p | "Seed" >> beam.Create([None])
    state = seed | "Start" >> beam.Map(lambda _: Scheduler(graph, bounded=not on_dask))
    # A Beam graph is fixed before it runs, so it holds the most passes an analysis can
    # need; passes after the last needed one read and compute nothing.
    # Beam 2.77's DaskRunner recomputes a side input for each consumer, so the cost of
    # chained passes doubles with each one: there the analysis keeps exact counts per
    # distinct value (no refinement passes), one pass per analyzer level, as TFT does.
    on_dask = loses_finish_bundle_outputs(p)
    most = len(plan.phases) + 1 if on_dask else max_passes(plan)
    threads = default_workers()  # per bundle, as ts.analyze uses per pass
    finals = []
    for k in range(most):
        plan_k = state | f"Plan{k}" >> beam.Map(_next_plan)
        # Later passes read the source again rather than share its batches: a collection
        # consumed after a side input is ready is held in memory by the runner.
        rows = source.batches if k == 0 else source.read_again(f"Pass{k}", plan_k)
        states = rows | f"Accumulate{k}" >> beam.ParDo(
            _Accumulate(label(f"pass {k + 1}"), per_batch=on_dask, threads=threads),
            plan=beam.pvalue.AsSingleton(plan_k),
        )
        merged = states | f"Merge{k}" >> beam.CombineGlobally(_Merge()).without_defaults()
        advanced = seed | f"Advance{k}" >> beam.Map(
            _advance,
            scheduler=beam.pvalue.AsSingleton(state),
            plan=beam.pvalue.AsSingleton(plan_k),
            merged=beam.pvalue.AsList(merged),
            mark=not on_dask,
        )
        # The pass that completes the analysis hands its scheduler to the end (a step
        # fused with the Advance step); the passes after it only pass on `FINISHED`.
        # Not on the DaskRunner, which computes a side input anew for each consumer (and
        # runs no idle passes): there the end reads the last pass's scheduler.
        state = advanced
        if not on_dask:
            finals.append(advanced | f"Finished{k}" >> beam.FlatMap(_if_finished))
    if on_dask:
        finals = [state]
    # One side input per pass (a Flatten of them leaves the DirectRunner's bundles
    # waiting on each other); exactly one of them holds the finished scheduler.
    finished = [beam.pvalue.AsList(f) for f in finals]
    dead = source.dead_letters
    transform_fn = seed | "BuildTransformFn" >> beam.Map(
        _build,
        graph,
        schema,
        plan.describe(graph),
        *finished,
        most=most,
        bad=beam.pvalue.AsList(dead) if dead is not None else [],
        max_bad_fraction=source.max_bad_fraction,
        source=source.description,
    )
    if not keep_rows:
        return transform_fn, None
    # A pass of its own (one more read) rather than Tagged outputs of the statistics pass:
    # on the DaskRunner a ParDo both written out and upstream of a side input (here: of
    # the TransformFn) has its outputs duplicated (see tskew.beam.rows).
    # The read waits for the TransformFn: started at once, its batches would queue in
    # memory until the analysis ends (memory growing with the rows).
    ready = transform_fn | "TransformReady" >> beam.Map(
        lambda _, names: _Columns(names), tuple(graph.inputs)
    )
    transformed = source.read_again("PassTransform", ready) | "TransformRows" >> beam.ParDo(
        _TransformRows(), *finished
    ).with_output_types(pa.RecordBatch)
    return transform_fn, transformed


@dataclasses.dataclass(frozen=True)
class _Columns:
    """A read plan of its own for the transform pass: the raw columns the graph reads."""

    names: tuple[str, ...]

    def columns(self) -> tuple[str, ...]:
        return self.names


class AnalyzeDataset(TakesSource):
    """A `Source` (or a PCollection) -> a one-element PCollection holding the `TransformFn`.

    Input: the `Source` a tskew reader or `BatchRows` returns (with the user's own
    transforms applied through `Source.apply`): each later pass reads it again. A
    plain PCollection of RecordBatches or dict rows needs ``schema``; it is converted
    with `BatchRows`, and all passes share it, so the runner keeps it until the
    analysis ends (in memory on the DirectRunner).

    Args:
        preprocessing_fn: the same function ``ts.analyze`` takes.
        schema: raw feature types; taken from the `Source` when omitted.
        progress: log rows read per pass (logger ``tskew.beam.analyze``, INFO;
            the ``tskew`` command line shows them on stderr).
    """

    def __init__(
        self,
        preprocessing_fn: Callable,
        schema: SchemaLike | None = None,
        progress: bool = False,
    ):
        super().__init__()
        self.preprocessing_fn = preprocessing_fn
        self.schema = None if schema is None else as_schema(schema)
        self.progress = progress

    def expand(self, source):
        transform_fn, _ = _analyze(source, self.preprocessing_fn, self.schema, self.progress, False)
        return transform_fn


class _Transform(beam.DoFn):
    def process(self, element: pa.RecordBatch | list[dict], tfn: list[TransformFn]):
        fn = tfn[0]
        yield fn.transform_batch(to_batch(element, fn.input_schema, BadRecordLog("error")))


class TransformDataset(TakesSource):
    """``(batches, transform_fn) | TransformDataset()`` -> transformed RecordBatches.

    ``batches``: a `Source`, or a PCollection of RecordBatches or dict rows. Runs the
    numpy/Arrow executor, no TensorFlow.
    """

    def expand(self, inputs):
        batches, transform_fn = inputs
        return (
            batches_of(batches)
            | "GroupRows" >> GroupRows()
            | "Transform"
            >> beam.ParDo(_Transform(), tfn=beam.pvalue.AsList(transform_fn)).with_output_types(
                pa.RecordBatch
            )
        )


class AnalyzeAndTransformDataset(TakesSource):
    """``source | AnalyzeAndTransformDataset(fn)`` -> (transformed, transform_fn).

    Takes what `AnalyzeDataset` takes. A `Source` is read again for each pass
    (analysis phases, output statistics, transform) instead of being held in memory
    until the analysis ends.
    """

    def __init__(self, preprocessing_fn: Callable, schema: SchemaLike | None = None):
        super().__init__()
        self.preprocessing_fn = preprocessing_fn
        self.schema = None if schema is None else as_schema(schema)

    def expand(self, source):
        transform_fn, transformed = _analyze(
            source, self.preprocessing_fn, self.schema, False, True
        )
        return transformed, transform_fn


__all__ = ["AnalyzeAndTransformDataset", "AnalyzeDataset", "TransformDataset"]
