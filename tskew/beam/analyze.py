"""AnalyzeDataset, TransformDataset and AnalyzeAndTransformDataset.

Passes: phase 0 reads the input collection itself (no side input, so a runner
fuses it with the read); every later phase and the final pass (output
statistics, plus the transformed rows in AnalyzeAndTransformDataset) read the
files again when the input comes from a tskew reader. Merged states and frozen
values are only ever read as ``AsList`` side inputs of a ``Map`` over a
one-element ``Create``: the constructs that behave the same on the DirectRunner
(in-memory and multi-process) and the DaskRunner.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import apache_beam as beam
import pyarrow as pa

from tskew.analysis import (
    ROWS,
    input_statistics,
    output_statistic_specs,
    output_statistics,
    phase_values,
)
from tskew.analyzers.accumulators import ACCUMULATORS
from tskew.beam.rows import BatchRows, GroupRows, to_batch
from tskew.compiler import finalize, freeze
from tskew.errors import AnalyzeError, DataError, SchemaError
from tskew.exporters.numpy import Executor, column_to_arrow
from tskew.io.bad_records import BadRecordLog
from tskew.ir.graph import Graph
from tskew.plan import AccumulatorSpec, Phase, make_plan
from tskew.schema import Schema, SchemaLike, as_schema
from tskew.statistics import DatasetStatistics
from tskew.tracing import trace
from tskew.transform_fn import TransformFn, arrow_output_schema


class _Progress:
    """Rows seen by this worker in one pass, written to stderr as the pass runs."""

    def __init__(self, label: str | None):
        self.label, self.rows = label, 0

    def add(self, rows: int) -> None:
        if self.label is None:
            return
        self.rows += rows
        print(
            f"tskew: {self.label}: {self.rows:,} rows read (worker {os.getpid()})",
            file=sys.stderr,
            flush=True,
        )


class _Accumulate(beam.DoFn):
    """Fold one conformed batch into fresh accumulators (one state per batch, merged later)."""

    def __init__(
        self,
        graph: Graph,
        specs: tuple[AccumulatorSpec, ...],
        progress: str | None = None,
    ):
        self.graph, self.specs = graph, specs
        self.targets = tuple(sorted({s.node for s in specs}))
        self.progress_label = progress
        self._frozen_for: Any = None
        self._executor: Executor | None = None

    def setup(self) -> None:
        self._progress = _Progress(self.progress_label)

    def process(self, batch: pa.RecordBatch, values: list[dict | None]):
        frozen = values[0]  # None in phase 0: nothing frozen yet
        if self._executor is None or self._frozen_for != id(frozen):
            self._executor = Executor(freeze(self.graph, frozen) if frozen else self.graph)
            self._frozen_for = id(frozen)
        self._progress.add(batch.num_rows)
        state: dict[Any, Any] = {ROWS: batch.num_rows}
        if batch.num_rows and self.targets:
            evaluated = self._executor.run(batch, self.targets)
            for spec in self.specs:
                state[spec] = (
                    ACCUMULATORS[spec.kind].create(spec.dtype.value).add(evaluated[spec.node])
                )
        yield state


class _Merge(beam.CombineFn):
    """Merge per-batch accumulator states; order-independent, so runner-independent."""

    def create_accumulator(self) -> dict:
        return {ROWS: 0}

    def add_input(self, acc: dict, state: dict) -> dict:
        return self.merge_accumulators([acc, state])

    def merge_accumulators(self, accs) -> dict:
        out: dict = {ROWS: 0}
        for acc in accs:
            for key, value in acc.items():
                if key == ROWS:
                    out[ROWS] += value
                else:
                    out[key] = value if key not in out else out[key].merge(value)
        return out

    def extract_output(self, acc: dict) -> dict:
        return acc


def _merged(accs: list[dict], specs) -> dict:
    """The one merged state of a pass (none when the pass saw no batches)."""
    found = accs[0] if accs else {ROWS: 0}
    return {**{s: ACCUMULATORS[s.kind].create(s.dtype.value) for s in specs}, **found}


def _freeze_phase(_: Any, graph: Graph, phase: Phase, prev: list[dict], accs: list[dict]) -> dict:
    """Extract this phase's analyzer values and add them to the earlier ones."""
    merged = _merged(accs, phase.accumulators)
    if phase.index == 0 and merged[ROWS] == 0:
        raise AnalyzeError("empty training data: the data has no rows to analyze")
    return {**(prev[0] if prev else {}), **phase_values(graph, phase, merged)}


