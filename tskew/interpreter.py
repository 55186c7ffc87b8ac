"""The numpy/Arrow interpreter: runs a graph with the reference semantics of every op.

Its lowering table `NUMPY` holds each op spec's numpy rule (`tskew.ops`), with
the same ``(ctx, node, *inputs)`` contract as the TensorFlow and ONNX tables.
`Executor` evaluates a graph on one Arrow RecordBatch at a time, vectorised (no
Python loop per row), freeing intermediate values after their last use.

Example:
    >>> import pyarrow as pa
    >>> import tskew as ts
    >>> from tskew.tracing import trace
    >>> g = trace(lambda i: {"y": i["x"] + 1}, ts.Schema({"x": ts.int64(False)}))
    >>> out = Executor(g).run(pa.record_batch({"x": [1, 2]}), g.outputs.values())
    >>> out[g.outputs["y"]].values.tolist()
    [2, 3]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tskew.catalog import all_ops, get_op
from tskew.errors import DataError, GraphError
from tskew.ir.graph import Graph
from tskew.ir.nodes import Node, make_attrs
from tskew.ir.types import Shape, ValueType
from tskew.lowering import GraphLowering, LoweringTable
from tskew.ops.structural import const_value
from tskew.ops.values import Col, Value, arrow_to_numpy
from tskew.schema import DType

BACKEND = "numpy"


def numpy_table() -> LoweringTable:
    """The numpy rows: each op spec's numpy rule; analyzers are computed by accumulators."""
    specs = all_ops().values()
    table = LoweringTable(
        BACKEND,
        unsupported={
            s.name: "an analyzer: its accumulator computes it during analysis, then it is frozen"
            for s in specs
            if s.analyzer
        },
    )
    for spec in specs:
        if spec.numpy is not None:
            table.register(spec.name)(spec.numpy)
    return table


NUMPY = numpy_table()


