"""Graph <-> JSON. Arrays go to separate files through a sink/source callback.

Floats are stored as hex strings so every bit (and NaN/inf) round-trips.

Example:
    >>> import tskew as ts
    >>> from tskew.tracing import trace
    >>> g = trace(lambda i: {"y": i["x"] * 0.1}, ts.Schema({"x": ts.float32(False)}))
    >>> graph_from_json(graph_to_json(g, None), None) == g
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tskew.errors import GraphError
from tskew.ir.graph import Graph
from tskew.ir.nodes import Array, Node
from tskew.ir.types import ValueType

ArraySink = Callable[[Array], str] | None
ArraySource = Callable[[str], np.ndarray] | None


def _encode(value: Any, sink: ArraySink) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return {"float": value.hex()}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, sink) for v in value]}
    if isinstance(value, Array):
        if sink is None:
            return {"inline": _inline(value.values)}
        return {"array": sink(value)}
    raise GraphError(f"cannot serialise attribute value {value!r}")


def _inline(values: np.ndarray) -> dict:
    return {"dtype": str(values.dtype), "items": [_encode(v, None) for v in values.tolist()]}


def _decode(value: Any, source: ArraySource) -> Any:
    if not isinstance(value, dict):
        if isinstance(value, list):
            raise GraphError("malformed attribute: bare JSON list")
        return value
    if "float" in value:
        return float.fromhex(value["float"])
    if "tuple" in value:
        return tuple(_decode(v, source) for v in value["tuple"])
    if "inline" in value:
        spec = value["inline"]
        return Array(np.array([_decode(v, source) for v in spec["items"]], dtype=spec["dtype"]))
    if "array" in value:
        if source is None:
            raise GraphError("graph references an array file but no array source was given")
        return Array(source(value["array"]))
    raise GraphError(f"malformed attribute value {value!r}")


def graph_to_json(graph: Graph, sink: ArraySink) -> dict:
    return {
        "nodes": [
            {
                "id": n.id,
                "op": n.op,
                "inputs": list(n.inputs),
                "attrs": {k: _encode(v, sink) for k, v in n.attrs},
                "type": n.type.to_json(),
                "name": n.name,
            }
            for n in graph.nodes
        ],
        "inputs": dict(graph.inputs),
        "outputs": dict(graph.outputs),
    }


def graph_from_json(obj: dict, source: ArraySource) -> Graph:
    """Rebuild and verify a graph; raises `GraphError` on anything malformed."""
    try:
        nodes = tuple(
            Node(
                int(n["id"]),
                str(n["op"]),
                tuple(int(i) for i in n["inputs"]),
                tuple(sorted((str(k), _decode(v, source)) for k, v in n["attrs"].items())),
                ValueType.from_json(n["type"]),
                n.get("name"),
            )
            for n in obj["nodes"]
        )
        graph = Graph(
            nodes,
            {str(k): int(v) for k, v in obj["inputs"].items()},
            {str(k): int(v) for k, v in obj["outputs"].items()},
        )
    except (KeyError, TypeError, ValueError) as err:
        raise GraphError(f"malformed graph JSON: {err!r}") from None
    return graph.verify()