def _build(
    _: Any,
    graph: Graph,
    schema: Schema,
    plan_text: str,
    specs,
    values: list[dict],
    first: list[dict],
    outs: list[dict],
    bad: list[dict],
    max_bad_fraction: float,
    source: str,
) -> TransformFn:
    frozen = finalize(freeze(graph, values[0]))
    first_accs = _merged(first, specs)
    rows = first_accs[ROWS]
    bad_count = len(bad)
    if bad_count and bad_count > max_bad_fraction * (rows + bad_count):
        raise DataError(
            f"{bad_count} of {rows + bad_count} records of {source} were malformed, "
            f"more than max_bad_fraction={max_bad_fraction}; see the dead letters"
        )
    statistics = DatasetStatistics(
        rows,
        input_statistics(graph, first_accs),
        output_statistics(frozen, _merged(outs, output_statistic_specs(frozen)), rows),
        bad_count,
    )
    input_schema = Schema({n: schema[n] for n in graph.inputs})
    return TransformFn(
        frozen,
        input_schema,
        statistics,
        plan_text,
        {"source": source, "runner": "beam", "built_at": time.time()},
    )


class _Frozen:
    """The finalized graph for the frozen values a worker last saw (rebuilt when they change)."""

    def __init__(self, graph: Graph):
        self.graph, self._for = graph, None

    def get(self, values: dict) -> Graph:
        if self._for != id(values):
            self.frozen = finalize(freeze(self.graph, values))
            self.executor = Executor(self.frozen)
            self.ids = list(self.frozen.outputs.values())
            self._for = id(values)
        return self.frozen


class _OutputStatistics(beam.DoFn):
    """Transform a batch with the frozen graph and fold output statistics."""

    def __init__(self, graph: Graph, progress: str | None = None):
        self.graph, self.progress_label = graph, progress

    def setup(self) -> None:
        self._progress = _Progress(self.progress_label)
        self._cache = _Frozen(self.graph)

    def process(self, batch: pa.RecordBatch, values: list[dict]):
        frozen = self._cache.get(values[0])
        self._progress.add(batch.num_rows)
        state: dict[Any, Any] = {ROWS: batch.num_rows}
        if batch.num_rows:
            evaluated = self._cache.executor.run(batch, self._cache.ids)
            for spec in output_statistic_specs(frozen):
                state[spec] = (
                    ACCUMULATORS[spec.kind].create(spec.dtype.value).add(evaluated[spec.node])
                )
        yield state


class _TransformRows(beam.DoFn):
    """Transform a batch with the frozen graph (as TransformFn.transform_batch does)."""

    def __init__(self, graph: Graph):
        self.graph = graph

    def setup(self) -> None:
        self._cache = _Frozen(self.graph)

    def process(self, batch: pa.RecordBatch, values: list[dict]):
        frozen = self._cache.get(values[0])
        evaluated = self._cache.executor.run(batch, self._cache.ids)
        arrays = [column_to_arrow(evaluated[i], frozen.nodes[i].type) for i in self._cache.ids]
        yield pa.RecordBatch.from_arrays(arrays, schema=arrow_output_schema(frozen))


