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

from tskew.errors import UnsupportedOpError
from tskew.ir.graph import Graph

# A nullable feature ``x`` is served as ``x`` plus a bool ``x__missing`` (True = missing).
MISSING_SUFFIX = "__missing"

LoweringFn = Callable[..., Any]


def optional_import(module: str, purpose: str, extra: str) -> Any:
    """``import module`` with an error naming the extra that installs it."""
    try:
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
