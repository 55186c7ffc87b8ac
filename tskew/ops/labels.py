"""Label ops for post-processing model outputs: top-k class ids and id -> label.

Example:
    >>> import numpy as np
    >>> from tskew.interpreter import apply_op
    >>> from tskew.ops.values import Col
    >>> scores = Col(np.array([[0.1, 0.7, 0.2], [0.5, 0.5, np.nan]]))
    >>> apply_op("top_k", scores, k=2).values.tolist()
    [[1, 2], [0, 1]]
    >>> labels = np.array(["a", "b"], object)
    >>> apply_op("map_labels", Col(np.array([1, 5])), labels, default="?").values
    array(['b', '?'], dtype=object)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tskew.errors import TraceError
from tskew.ir.nodes import Node
from tskew.ir.types import Shape, ValueType
from tskew.ops.registry import Attr, OpList
from tskew.ops.typing import FLOATS, require
from tskew.ops.values import Col, data
from tskew.schema import DType

SPECS = OpList()


def _top_k_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    (x,) = ts
    require(x, FLOATS, "top_k", "scores")
    k = attrs.get("k")
    if x.shape is not Shape.ROW or not x.width:
        raise TraceError("top_k: scores must be a vector per row (e.g. class probabilities)")
    if not isinstance(k, int) or not 1 <= k <= x.width:
        raise TraceError(f"top_k: k must be an int in [1, {x.width}], got {k!r}")
    return ValueType(DType.INT64, x.nullable, Shape.ROW, k if k > 1 else None)


@SPECS.op("top_k", _top_k_type, categorical=True, attrs={"k": Attr(int)})
def top_k(ctx: Any, node: Node, x: Col) -> Col:
    """Indices of the k largest scores per row, best first; ties -> lower index first;
    NaN ranks as -inf. k == 1 gives one id per row, k > 1 a vector of k ids."""
    scores = np.asarray(x.values)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    k = node.attr("k")
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k].astype(np.int64)
    return Col(order[:, 0] if k == 1 else order, x.mask)


def _map_labels_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    ids, labels = ts
    require(ids, (DType.INT64,), "map_labels", "class ids")
    if labels.shape is not Shape.VECTOR:
        raise TraceError("map_labels: labels must be a list (one label per class id)")
    want = str if labels.dtype is DType.STRING else int
    if not isinstance(attrs.get("default"), want):
        raise TraceError(f"map_labels: default must be a {want.__name__} like the labels")
    return ids.with_(dtype=labels.dtype)


@SPECS.op("map_labels", _map_labels_type, categorical=True, attrs={"default": Attr((str, int))})
def map_labels(ctx: Any, node: Node, ids: Col, labels: np.ndarray) -> Col:
    """labels[id] for each class id; ``default`` where the id is outside [0, len(labels))."""
    v = np.asarray(data(ids))
    inside = (v >= 0) & (v < len(labels))
    padded = np.append(labels, np.array(node.attr("default"), dtype=labels.dtype))
    return Col(padded[np.where(inside, v, len(labels))], ids.mask)
