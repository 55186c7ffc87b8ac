"""What each pass over the data computes, until every analyzer and statistic is known.

A pass fills accumulators for every value that can be evaluated with what is
frozen so far: the inputs of analyzers whose own inputs are ready, the raw-input
statistics, and the output statistics of outputs whose analyzers are all frozen.
Numeric distributions with many distinct values then need refinement passes
(`tskew.analyzers.distribution.RankSearch`); each refinement rides along with
whatever else the next pass computes, and an analyzer is frozen as soon as its
accumulator is complete, so the output statistics of ``scale_to_z_score(x)``
share the pass that refines the quantiles of ``x``.

The scheduler is plain data in and out (`PassPlan`, merged accumulator dicts),
so the in-process loop and the Beam pipeline drive the same object.

Example:
    >>> import numpy as np, pyarrow as pa, tskew as ts
    >>> from tskew.tracing import trace
    >>> g = trace(lambda i: {"z": ts.scale_to_z_score(i["x"])}, ts.Schema({"x": ts.float64(False)}))
    >>> sched = Scheduler(g)
    >>> batch = pa.record_batch({"x": np.arange(10.0)})
    >>> passes = 0
    >>> while (plan := sched.next_pass()) is not None:
    ...     sched.absorb(plan.run(batch))
    ...     passes += 1
    >>> passes  # inputs and analyzers, then the output statistics
    2
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pyarrow as pa

from tskew.analyzers.accumulators import ACCUMULATORS
from tskew.analyzers.distribution import Distribution, Probe, RankSearch
from tskew.catalog import CATEGORY_OPS, get_op
from tskew.compiler import freeze
from tskew.errors import AnalyzeError
from tskew.interpreter import Executor
from tskew.ir.graph import Graph
from tskew.plan import AccumulatorSpec, analyzer_accumulator, feature_statistic_specs
from tskew.statistics import distribution_ranks
from tskew.tracing import describe_node

ROWS = "__rows__"  # key of the row count beside the accumulators of a pass


def analyzer_ranks(op: str, attrs: Mapping[str, Any], n: int) -> list[int]:
    """Sorted positions an order-statistic analyzer reads (n present values)."""
    if op == "quantiles":
        nb = attrs["num_buckets"]
        return [(k * n) // nb for k in range(1, nb)]
    if op == "quantile":
        return [min(n - 1, int(Fraction(attrs["q"]) * n))]
    return []


@dataclass
class PassPlan:
    """One pass: the graph to evaluate and the accumulators to fill.

    ``fresh`` maps a spec to an empty accumulator to fill (a new accumulator, or a
    refinement `Probe`); accumulators are copied per worker with `empty`.
    """

    graph: Graph
    fresh: dict[AccumulatorSpec, Any]
    first: bool
    bounded: bool = True

    @property
    def nodes(self) -> list[int]:
        return sorted({s.node for s in self.fresh})

    def columns(self) -> list[str]:
        """Raw inputs this pass reads (for column projection)."""
        ancestors = self.graph.ancestors(self.nodes)
        return [name for name, nid in self.graph.inputs.items() if nid in ancestors]

    def empty(self) -> dict:
        """Fresh accumulators for one worker."""
        out: dict[Any, Any] = {ROWS: 0}
        for spec, template in self.fresh.items():
            if isinstance(template, Probe):
                out[spec] = Probe(template.dtype, template.windows, template.edges)
            elif spec.kind == "distribution" and not self.bounded:
                out[spec] = Distribution(spec.dtype.value, unbounded=True)
            else:
                out[spec] = ACCUMULATORS[spec.kind].create(spec.dtype.value)
        return out

    def add(self, accs: dict, batch: pa.RecordBatch, executor: Executor) -> None:
        """Fold one batch into ``accs`` (from `empty`)."""
        accs[ROWS] += batch.num_rows
        if not batch.num_rows or not self.fresh:
            return
        values = executor.run(batch, self.nodes)
        for spec in self.fresh:
            accs[spec] = accs[spec].add(values[spec.node])

    def run(self, batch: pa.RecordBatch) -> dict:
        """The whole pass over one batch (doctests, tiny inputs)."""
        accs = self.empty()
        self.add(accs, batch, Executor(self.graph))
        return accs


def merge_states(states: list[dict]) -> dict:
    """Merge per-worker accumulator dicts of one pass (any order)."""
    out: dict[Any, Any] = {ROWS: 0}
    for state in states:
        for key, value in state.items():
            if key == ROWS:
                out[ROWS] += value
            else:
                out[key] = value if key not in out else out[key].merge(value)
    return out


class Scheduler:
    """Plans passes and folds their results until the analysis is complete."""

    def __init__(
        self,
        graph: Graph,
        statistics: bool = True,
        output_statistics: bool = True,
        bounded: bool = True,
    ):
        self.graph = graph
        self.bounded = bounded  # False: distributions count every distinct value exactly
        self.current = graph
        self.output_statistics = output_statistics
        self.rows: int | None = None
        self.passes = 0
        self.values: dict[int, Any] = {}  # analyzer node -> frozen value
        self.done: dict[AccumulatorSpec, Any] = {}
        self._searching: dict[AccumulatorSpec, tuple[Distribution, RankSearch]] = {}
        self._analyzers = [n.id for n in graph.nodes if get_op(n.op).analyzer]
        self._analyzer_spec = {aid: self._spec_of(aid) for aid in self._analyzers}
        self.input_specs: dict[str, list[AccumulatorSpec]] = {}
        if statistics:  # the raw inputs' statistics: the skew baseline
            for name, nid in graph.inputs.items():
                dtype = graph.nodes[nid].type.dtype
                self.input_specs[name] = feature_statistic_specs(nid, dtype)
        self.output_specs: dict[str, list[AccumulatorSpec]] = {}  # added once ready
        self._stat_specs = {s for specs in self.input_specs.values() for s in specs}

    def fork(self) -> Scheduler:
        """A copy that `absorb` can change without touching this one (cheaper than a deep
        copy: finished accumulators are shared, since nothing changes them)."""
        out = copy.copy(self)
        out.values, out.done = dict(self.values), dict(self.done)
        out._searching = {s: (d, copy.deepcopy(r)) for s, (d, r) in self._searching.items()}
        out.output_specs, out._stat_specs = dict(self.output_specs), set(self._stat_specs)
        return out

    def _spec_of(self, aid: int) -> AccumulatorSpec:
        return analyzer_accumulator(self.graph, self.graph.nodes[aid])

    def _ready(self, nid: int) -> bool:
        """Every analyzer above ``nid`` in the current graph is frozen."""
        nodes = self.current.nodes
        return not any(get_op(nodes[a].op).analyzer for a in self.current.ancestors([nid]))

    def _add_ready_outputs(self) -> None:
        if not self.output_statistics:
            return
        for name, nid in self.current.outputs.items():
            if name in self.output_specs or not self._ready(nid):
                continue
            node = self.current.nodes[nid]
            specs = []
            if not node.type.width:  # vector outputs (one_hot) are described by their input
                specs = feature_statistic_specs(nid, node.type.dtype, node.op in CATEGORY_OPS)
            self.output_specs[name] = specs
            self._stat_specs.update(specs)

    def _wanted(self) -> set[AccumulatorSpec]:
        wanted = set(self._stat_specs)
        wanted.update(self._analyzer_spec[a] for a in self._analyzers if a not in self.values)
        return wanted

    def next_pass(self) -> PassPlan | None:
        """The next pass to run, or None when everything is known."""
        self._add_ready_outputs()
        fresh: dict[AccumulatorSpec, Any] = {}
        for spec in sorted(self._wanted(), key=lambda s: (s.node, s.kind)):
            if spec in self.done:
                continue
            if spec in self._searching:
                fresh[spec] = self._searching[spec][1].probe()
            elif self._ready(spec.node):
                fresh[spec] = None
        if not fresh and self.rows is not None:
            if self._wanted() - set(self.done):
                raise AnalyzeError("internal error: analysis cannot make progress")
            return None
        return PassPlan(self.current, fresh, first=self.rows is None, bounded=self.bounded)

    def absorb(self, merged: dict) -> None:
        """Fold one pass's merged accumulators; freeze every analyzer now complete."""
        # what `next_pass` registered (Beam may plan and absorb on different copies)
        self._add_ready_outputs()
        if self.rows is None:
            self.rows = merged[ROWS]
            if self.rows == 0:
                raise AnalyzeError(
                    "empty training data: the data has no rows to analyze (TFT would return "
                    "mean/var/sum/size 0, min +inf, max -inf and zero quantiles; tskew refuses "
                    "since an artifact fitted on nothing is a wrong path or an over-eager filter)"
                )
        self.passes += 1
        for spec, acc in merged.items():
            if spec == ROWS:
                continue
            if spec in self._searching:
                dist, search = self._searching[spec]
                search.absorb(acc)
                if search.done:
                    self.done[spec] = dist.with_search(search)
                    del self._searching[spec]
            elif isinstance(acc, Distribution) and acc.exact and acc.past_limit():
                # counted exactly past the limit (unbounded mode): same results as bounded
                ranks = self._ranks(spec, acc.total)
                self.done[spec] = acc.resolved_in_memory(ranks, spec in self._stat_specs)
            elif isinstance(acc, Distribution) and not acc.exact and acc.total:
                search = acc.search_ranks(self._ranks(spec, acc.total), spec in self._stat_specs)
                if search.done:
                    self.done[spec] = acc.with_search(search)
                else:
                    self._searching[spec] = (acc, search)
            else:
                self.done[spec] = acc
        self._freeze_complete()

    def _ranks(self, spec: AccumulatorSpec, n: int) -> list[int]:
        ranks = set(distribution_ranks(n)) if spec in self._stat_specs else set()
        for aid in self._analyzers:
            if self._analyzer_spec[aid] == spec:
                node = self.graph.nodes[aid]
                ranks.update(analyzer_ranks(node.op, node.attr_dict, n))
        return sorted(ranks)

    def _freeze_complete(self) -> None:
        values = {}
        for aid in self._analyzers:
            spec = self._analyzer_spec[aid]
            if aid in self.values or spec not in self.done:
                continue
            node = self.graph.nodes[aid]
            src = self.graph.nodes[node.inputs[0]]
            what = describe_node(self.graph.nodes, src, 3)
            extract = get_op(node.op).extract
            values[aid] = extract(node.attr_dict, self.done[spec], src.type.dtype, what)
        if values:
            self.values.update(values)
            self.current = freeze(self.current, values)