def _analyze(
    pcoll, preprocessing_fn: Callable, schema: Schema | None, progress: bool, keep_rows: bool
):
    """The analysis passes over ``pcoll``: (transform_fn, transformed rows or None)."""
    if not hasattr(pcoll, "tskew_schema"):
        if schema is None:
            raise SchemaError(
                "AnalyzeDataset needs a schema: pass schema=... or read the data "
                "with a tskew.beam reader (ReadCsv, ReadParquet, ReadJsonl)"
            )
        pcoll = pcoll | "BatchRows" >> BatchRows(schema)
    schema = schema or pcoll.tskew_schema
    graph = trace(preprocessing_fn, schema)
    plan = make_plan(graph)
    p = pcoll.pipeline
    reread = getattr(pcoll, "tskew_reread", None)

    def label(text: str) -> str | None:
        return text if progress else None

    def rows_for(name: str):
        # Later passes read the files again rather than share ``pcoll``: a collection
        # consumed after a side input is ready is held in memory by the runner.
        return reread(p, name) if reread is not None else pcoll

    seed = p | "Seed" >> beam.Create([None])
    frozen = None
    first = None
    for phase in plan.phases:
        k = phase.index
        accumulate = _Accumulate(
            graph, phase.accumulators, label(f"phase {k + 1} of {plan.passes}")
        )
        # Phase 0 reads ``pcoll`` itself (its side input is the seed: nothing frozen).
        states = (pcoll if k == 0 else rows_for(f"Pass{k}")) | f"Accumulate{k}" >> beam.ParDo(
            accumulate, values=beam.pvalue.AsList(seed if k == 0 else frozen)
        )
        merged = states | f"Merge{k}" >> beam.CombineGlobally(_Merge()).without_defaults()
        frozen = seed | f"Freeze{k}" >> beam.Map(
            _freeze_phase,
            graph,
            phase,
            prev=beam.pvalue.AsList(frozen) if frozen is not None else [],
            accs=beam.pvalue.AsList(merged),
        )
        first = merged if k == 0 else first
    out_states = rows_for("PassOutputs") | "AccumulateOutputs" >> beam.ParDo(
        _OutputStatistics(graph, label(f"pass {plan.passes} of {plan.passes} (output statistics)")),
        values=beam.pvalue.AsList(frozen),
    )
    outs = out_states | "MergeOutputs" >> beam.CombineGlobally(_Merge()).without_defaults()
    dead = getattr(pcoll, "tskew_dead_letters", None)
    transform_fn = seed | "BuildTransformFn" >> beam.Map(
        _build,
        graph,
        schema,
        plan.describe(graph),
        plan.phases[0].accumulators,
        values=beam.pvalue.AsList(frozen),
        first=beam.pvalue.AsList(first),
        outs=beam.pvalue.AsList(outs),
        bad=beam.pvalue.AsList(dead) if dead is not None else [],
        max_bad_fraction=getattr(pcoll, "tskew_max_bad_fraction", 0.0),
        source=getattr(pcoll, "tskew_source", "a Beam PCollection"),
    )
    if not keep_rows:
        return transform_fn, None
    # A pass of its own (one more read) rather than Tagged outputs of the statistics pass:
    # on the DaskRunner a ParDo both written out and upstream of a side input (here: of
    # the TransformFn) has its outputs duplicated (see tskew.beam.rows).
    transformed = rows_for("PassTransform") | "TransformRows" >> beam.ParDo(
        _TransformRows(graph), values=beam.pvalue.AsList(frozen)
    ).with_output_types(pa.RecordBatch)
    return transform_fn, transformed


class AnalyzeDataset(beam.PTransform):
    """RecordBatches or dict rows -> a one-element PCollection holding the `TransformFn`.

    Args:
        preprocessing_fn: the same function ``ts.analyze`` takes.
        schema: raw feature types; taken from a tskew reader or `BatchRows` when omitted.
        progress: report rows read per pass on stderr.
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

    def expand(self, pcoll):
        transform_fn, _ = _analyze(pcoll, self.preprocessing_fn, self.schema, self.progress, False)
        return transform_fn


class _Transform(beam.DoFn):
    def process(self, element: pa.RecordBatch | list[dict], tfn: list[TransformFn]):
        fn = tfn[0]
        yield fn.transform_batch(to_batch(element, fn.input_schema, BadRecordLog("error")))


class TransformDataset(beam.PTransform):
    """``(batches, transform_fn) | TransformDataset()`` -> transformed RecordBatches.

    Takes RecordBatches or dict rows; runs the numpy/Arrow executor, no TensorFlow.
    """

    def expand(self, inputs):
        batches, transform_fn = inputs
        return (
            batches
            | "GroupRows" >> GroupRows()
            | "Transform"
            >> beam.ParDo(_Transform(), tfn=beam.pvalue.AsList(transform_fn)).with_output_types(
                pa.RecordBatch
            )
        )


class AnalyzeAndTransformDataset(beam.PTransform):
    """``batches | AnalyzeAndTransformDataset(fn)`` -> (transformed, transform_fn).

    Input from a tskew reader is read again for each pass (analysis phases, output
    statistics, transform) instead of being held in memory until the analysis ends.
    """

    def __init__(self, preprocessing_fn: Callable, schema: SchemaLike | None = None):
        super().__init__()
        self.preprocessing_fn = preprocessing_fn
        self.schema = Schema(schema) if isinstance(schema, dict) else schema

    def expand(self, pcoll):
        transform_fn, transformed = _analyze(pcoll, self.preprocessing_fn, self.schema, False, True)
        return transformed, transform_fn


__all__ = ["AnalyzeAndTransformDataset", "AnalyzeDataset", "TransformDataset"]
