"""AnalyzeDataset, TransformDataset and AnalyzeAndTransformDataset.

Every collection that feeds more than one step is only ever read as an
``AsList`` side input, and each phase's frozen values are rebuilt from a fresh
one-element ``Create``: the constructs that behave the same on the
DirectRunner (in-memory and multi-process) and the DaskRunner.
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
from tskew.compiler import finalize, freeze
from tskew.errors import AnalyzeError, DataError, SchemaError
from tskew.exporters.numpy import Executor
from tskew.io.bad_records import BadRecordLog
from tskew.io.conform import conform
from tskew.ir.graph import Graph
from tskew.plan import AccumulatorSpec, Phase, make_plan
from tskew.schema import Schema, SchemaLike, as_schema
from tskew.statistics import DatasetStatistics
from tskew.tracing import trace
from tskew.transform_fn import TransformFn


def _as_batch(element: Any, schema: Schema) -> pa.RecordBatch:
    """RecordBatch, Table or one dict row -> a RecordBatch conforming to ``schema``."""
    if isinstance(element, pa.RecordBatch):
        table = pa.Table.from_batches([element])
    elif isinstance(element, pa.Table):
        table = element
    elif isinstance(element, dict):
        table = pa.Table.from_pylist([element])
    else:
        raise DataError(
            f"tskew.beam expects pyarrow RecordBatches or dict rows, got {type(element).__name__}"
        )
    table = conform(table, schema, "a Beam element", BadRecordLog("error"), lambda i: (None, ""))
    return (
        table.combine_chunks().to_batches()[0]
        if table.num_rows
        else pa.RecordBatch.from_pylist([], schema=table.schema)
    )


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
    """Fold one batch into fresh accumulators (one state per batch, merged later)."""

    def __init__(
        self,
        graph: Graph,
        specs: tuple[AccumulatorSpec, ...],
        schema: Schema,
        progress: str | None = None,
    ):
        self.graph, self.specs, self.schema = graph, specs, schema
        self.targets = tuple(sorted({s.node for s in specs}))
        self.progress_label = progress
        self._frozen_for: Any = None
        self._executor: Executor | None = None

    def setup(self) -> None:
        self._progress = _Progress(self.progress_label)

    def process(self, element: Any, values: list[dict]):
        key = id(values[0])
        if self._frozen_for != key:
            self._executor = Executor(freeze(self.graph, values[0]) if values[0] else self.graph)
            self._frozen_for = key
        batch = _as_batch(element, self.schema)
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


def _fill_missing_accumulators(accs: dict, specs) -> dict:
    return {**{s: ACCUMULATORS[s.kind].create(s.dtype.value) for s in specs}, **accs}


def _freeze_phase(_: Any, graph: Graph, phase: Phase, prev: list[dict], accs: list[dict]) -> dict:
    """Extract this phase's analyzer values and add them to the earlier ones."""
    merged = _fill_missing_accumulators(accs[0], phase.accumulators)
    if phase.index == 0 and merged[ROWS] == 0:
        raise AnalyzeError("empty training data: the data has no rows to analyze")
    return {**prev[0], **phase_values(graph, phase, merged)}


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
    first_accs = _fill_missing_accumulators(first[0], specs)
    rows = first_accs[ROWS]
    bad_count = len(bad)
    if bad_count and bad_count > max_bad_fraction * (rows + bad_count):
        raise DataError(
            f"{bad_count} of {rows + bad_count} records of {source} were malformed, "
            f"more than max_bad_fraction={max_bad_fraction}; see the dead letters"
        )
    out_accs = _fill_missing_accumulators(outs[0], output_statistic_specs(frozen))
    statistics = DatasetStatistics(
        rows,
        input_statistics(graph, first_accs),
        output_statistics(frozen, out_accs, rows),
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


class AnalyzeDataset(beam.PTransform):
    """RecordBatches -> a one-element PCollection holding the `TransformFn`.

    Args:
        preprocessing_fn: the same function ``ts.analyze`` takes.
        schema: raw feature types; taken from a tskew reader when omitted.
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

    def _label(self, text: str) -> str | None:
        return text if self.progress else None

    def expand(self, pcoll):
        schema = self.schema or getattr(pcoll, "tskew_schema", None)
        if schema is None:
            raise SchemaError(
                "AnalyzeDataset needs a schema: pass schema=... or read the data "
                "with a tskew.beam reader (ReadCsv, ReadParquet, ReadJsonl)"
            )
        graph = trace(self.preprocessing_fn, schema)
        plan = make_plan(graph)
        p = pcoll.pipeline
        reread = getattr(pcoll, "tskew_reread", None)

        def rows_for(label: str):
            return reread(p, label) if reread is not None else pcoll

        frozen = p | "SeedValues" >> beam.Create([{}])
        first = None
        for phase in plan.phases:
            k = phase.index
            states = rows_for(f"Pass{k}") | f"Accumulate{k}" >> beam.ParDo(
                _Accumulate(
                    graph,
                    phase.accumulators,
                    schema,
                    progress=self._label(f"phase {k + 1} of {plan.passes}"),
                ),
                values=beam.pvalue.AsList(frozen),
            )
            merged = states | f"Merge{k}" >> beam.CombineGlobally(_Merge())
            frozen = (
                p
                | f"Seed{k}" >> beam.Create([None])
                | f"Freeze{k}"
                >> beam.Map(
                    _freeze_phase,
                    graph,
                    phase,
                    prev=beam.pvalue.AsList(frozen),
                    accs=beam.pvalue.AsList(merged),
                )
            )
            first = merged if k == 0 else first
        out_states = rows_for("PassOutputs") | "AccumulateOutputs" >> beam.ParDo(
            _OutputStatistics(
                graph,
                schema,
                self._label(f"pass {plan.passes} of {plan.passes} (output statistics)"),
            ),
            values=beam.pvalue.AsList(frozen),
        )
        outs = out_states | "MergeOutputs" >> beam.CombineGlobally(_Merge())
        dead = getattr(pcoll, "tskew_dead_letters", None)
        bad = dead if dead is not None else (p | "NoBad" >> beam.Create([]))
        return (
            p
            | "SeedBuild" >> beam.Create([None])
            | "BuildTransformFn"
            >> beam.Map(
                _build,
                graph,
                schema,
                plan.describe(graph),
                plan.phases[0].accumulators,
                values=beam.pvalue.AsList(frozen),
                first=beam.pvalue.AsList(first),
                outs=beam.pvalue.AsList(outs),
                bad=beam.pvalue.AsList(bad),
                max_bad_fraction=getattr(pcoll, "tskew_max_bad_fraction", 0.0),
                source=getattr(pcoll, "tskew_source", "a Beam PCollection"),
            )
        )


class _OutputStatistics(beam.DoFn):
    """Transform a batch with the frozen graph and fold output statistics."""

    def __init__(self, graph: Graph, schema: Schema, progress: str | None = None):
        self.graph, self.schema, self.progress_label = graph, schema, progress
        self._frozen_for: Any = None

    def setup(self) -> None:
        self._progress = _Progress(self.progress_label)

    def process(self, element: Any, values: list[dict]):
        if self._frozen_for != id(values[0]):
            self._frozen = finalize(freeze(self.graph, values[0]))
            self._executor = Executor(self._frozen)
            self._specs = output_statistic_specs(self._frozen)
            self._frozen_for = id(values[0])
        batch = _as_batch(element, self.schema)
        self._progress.add(batch.num_rows)
        state: dict[Any, Any] = {ROWS: batch.num_rows}
        if batch.num_rows:
            evaluated = self._executor.run(batch, self._frozen.outputs.values())
            for spec in self._specs:
                state[spec] = (
                    ACCUMULATORS[spec.kind].create(spec.dtype.value).add(evaluated[spec.node])
                )
        yield state


class _Transform(beam.DoFn):
    def process(self, element: Any, tfn: list[TransformFn]):
        fn = tfn[0]
        yield fn.transform_batch(_as_batch(element, fn.input_schema))


class TransformDataset(beam.PTransform):
    """``(batches, transform_fn) | TransformDataset()`` -> transformed RecordBatches.

    Runs the numpy/Arrow executor; no TensorFlow involved.
    """

    def expand(self, inputs):
        batches, transform_fn = inputs
        return batches | "Transform" >> beam.ParDo(
            _Transform(), tfn=beam.pvalue.AsList(transform_fn)
        )


class AnalyzeAndTransformDataset(beam.PTransform):
    """``batches | AnalyzeAndTransformDataset(fn)`` -> (transformed, transform_fn)."""

    def __init__(self, preprocessing_fn: Callable, schema: SchemaLike | None = None):
        super().__init__()
        self.analyze = AnalyzeDataset(preprocessing_fn, schema)

    def expand(self, pcoll):
        transform_fn = pcoll | "Analyze" >> self.analyze
        transformed = (pcoll, transform_fn) | "TransformDataset" >> TransformDataset()
        return transformed, transform_fn


__all__ = ["AnalyzeAndTransformDataset", "AnalyzeDataset", "TransformDataset"]
