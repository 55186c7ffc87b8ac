"""Which serving targets a traced graph can be exported to, known before any analysis.

An op a backend cannot express (ONNX has no locale-free ``lower``, no ``strip``, no safe
string -> float ``cast``) otherwise surfaces only at export, after the data was analyzed
and perhaps a SavedModel written. `check_targets` reads the exporters' own lowering
tables, so it refuses exactly what the export would.

Example:
    >>> import tskew as ts
    >>> from tskew.tracing import trace
    >>> graph = trace(lambda i: {"s": ts.strip(i["s"])}, ts.Schema({"s": ts.string(False)}))
    >>> [(p.op, p.output) for p in unsupported_ops(graph, "onnx")]
    [('strip', 's')]
    >>> unsupported_ops(graph, "numpy")
    []
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tskew.errors import ConfigError, UnsupportedOpError
from tskew.ir.graph import Graph
from tskew.ir.nodes import Node
from tskew.lowering import signature

TARGETS = ("numpy", "tensorflow", "onnx")


@dataclass(frozen=True)
class Unsupported:
    """An op of the graph that a target cannot run, the output needing it, and why."""

    target: str
    op: str
    output: str
    why: str

    def __str__(self) -> str:
        return f"{self.target}: op {self.op!r} (needed by output {self.output!r}): {self.why}"


def unsupported_ops(graph: Graph, target: str) -> list[Unsupported]:
    """Every op of ``graph`` (traced or frozen) that ``target`` cannot lower, one per op
    and output. Analyzers are skipped: they become constants when frozen."""
    if target not in TARGETS:
        raise ConfigError(f"target {target!r}: expected one of {', '.join(TARGETS)}")
    if target == "numpy":
        return []
    from tskew.catalog import all_ops

    table = _table(target)
    registry = all_ops()
    found: dict[tuple[str, str], Unsupported] = {}
    for output, out_id in graph.outputs.items():
        for nid in sorted(graph.ancestors([out_id])):
            node = graph.nodes[nid]
            if node.op in ("input", "const") or (
                node.op in registry and registry[node.op].analyzer
            ):
                continue
            why = _why(graph, node, target, table)
            if why is not None:
                found.setdefault((node.op, output), Unsupported(target, node.op, output, why))
    return list(found.values())


def check_targets(graph: Graph, targets: Iterable[str]) -> None:
    """Raise `UnsupportedOpError` listing every op that a target in ``targets`` lacks."""
    problems = [p for t in targets for p in unsupported_ops(graph, t)]
    if problems:
        first = problems[0]
        raise UnsupportedOpError(
            first.op,
            first.target,
            "the transform cannot be exported to every requested target: "
            + "; ".join(str(p) for p in problems)
            + ". Change the preprocessing_fn or drop the target",
        )


def _table(target: str):
    if target == "onnx":
        from tskew.exporters.onnx import LOWERINGS
    else:
        from tskew.exporters.tensorflow import LOWERINGS
    return LOWERINGS


def _why(graph: Graph, node: Node, target: str, table) -> str | None:
    status = table.status(node.op, signature(graph, node))
    if status == "lowered":
        return None
    return status.removeprefix("unsupported: ") if status != "missing" else f"no {target} lowering"
