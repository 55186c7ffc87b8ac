"""The numpy/Arrow executor: the reference semantics of every op.

It evaluates a graph on one Arrow RecordBatch at a time, vectorised (no
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

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tskew.errors import DataError, GraphError
from tskew.ir.graph import Graph
from tskew.ir.types import ValueType
from tskew.ops.registry import get_op
from tskew.ops.values import Col, Value, arrow_to_numpy
from tskew.schema import DType


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


class Executor:
    """Evaluates the row part of a graph; dataset nodes must already be constants."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self._consts: dict[int, np.ndarray] = {}
        for node in graph.nodes:
            if node.op == "const":
                self._consts[node.id] = get_op("const").numpy(node.attr_dict)

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
                op = get_op(node.op)
                if op.analyzer:
                    raise GraphError(f"analyzer node %{nid} ({node.op}) was not frozen")
                env[nid] = op.numpy(node.attr_dict, *(env[i] for i in node.inputs))
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


def evaluate_dataset(op_name: str, attrs: dict[str, Any], inputs: list[np.ndarray]) -> np.ndarray:
    """Evaluate one op on dataset values only (constant folding at freeze time)."""
    out = get_op(op_name).numpy(attrs, *inputs)
    if isinstance(out, Col):
        raise GraphError(f"op {op_name} produced a row value from dataset inputs")
    return np.asarray(out)
