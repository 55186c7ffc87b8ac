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

from tskew.errors import GraphError, TskewError
from tskew.ir.graph import Graph
from tskew.ir.nodes import Array, Node
from tskew.ir.types import Shape, ValueType
from tskew.schema import DType

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


_INLINE_DTYPES = ("float32", "float64", "int64", "bool", "object")
MAX_TUPLE_DEPTH = 4


def _decode(value: Any, source: ArraySource, depth: int = 0) -> Any:
    """One attribute value; anything but the shapes `_encode` writes is a `GraphError`."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        raise GraphError(
            f"malformed attribute value {_short(value)}: expected null, a boolean, an integer, "
            "a string or an object with one key (float, tuple, inline or array)"
        )
    ((kind, body),) = value.items()
    if kind == "float":
        return _hex_float(body)
    if kind == "tuple" and isinstance(body, list):
        if depth >= MAX_TUPLE_DEPTH:
            raise GraphError(f"attribute tuples nested deeper than {MAX_TUPLE_DEPTH} levels")
        return tuple(_decode(v, source, depth + 1) for v in body)
    if kind == "inline" and isinstance(body, dict):
        return Array(_inline_array(body))
    if kind == "array" and isinstance(body, str):
        if source is None:
            raise GraphError("graph references an array file but no array source was given")
        return Array(source(body))
    raise GraphError(f"malformed attribute value {_short(value)}")


def _hex_float(text: Any) -> float:
    if not isinstance(text, str):
        raise GraphError(f"a float attribute must be a hex string, got {_short(text)}")
    try:
        return float.fromhex(text)
    except (ValueError, OverflowError) as err:
        raise GraphError(f"bad hex float {_short(text)} ({err})") from None


def _inline_array(spec: dict) -> np.ndarray:
    dtype, items = spec.get("dtype"), spec.get("items")
    if (
        set(spec) != {"dtype", "items"}
        or dtype not in _INLINE_DTYPES
        or not isinstance(items, list)
    ):
        raise GraphError(
            f"malformed inline array {_short(spec)}: expected {{'dtype': one of "
            f"{list(_INLINE_DTYPES)}, 'items': [...]}}"
        )
    values = [_decode_item(v) for v in items]
    kinds = {"float32": float, "float64": float, "int64": int, "bool": bool, "object": str}
    want = kinds[dtype]
    for v in values:
        if not isinstance(v, want) or (isinstance(v, bool) and want is not bool):
            raise GraphError(f"inline {dtype} array holds {_short(v)}")
    try:
        return np.array(values, dtype=dtype)
    except OverflowError as err:
        raise GraphError(f"inline {dtype} array: {err}") from None


def _decode_item(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"float"}:
        return _hex_float(value["float"])
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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


def graph_from_json(obj: Any, source: ArraySource) -> Graph:
    """Rebuild and verify a graph; raises `GraphError` on anything malformed."""
    if not isinstance(obj, dict) or not {"nodes", "inputs", "outputs"} <= set(obj):
        raise GraphError("malformed graph JSON: expected an object with nodes, inputs, outputs")
    nodes = obj["nodes"]
    if not isinstance(nodes, list):
        raise GraphError("malformed graph JSON: 'nodes' must be an array")
    graph = Graph(
        tuple(_node_from_json(pos, n, source) for pos, n in enumerate(nodes)),
        _ids(obj["inputs"], "inputs"),
        _ids(obj["outputs"], "outputs"),
    )
    try:
        return graph.verify()
    except GraphError:
        raise
    except (TskewError, KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
        raise GraphError(f"graph does not verify: {err}") from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ids(obj: Any, what: str) -> dict[str, int]:
    if not isinstance(obj, dict) or not all(_is_int(v) for v in obj.values()):
        raise GraphError(f"malformed graph JSON: {what!r} must map names to node ids")
    return obj


def _node_from_json(pos: int, n: Any, source: ArraySource) -> Node:
    where = f"malformed graph JSON: node {pos}"
    if not isinstance(n, dict) or not set(n) >= _NODE_KEYS or set(n) - _NODE_KEYS - {"name"}:
        raise GraphError(f"{where}: expected an object with keys {sorted(_NODE_KEYS)} (+ name)")
    ok = (
        _is_int(n["id"])
        and isinstance(n["op"], str)
        and isinstance(n["inputs"], list)
        and all(_is_int(i) for i in n["inputs"])
        and isinstance(n["attrs"], dict)
        and isinstance(n.get("name"), str | None)
    )
    if not ok:
        raise GraphError(
            f"{where}: id must be an integer, op a string, inputs an array of integers, "
            "attrs an object and name a string or null"
        )
    attrs = tuple(sorted((k, _decode(v, source)) for k, v in n["attrs"].items()))
    return Node(n["id"], n["op"], tuple(n["inputs"]), attrs, _type_from_json(n["type"], where),
                n.get("name"))  # fmt: skip


_NODE_KEYS = {"id", "op", "inputs", "attrs", "type"}


def _type_from_json(obj: Any, where: str) -> ValueType:
    dtypes, shapes = {d.value for d in DType}, {s.value for s in Shape}
    ok = (
        isinstance(obj, dict)
        and set(obj) == {"dtype", "nullable", "shape", "width"}
        and isinstance(obj["dtype"], str)
        and obj["dtype"] in dtypes
        and isinstance(obj["nullable"], bool)
        and isinstance(obj["shape"], str)
        and obj["shape"] in shapes
        and (obj["width"] is None or (_is_int(obj["width"]) and obj["width"] > 0))
    )
    if not ok:
        raise GraphError(
            f"{where}: type must be {{dtype: one of {sorted(dtypes)}, nullable: boolean, "
            f"shape: one of {sorted(shapes)}, width: null or a positive integer}}, "
            f"got {_short(obj)}"
        )
    return ValueType.from_json(obj)
