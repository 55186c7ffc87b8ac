"""The analysis plan: which analyzers run in which pass over the data.

An analyzer whose input depends on another analyzer's result must wait for
it, so analyzers are grouped into phases; all analyzers of a phase (and the
statistics of the raw inputs, in phase 0) are computed in one fused pass.
Analyzers that read the same value share accumulators (``mean(x)`` and
``var(x)`` both come from one exact-moments accumulator).

Example:
    >>> import tskew as ts
    >>> from tskew.tracing import trace
    >>> g = trace(lambda i: {"b": ts.bucketize(ts.scale_to_z_score(
    ...     ts.impute(i["x"], "median")), 4)}, ts.Schema({"x": ts.float64()}))
    >>> plan = make_plan(g)
    >>> [len(p.analyzers) for p in plan.phases], plan.passes
    ([1, 2, 1], 4)
"""

from __future__ import annotations

from dataclasses import dataclass

from tskew.analyzers.distribution import max_refinement_passes
from tskew.catalog import get_op
from tskew.ir.graph import Graph
from tskew.ir.nodes import Node
from tskew.schema import DType
from tskew.tracing import describe_node


@dataclass(frozen=True)
class AccumulatorSpec:
    """One accumulator to fill: its kind, the node it reads and that node's dtype."""

    kind: str
    node: int
    dtype: DType


@dataclass(frozen=True)
class Phase:
    index: int
    analyzers: tuple[int, ...]
    accumulators: tuple[AccumulatorSpec, ...]


@dataclass(frozen=True)
class Plan:
    phases: tuple[Phase, ...]
    output_statistics: bool = True

    @property
    def passes(self) -> int:
        """The fewest passes over the data: one per phase plus the output statistics.

        Numeric columns with many distinct values add refinement passes (see
        `max_passes`); the scheduler runs them alongside other work where it can.
        """
        return len(self.phases) + (1 if self.output_statistics else 0)

    def describe(self, graph: Graph) -> str:
        lines = [
            f"analysis plan: {len(self.phases)} phase(s), at least {self.passes} pass(es) "
            "over the data (plus refinement passes for exact quantiles of numeric columns "
            "with many distinct values)"
        ]
        for phase in self.phases:
            names = [describe_node(graph.nodes, graph.nodes[a], 2) for a in phase.analyzers]
            lines.append(
                f"  phase {phase.index + 1} (1 fused pass, {len(phase.accumulators)} "
                f"accumulators): " + ("; ".join(names) or "input statistics only")
            )
        if self.output_statistics:
            lines.append("  then: statistics of the transformed outputs")
        return "\n".join(lines)


def max_passes(plan: Plan) -> int:
    """The most passes an analysis of ``plan`` can take: each level of analyzers, and
    the output statistics after them, needs one pass plus its refinement passes."""
    return (len(plan.phases) + 1) * (1 + max_refinement_passes())


def analyzer_accumulator(graph: Graph, node: Node) -> AccumulatorSpec:
    """The accumulator that computes analyzer ``node`` (its spec picks the kind per dtype)."""
    src = graph.nodes[node.inputs[0]]
    return AccumulatorSpec(get_op(node.op).accumulator_for(src.type.dtype), src.id, src.type.dtype)


def statistics_kind(dtype: DType, categorical: bool = False) -> str:
    """The accumulator that describes a feature: counts for categories, else a distribution."""
    if categorical or not dtype.is_numeric or dtype is DType.BOOL:
        return "counts"
    return "distribution"


def feature_statistic_specs(nid: int, dtype: DType, categorical: bool = False):
    """Accumulators that describe one feature: its values, and moments if numeric."""
    specs = [AccumulatorSpec(statistics_kind(dtype, categorical), nid, dtype)]
    if dtype.is_numeric:
        specs.append(AccumulatorSpec("moments", nid, dtype))
    return specs


def input_statistic_specs(graph: Graph) -> list[AccumulatorSpec]:
    """Accumulators that describe every raw input (the skew baseline)."""
    return [
        spec
        for nid in graph.inputs.values()
        for spec in feature_statistic_specs(nid, graph.nodes[nid].type.dtype)
    ]


def make_plan(graph: Graph, statistics: bool = True) -> Plan:
    """Group the graph's analyzers into phases (phase = analyzer nesting depth)."""
    depth: dict[int, int] = {}  # node id -> number of analyzer levels feeding it
    analyzers_by_phase: dict[int, list[int]] = {}
    for node in graph.nodes:
        d = max((depth[i] for i in node.inputs), default=0)
        if get_op(node.op).analyzer:
            analyzers_by_phase.setdefault(d, []).append(node.id)
            d += 1
        depth[node.id] = d
    count = max(analyzers_by_phase, default=-1) + 1
    phases = []
    for index in range(max(count, 1)):
        ids = analyzers_by_phase.get(index, [])
        specs: dict[tuple[str, int], AccumulatorSpec] = {}
        for aid in ids:
            spec = analyzer_accumulator(graph, graph.nodes[aid])
            specs.setdefault((spec.kind, spec.node), spec)
        if index == 0 and statistics:
            for spec in input_statistic_specs(graph):
                specs.setdefault((spec.kind, spec.node), spec)
        phases.append(Phase(index, tuple(ids), tuple(specs.values())))
    return Plan(tuple(phases), statistics)
