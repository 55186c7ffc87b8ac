"""Canonical text form of a graph: one line per node, stable across runs.

Example:
    >>> import tskew as ts
    >>> from tskew.tracing import trace
    >>> g = trace(lambda i: {"y": i["x"] * 2.0}, ts.Schema({"x": ts.float32(False)}))
    >>> print(g)
    graph(x: float32) {
      %0 = input "x" : float32[row]
      %1 = const {value=2.0} : float32[scalar]
      %2 = mul(%0, %1) : float32[row]
      return {y: %2}
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tskew.ir.nodes import Array, Node

if TYPE_CHECKING:
    from tskew.ir.graph import Graph


def format_attr(value: object) -> str:
    if isinstance(value, Array):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(format_attr(v) for v in value) + "]"
    return repr(value)


def format_node(node: Node) -> str:
    args = ", ".join(f"%{i}" for i in node.inputs)
    if node.op == "input":
        head = f'input "{node.name}"'
    else:
        head = f"{node.op}({args})" if node.inputs else node.op
    # input and const attributes repeat the type; show only a constant's value
    shown = [(k, v) for k, v in node.attrs if node.op != "input" and k != "dtype" and v is not None]
    attrs = ", ".join(f"{k}={format_attr(v)}" for k, v in shown)
    attrs = f" {{{attrs}}}" if attrs else ""
    return f"%{node.id} = {head}{attrs} : {node.type!r}"


def format_graph(graph: Graph) -> str:
    params = ", ".join(
        f"{name}: {graph.nodes[nid].type.dtype}{'?' if graph.nodes[nid].type.nullable else ''}"
        for name, nid in graph.inputs.items()
    )
    lines = [f"graph({params}) {{"]
    lines += [f"  {format_node(n)}" for n in graph.nodes]
    outs = ", ".join(f"{name}: %{nid}" for name, nid in graph.outputs.items())
    lines.append(f"  return {{{outs}}}")
    lines.append("}")
    return "\n".join(lines)