def column_from_arrow(arr: pa.Array | pa.ChunkedArray, dtype: DType) -> Col:
    """Arrow column -> executor `Col` (values + null mask)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    mask = None
    if arr.null_count:
        mask = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if dtype is DType.STRING:
        if pa.types.is_large_string(arr.type) or pa.types.is_dictionary(arr.type):
            arr = arr.cast(pa.string())
        return Col(arr, mask)
    values = arrow_to_numpy(arr)
    if values.dtype != dtype.numpy:
        values = values.astype(dtype.numpy)
    return Col(values, mask)


def column_to_arrow(col: Col, vtype: ValueType) -> pa.Array:
    """Executor `Col` -> Arrow array (dense outputs; one_hot as fixed-size lists)."""
    mask = None if col.mask is None else pa.array(col.mask)
    if vtype.dtype is DType.STRING:
        arr = col.values if isinstance(col.values, pa.Array) else pa.array(col.values, pa.string())
        return arr if mask is None else pc.if_else(mask, pa.scalar(None, pa.string()), arr)
    values = np.asarray(col.values)
    if vtype.width:
        flat = pa.array(values.reshape(-1), type=vtype.dtype.arrow)
        return pa.FixedSizeListArray.from_arrays(flat, vtype.width)
    return pa.array(values, type=vtype.dtype.arrow, mask=None if col.mask is None else col.mask)


class Executor(GraphLowering):
    """Evaluates the row part of a graph; dataset nodes must already be constants.

    The graph may still hold analyzers (analysis evaluates their inputs); reaching
    one that is not frozen is an error.
    """

    table = NUMPY

    def __init__(self, graph: Graph):
        self.graph = graph
        self._consts = {n.id: const_value(n) for n in graph.nodes if n.op == "const"}

    def run(
        self, batch: pa.RecordBatch, targets: Iterable[int], extra: dict[int, Value] | None = None
    ) -> dict[int, Value]:
        """Evaluate ``targets`` on ``batch``; ``extra`` pre-binds node values."""
        targets = list(targets)
        needed = sorted(self.graph.ancestors(targets))
        last_use = _last_uses(self.graph, needed, targets)
        env: dict[int, Value] = dict(extra or {})
        # Constants first: freezing may append constants after their consumers.
        env.update({nid: self._consts[nid] for nid in needed if nid in self._consts})
        for nid in needed:
            if nid in env:
                continue
            node = self.graph.nodes[nid]
            if node.op == "input":
                env[nid] = self._bind_input(batch, node.name, node.type)
            else:
                if node.op in self.table.unsupported:
                    raise GraphError(f"analyzer node %{nid} ({node.op}) was not frozen")
                env[nid] = self.lower_node(node, *(env[i] for i in node.inputs))
                for i in node.inputs:
                    if last_use.get(i) == nid:
                        env.pop(i, None)
        return {t: env[t] for t in targets}

    @staticmethod
    def _bind_input(batch: pa.RecordBatch, name: str, vtype: ValueType) -> Col:
        idx = batch.schema.get_field_index(name)
        if idx < 0:
            raise DataError(
                f"feature {name!r} is missing from the data; the transform needs it "
                f"(columns present: {', '.join(batch.schema.names)})"
            )
        col = column_from_arrow(batch.column(idx), vtype.dtype)
        if col.mask is not None and not vtype.nullable:
            row = int(np.argmax(col.mask))
            raise DataError(
                f"feature {name!r} is null in row {row} but the schema declares it "
                "non-nullable; declare it nullable and handle missing values with "
                "ts.fill_missing / ts.impute, or fix the data"
            )
        return col


def _last_uses(graph: Graph, needed: list[int], targets: list[int]) -> dict[int, int]:
    keep = set(targets)
    last: dict[int, int] = {}
    for nid in needed:
        for i in graph.nodes[nid].inputs:
            if i not in keep:
                last[i] = nid
    return last


class _Nodes:
    """The context of a dataset rule outside a graph: the types of the nodes so far."""

    def __init__(self, nodes: Sequence[Node]):
        self.nodes = nodes

    def dtype_of(self, node_id: int) -> DType:
        return self.nodes[node_id].type.dtype


def evaluate_dataset(nodes: Sequence[Node], node: Node, inputs: list[np.ndarray]) -> np.ndarray:
    """Evaluate ``node`` on dataset values only (constant folding at freeze time)."""
    out = NUMPY[node.op](_Nodes(nodes), node, *inputs)
    if isinstance(out, Col):
        raise GraphError(f"op {node.op} produced a row value from dataset inputs")
    return np.asarray(out)


def apply_op(op: str, *values: Value, **attrs: Any) -> Value:
    """Apply one op's numpy rule to concrete values (examples, tests, debugging).

    The input types are read off the values: a `Col` is a row value, a 0-d array
    a scalar and a 1-d array a vector.

    Example:
        >>> apply_op("add", Col(np.array([1, 2])), np.array(0.5)).values.tolist()
        [1.5, 2.5]
    """
    inputs = [Node(i, "const", (), (), _type_of(v)) for i, v in enumerate(values)]
    attr_t = make_attrs(**attrs)
    spec = get_op(op)
    vtype = spec.infer([n.type for n in inputs], dict(attr_t))
    node = Node(len(inputs), op, tuple(range(len(inputs))), attr_t, vtype)
    return NUMPY[op](_Nodes([*inputs, node]), node, *values)


def _type_of(value: Value) -> ValueType:
    raw = value.values if isinstance(value, Col) else np.asarray(value)
    if isinstance(raw, pa.Array | pa.ChunkedArray) or raw.dtype == object:
        dtype = DType.STRING
    else:
        dtype = DType(str(raw.dtype))
    if isinstance(value, Col):
        width = raw.shape[1] if not isinstance(raw, pa.Array) and raw.ndim == 2 else None
        return ValueType(dtype, value.mask is not None, Shape.ROW, width)
    return ValueType(dtype, False, Shape.VECTOR if raw.ndim == 1 else Shape.SCALAR)
