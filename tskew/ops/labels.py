"""Label ops for post-processing model outputs: top-k class ids and id -> label.

Example:
    >>> import numpy as np
    >>> from tskew.ops.values import Col
    >>> top_k({"k": 2}, Col(np.array([[0.1, 0.7, 0.2], [0.5, 0.5, np.nan]]))).values.tolist()
    [[1, 2], [0, 1]]
    >>> map_labels({"default": "?"}, Col(np.array([1, 5])), np.array(["a", "b"], object)).values
    array(['b', '?'], dtype=object)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tskew.errors import TraceError
from tskew.ir.types import Shape, ValueType
from tskew.ops.registry import register
from tskew.ops.typing import FLOATS, require
from tskew.ops.values import Col, data
from tskew.schema import DType


def _top_k_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    (x,) = ts
    require(x, FLOATS, "top_k", "scores")
    k = attrs.get("k")
    if x.shape is not Shape.ROW or not x.width:
        raise TraceError("top_k: scores must be a vector per row (e.g. class probabilities)")
    if not isinstance(k, int) or not 1 <= k <= x.width:
        raise TraceError(f"top_k: k must be an int in [1, {x.width}], got {k!r}")
    return ValueType(DType.INT64, x.nullable, Shape.ROW, k if k > 1 else None)


@register("top_k", _top_k_type)
def top_k(attrs: dict[str, Any], x: Col) -> Col:
    """Indices of the k largest scores per row, best first; ties -> lower index first;
    NaN ranks as -inf. k == 1 gives one id per row, k > 1 a vector of k ids."""
    scores = np.asarray(x.values)
    scores = np.where(np.isnan(scores), -np.inf, scores)
    order = np.argsort(-scores, axis=1, kind="stable")[:, : attrs["k"]].astype(np.int64)
    return Col(order[:, 0] if attrs["k"] == 1 else order, x.mask)


def _map_labels_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    ids, labels = ts
    require(ids, (DType.INT64,), "map_labels", "class ids")
    if labels.shape is not Shape.VECTOR:
        raise TraceError("map_labels: labels must be a list (one label per class id)")
    want = str if labels.dtype is DType.STRING else int
    if not isinstance(attrs.get("default"), want):
        raise TraceError(f"map_labels: default must be a {want.__name__} like the labels")
    return ids.with_(dtype=labels.dtype)


@register("map_labels", _map_labels_type)
def map_labels(attrs: dict[str, Any], ids: Col, labels: np.ndarray) -> Col:
    """labels[id] for each class id; ``default`` where the id is outside [0, len(labels))."""
    v = np.asarray(data(ids))
    inside = (v >= 0) & (v < len(labels))
    padded = np.append(labels, np.array(attrs["default"], dtype=labels.dtype))
    return Col(padded[np.where(inside, v, len(labels))], ids.mask)
