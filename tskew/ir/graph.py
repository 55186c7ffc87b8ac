"""The IR graph: an ordered tuple of nodes plus named inputs and outputs.

Nodes are topologically ordered (every input id is smaller than the node's id),
which `verify` checks together with every node's type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tskew.errors import GraphError
from tskew.ir.nodes import Node
from tskew.ir.types import Shape


@dataclass(frozen=True, eq=False)
class Graph:
    """An immutable, verified dataflow graph.

    Attributes:
        nodes: all nodes, ``nodes[i].id == i``.
        inputs: raw feature name -> id of its ``input`` node, in schema order.
        outputs: output name -> node id, in the order ``preprocessing_fn`` returned them.
    """

    nodes: tuple[Node, ...]
    inputs: Mapping[str, int]
    outputs: Mapping[str, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", MappingProxyType(dict(self.inputs)))
        object.__setattr__(self, "outputs", MappingProxyType(dict(self.outputs)))

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Graph)
            and self.nodes == other.nodes
            and list(self.inputs.items()) == list(other.inputs.items())
            and list(self.outputs.items()) == list(other.outputs.items())
        )

    def __hash__(self) -> int:
        return hash((self.nodes, tuple(self.outputs.items())))

    def __reduce__(self):
        # mappingproxy does not pickle; Beam ships graphs to workers
        return (Graph, (self.nodes, dict(self.inputs), dict(self.outputs)))

    def __str__(self) -> str:
        from tskew.ir.printer import format_graph

        return format_graph(self)

    def node(self, node_id: int) -> Node:
        return self.nodes[node_id]

    def ancestors(self, roots: Iterable[int]) -> set[int]:
        """Ids of ``roots`` and everything they depend on."""
        seen: set[int] = set()
        stack = list(roots)
        while stack:
            nid = stack.pop()
            if nid not in seen:
                seen.add(nid)
                stack.extend(self.nodes[nid].inputs)
        return seen

    def verify(self) -> Graph:
        """Check structure and re-derive every node's type; return self.

        Raises:
            GraphError: naming the first node that is inconsistent.
        """
        from tskew.catalog import get_op

        for pos, node in enumerate(self.nodes):
            where = f"node %{pos} ({node.op})"
            if node.id != pos:
                raise GraphError(f"{where}: id {node.id} does not match its position")
            if any(not 0 <= i < pos for i in node.inputs):
                raise GraphError(f"{where}: inputs {node.inputs} are not earlier nodes")
            op = get_op(node.op)
            expected = op.infer([self.nodes[i].type for i in node.inputs], node.attr_dict)
            if expected != node.type:
                raise GraphError(f"{where}: stored type {node.type!r}, op infers {expected!r}")
        for name, nid in self.inputs.items():
            if not (0 <= nid < len(self.nodes)) or self.nodes[nid].op != "input":
                raise GraphError(f"input {name!r} does not point at an input node")
        for name, nid in self.outputs.items():
            if not 0 <= nid < len(self.nodes):
                raise GraphError(f"output {name!r} points at missing node %{nid}")
            t = self.nodes[nid].type
            if t.shape is not Shape.ROW or t.nullable:
                raise GraphError(f"output {name!r} must be a non-null row value, got {t!r}")
        return self

    def prune(self) -> Graph:
        """Drop nodes no output depends on (inputs are kept) and renumber."""
        keep = self.ancestors(self.outputs.values()) | set(self.inputs.values())
        return self.renumbered([n for n in self.nodes if n.id in keep])

    def renumbered(self, nodes: list[Node]) -> Graph:
        """Rebuild from a topologically ordered subset of nodes with fresh ids."""
        remap: dict[int, int] = {}
        out: list[Node] = []
        for node in nodes:
            remap[node.id] = len(out)
            out.append(
                Node(
                    len(out),
                    node.op,
                    tuple(remap[i] for i in node.inputs),
                    node.attrs,
                    node.type,
                    node.name,
                )
            )
        return Graph(
            tuple(out),
            {k: remap[v] for k, v in self.inputs.items() if v in remap},
            {k: remap[v] for k, v in self.outputs.items()},
        )
