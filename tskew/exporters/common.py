"""What the TensorFlow and ONNX exporters share: input conventions, lazy imports, op tables.

Example:
    >>> table = LoweringTable("demo")
    >>> @table.register("add", "sub")
    ... def arith(ctx, node, a, b):
    ...     return a
    >>> sorted(table.ops())
    ['add', 'sub']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tskew.errors import GraphError, UnsupportedOpError
from tskew.ir.graph import Graph

# A nullable feature ``x`` is served as ``x`` plus a bool ``x__missing`` (True = missing).
MISSING_SUFFIX = "__missing"

LoweringFn = Callable[..., Any]


def optional_import(module: str, purpose: str, extra: str) -> Any:
    """``import module`` with an error naming the extra that installs it."""
    try:
        if module == "tensorflow":  # without its start-up lines on stderr
            from tskew.tf_logging import import_tensorflow

            return import_tensorflow()
        return importlib.import_module(module)
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"{purpose} needs the '{module}' package: pip install 'tskew[{extra}]'"
        ) from err


class LoweringTable:
    """op name -> lowering function of one backend; a missing row is an `UnsupportedOpError`."""

    def __init__(self, backend: str, unsupported: Mapping[str, str] | None = None):
        self.backend = backend
        self.unsupported = dict(unsupported or {})  # op -> why the backend cannot express it
        self._fns: dict[str, LoweringFn] = {}

    def register(self, *names: str) -> Callable[[LoweringFn], LoweringFn]:
        """Decorator: ``fn(ctx, node, *inputs)`` lowers the ops ``names``."""

        def deco(fn: LoweringFn) -> LoweringFn:
            for name in names:
                self._fns[name] = fn
            return fn

        return deco

    def __getitem__(self, op: str) -> LoweringFn:
        return self._fns[op]

    def ops(self) -> set[str]:
        return set(self._fns)

    def check(self, graph: Graph) -> None:
        """Fail before emitting anything when the graph has an op this backend lacks."""
        for node in graph.nodes:
            if node.op in self.unsupported:
                raise UnsupportedOpError(node.op, self.backend, self.unsupported[node.op])
            if node.op not in self._fns and node.op != "input":
                raise UnsupportedOpError(node.op, self.backend)


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
        from tskew.ops.structural import const

        node = self.graph.nodes[node_id]
        if node.op != "const":
            raise GraphError(f"node %{node_id} ({node.op}) must be a frozen constant")
        return const(node.attr_dict)

    def dtype_of(self, node_id: int) -> Any:
        return self.graph.nodes[node_id].type.dtype

    def lower(self, inputs: Mapping[str, Any], targets: Mapping[str, int]) -> dict[str, Any]:
        """Lower every ancestor of ``targets`` in order; returns the targets' values."""
        env: dict[int, Any] = {}
        for nid in sorted(self.graph.ancestors(targets.values())):
            node = self.graph.nodes[nid]
            if node.op == "input":
                env[nid] = inputs[node.name]
            else:
                env[nid] = self.table[node.op](self, node, *(env[i] for i in node.inputs))
        return {name: env[nid] for name, nid in targets.items()}
