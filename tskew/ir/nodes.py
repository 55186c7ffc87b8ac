"""Immutable IR nodes and constant values.

A `Node` is one operation: its op name, the ids of its input nodes, its
attributes and its result type. Attributes are hashable (numbers, strings,
tuples, `Array`), so nodes and graphs can be compared and hashed.

Example:
    >>> import numpy as np
    >>> from tskew.schema import DType
    >>> from tskew.ir.types import ValueType, Shape
    >>> c = Node(0, "const", (), (("value", Array(np.array([1.0, 2.0]))),),
    ...          ValueType(DType.FLOAT64, shape=Shape.VECTOR))
    >>> c.attr("value").values
    array([1., 2.])
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from tskew.ir.types import ValueType


class Array:
    """A read-only numpy array usable as an attribute (compared by content).

    String arrays are held as numpy object arrays of ``str``.
    """

    __slots__ = ("_digest", "values")

    def __init__(self, values: np.ndarray):
        values = np.array(values, copy=True)
        if values.dtype.kind in "USO":
            values = values.astype(object)
        values.setflags(write=False)
        self.values = values
        self._digest = _digest(values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and self._digest == other._digest

    def __hash__(self) -> int:
        return hash(self._digest)

    def __len__(self) -> int:
        return len(self.values)

    def __repr__(self) -> str:
        return format_values(self.values)

    @property
    def digest(self) -> str:
        return self._digest


def _digest(values: np.ndarray) -> str:
    h = hashlib.sha256(str(values.dtype).encode() + str(values.shape).encode())
    if values.dtype == object:
        arr = pa.array(values.ravel().tolist(), type=pa.string())
        for buf in arr.buffers():
            if buf is not None:
                h.update(memoryview(buf))
    else:
        h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def format_values(values: np.ndarray, limit: int = 8) -> str:
    """Short readable rendering of a constant, e.g. ``[1, 2, ... (100 values)]``.

    Example:
        >>> format_values(np.arange(20))
        '[0, 1, 2, 3, 4, 5, 6, 7, ... (20 values)]'
        >>> format_values(np.float32(0.5))
        '0.5'
    """
    if values.ndim == 0:
        return _fmt(values.item())
    items = [_fmt(v) for v in values[:limit].tolist()]
    more = f", ... ({len(values)} values)" if len(values) > limit else ""
    return "[" + ", ".join(items) + more + "]"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)
    return repr(v) if isinstance(v, str) else str(v)


AttrValue = Any  # None | bool | int | float | str | tuple | Array


@dataclass(frozen=True)
class Node:
    """One IR operation.

    Attributes:
        id: position of the node in its graph (inputs always have smaller ids).
        op: op name, a key of the op catalog (``tskew.catalog``).
        inputs: ids of the input nodes.
        attrs: sorted (name, value) pairs.
        type: the result type.
        name: optional label (the raw feature name for ``input`` nodes).
    """

    id: int
    op: str
    inputs: tuple[int, ...]
    attrs: tuple[tuple[str, AttrValue], ...]
    type: ValueType
    name: str | None = field(default=None)

    def attr(self, key: str, default: Any = None) -> Any:
        for k, v in self.attrs:
            if k == key:
                return v
        return default

    @property
    def attr_dict(self) -> dict[str, AttrValue]:
        return dict(self.attrs)


def make_attrs(**attrs: AttrValue) -> tuple[tuple[str, AttrValue], ...]:
    """Normalise keyword attributes into the sorted tuple a `Node` stores.

    Lists become tuples and numpy arrays become `Array`, so attributes hash.

    Example:
        >>> make_attrs(b=[1, 2], a=None)
        (('a', None), ('b', (1, 2)))
    """
    out = []
    for key in sorted(attrs):
        value = attrs[key]
        if isinstance(value, np.ndarray):
            value = Array(value)
        elif isinstance(value, list):
            value = tuple(value)
        elif isinstance(value, np.generic):
            value = value.item()
        out.append((key, value))
    return tuple(out)
