"""Freezing: substitute analyzer results into the graph and simplify it.

After every analysis phase the analyzers that ran become ``const`` nodes;
then constant folding evaluates every node whose inputs are all constants
(for example ``1 / sqrt(var)``), a ``where`` with a constant condition keeps
one branch, and a division by a constant becomes a multiplication by its
reciprocal computed here once, so each backend performs the same single IEEE
multiply (TF's graph optimizer rewrites divisions by constants; see
ARCHITECTURE.md, "Bit parity").

Example:
    >>> import numpy as np, tskew as ts
    >>> from tskew.tracing import trace
    >>> g = trace(lambda i: {"y": i["x"] / ts.max(i["x"])}, ts.Schema({"x": ts.float64(False)}))
    >>> frozen = finalize(freeze(g, {1: np.array(4.0)}))
    >>> [n.op for n in frozen.nodes]
    ['input', 'const', 'mul']
    >>> frozen.nodes[1].attr("value")
    0.25
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tskew.catalog import get_op
from tskew.interpreter import evaluate_dataset
from tskew.ir.graph import Graph
from tskew.ir.nodes import Node, make_attrs
from tskew.ir.types import Shape
from tskew.ops.structural import const as const_value
from tskew.schema import DType


def const_node(node_id: int, value: np.ndarray, dtype: DType, name: str | None = None) -> Node:
    """A ``const`` node holding ``value`` (0-d -> scalar, 1-d -> vector)."""
    value = np.asarray(value, dtype=object if dtype is DType.STRING else dtype.numpy)
    stored: Any = value if value.ndim == 1 else value.item()
    attrs = make_attrs(value=stored, dtype=dtype.value)
    vtype = get_op("const").infer([], dict(attrs))
    return Node(node_id, "const", (), attrs, vtype, name)


def freeze(graph: Graph, values: dict[int, np.ndarray]) -> Graph:
    """Replace the given analyzer nodes by constants and fold what becomes constant."""
    nodes = list(graph.nodes)
    for nid, value in values.items():
        node = nodes[nid]
        nodes[nid] = const_node(nid, value, node.type.dtype, name=f"{node.op}")
    return _fold(Graph(tuple(nodes), graph.inputs, graph.outputs))


def _fold(graph: Graph) -> Graph:
    nodes = list(graph.nodes)
    redirect: dict[int, int] = {}  # folded `where` -> the branch it always takes
    for pos, node in enumerate(graph.nodes):
        if redirect and any(i in redirect for i in node.inputs):
            node = Node(
                node.id,
                node.op,
                tuple(redirect.get(i, i) for i in node.inputs),
                node.attrs,
                node.type,
                node.name,
            )
            nodes[pos] = node
        if node.op in ("input", "const") or get_op(node.op).analyzer:
            continue
        ins = [nodes[i] for i in node.inputs]
        if all(i.op == "const" for i in ins):
            value = evaluate_dataset(nodes, node, [const_value(i.attr_dict) for i in ins])
            nodes[pos] = const_node(pos, value, node.type.dtype)
        elif node.op == "where" and ins[0].op == "const" and ins[0].type.shape is Shape.SCALAR:
            chosen = ins[1] if bool(const_value(ins[0].attr_dict)) else ins[2]
            if chosen.type == node.type:
                redirect[pos] = chosen.id
        elif node.op == "div" and ins[1].op == "const" and node.type.shape is Shape.ROW:
            nodes[pos] = _reciprocal_multiply(node, ins[1], nodes)
    outputs = {k: redirect.get(v, v) for k, v in graph.outputs.items()}
    return Graph(tuple(nodes), graph.inputs, outputs)


def _reciprocal_multiply(node: Node, divisor: Node, nodes: list[Node]) -> Node:
    """x / c  ->  x * (1 / c), with 1 / c computed once in the division's dtype."""
    dtype = node.type.dtype.numpy
    c = np.asarray(const_value(divisor.attr_dict)).astype(dtype)
    with np.errstate(all="ignore"):
        recip = dtype.type(1) / c
    # The reciprocal must be a new node; it is appended and referenced by id.
    recip_node = const_node(len(nodes), recip, node.type.dtype, name="reciprocal")
    nodes.append(recip_node)
    return Node(node.id, "mul", (node.inputs[0], recip_node.id), (), node.type, node.name)


def finalize(graph: Graph) -> Graph:
    """Drop unused nodes, restore topological ids and verify."""
    keep = graph.ancestors(graph.outputs.values()) | set(graph.inputs.values())
    ordered = [graph.nodes[i] for i in _topological(graph.nodes) if i in keep]
    return graph.renumbered(ordered).verify()


def _topological(nodes: tuple[Node, ...]) -> list[int]:
    order: list[int] = []
    seen: set[int] = set()

    def visit(i: int) -> None:
        stack = [(i, False)]
        while stack:
            nid, done = stack.pop()
            if done:
                order.append(nid)
                continue
            if nid in seen:
                continue
            seen.add(nid)
            stack.append((nid, True))
            stack.extend((j, False) for j in reversed(nodes[nid].inputs) if j not in seen)

    for n in nodes:
        visit(n.id)
    return order
