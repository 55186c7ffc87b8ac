"""Lowering tables: op name -> one backend's function, and the walker that applies them.

Every backend is a `LoweringTable` with the same row contract
``fn(ctx, node, *inputs) -> value``: numpy (`tskew.interpreter`, rows taken
from the op specs), TensorFlow and ONNX (`tskew.exporters`). A table also
declares the ops its backend cannot express, with the reason; a graph using one
fails with `UnsupportedOpError` before anything is emitted.

Example:
    >>> table = LoweringTable("demo", unsupported={"lower": "no case mapping"})
    >>> @table.register("add", "sub")
    ... def arith(ctx, node, a, b):
    ...     return a
    >>> sorted(table.ops()), table.status("lower"), table.status("mul")
    (['add', 'sub'], 'unsupported: no case mapping', 'missing')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from tskew.errors import GraphError, UnsupportedOpError
from tskew.ir.graph import Graph
from tskew.ir.nodes import Node
from tskew.ops.structural import const_value

LoweringFn = Callable[..., Any]


class LoweringTable:
    """op name -> lowering function of one backend; a missing row is an `UnsupportedOpError`.

    ``unsupported`` maps what the backend cannot express to the reason: an op name
    (every use of the op), or a `signature` such as ``cast(string)->float32`` (the op
    is lowered for its other dtypes).
    """

    def __init__(self, backend: str, unsupported: Mapping[str, str] | None = None):
        self.backend = backend
        self.unsupported = dict(unsupported or {})
        self._fns: dict[str, LoweringFn] = {}

    def register(self, *names: str) -> Callable[[LoweringFn], LoweringFn]:
        """Decorator: ``fn(ctx, node, *inputs)`` lowers the ops ``names``."""

        def deco(fn: LoweringFn) -> LoweringFn:
            for name in names:
                if name in self._fns or name in self.unsupported:
                    raise GraphError(f"{self.backend}: op {name!r} lowered twice")
                self._fns[name] = fn
            return fn

        return deco

    def include(self, other: LoweringTable) -> None:
        """Take every row of ``other`` (a backend's rows split over several modules)."""
        for name, fn in other._fns.items():
            self.register(name)(fn)

    def __getitem__(self, op: str) -> LoweringFn:
        return self._fns[op]

    def ops(self) -> set[str]:
        return set(self._fns)

    def status(self, op: str, sig: str | None = None) -> str:
        """``lowered``, ``unsupported: <reason>`` or ``missing`` (a bug: add a row).

        ``sig`` (a `signature`) asks about one dtype combination of the op.
        """
        for key in (op, sig):
            if key in self.unsupported:
                return f"unsupported: {self.unsupported[key]}"
        return "lowered" if op in self._fns else "missing"

    @contextmanager
    def scoped(self, name: str, fn: LoweringFn) -> Iterator[None]:
        """A row that exists for the duration of a ``with`` block (docs and tests)."""
        self.register(name)(fn)
        try:
            yield
        finally:
            del self._fns[name]

    def declared_unsupported(self, graph: Graph, targets: Iterable[int] | None = None):
        """``signature -> reason`` for the nodes (above ``targets``) this backend declares
        it cannot express; a graph free of them lowers unless a row is missing."""
        ids = graph.ancestors(targets) if targets is not None else range(len(graph.nodes))
        out: dict[str, str] = {}
        for nid in sorted(ids):
            node = graph.nodes[nid]
            status = self.status(node.op, signature(graph, node))
            if status.startswith("unsupported: "):
                out[signature(graph, node)] = status.removeprefix("unsupported: ")
        return out

    def check(self, graph: Graph) -> None:
        """Fail before emitting anything when the graph has an op this backend lacks."""
        for node in graph.nodes:
            if node.op == "input":
                continue
            status = self.status(node.op, signature(graph, node))
            if status != "lowered":
                detail = status.removeprefix("unsupported: ") if status != "missing" else ""
                raise UnsupportedOpError(node.op, self.backend, detail)


def signature(graph: Graph, node: Node) -> str:
    """The op with its input and output dtypes, e.g. ``cast(string)->float32``.

    Example:
        >>> import tskew as ts
        >>> schema = ts.Schema({"s": ts.string(False)})
        >>> g = ts.trace(lambda i: {"y": ts.fill_missing(ts.cast(i["s"], "float32"), 0.0)}, schema)
        >>> signature(g, g.nodes[1])
        'cast(string)->float32'
    """
    ins = ",".join(graph.nodes[i].type.dtype.value for i in node.inputs)
    return f"{node.op}({ins})->{node.type.dtype.value}"


class GraphLowering:
    """Walks a frozen graph, calling one backend's lowering per node (subclassed per backend).

    Subclasses set ``table`` (their `LoweringTable`); lowerings read constants with
    `const_of` and input dtypes with `dtype_of`.
    """

    table: LoweringTable

    def __init__(self, graph: Graph):
        self.graph = graph
        self.table.check(graph)

    def const_of(self, node_id: int) -> np.ndarray:
        """The value of a frozen constant node (analyzer results are constants by now)."""
        node = self.graph.nodes[node_id]
        if node.op != "const":
            raise GraphError(f"node %{node_id} ({node.op}) must be a frozen constant")
        return const_value(node)

    def dtype_of(self, node_id: int) -> Any:
        return self.graph.nodes[node_id].type.dtype

    def lower_node(self, node: Node, *inputs: Any) -> Any:
        """One node's value from its inputs' values."""
        return self.table[node.op](self, node, *inputs)

    def lower(self, inputs: Mapping[str, Any], targets: Mapping[str, int]) -> dict[str, Any]:
        """Lower every ancestor of ``targets`` in order; returns the targets' values."""
        env: dict[int, Any] = {}
        for nid in sorted(self.graph.ancestors(targets.values())):
            node = self.graph.nodes[nid]
            if node.op == "input":
                env[nid] = inputs[node.name]
            else:
                env[nid] = self.lower_node(node, *(env[i] for i in node.inputs))
        return {name: env[nid] for name, nid in targets.items()}
