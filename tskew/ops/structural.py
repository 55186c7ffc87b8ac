"""Structural ops: raw feature inputs and constants.

Example:
    >>> from tskew.ir.nodes import Node, make_attrs
    >>> from tskew.ir.types import ValueType
    >>> attrs = make_attrs(value=2.5, dtype="float64")
    >>> node = Node(0, "const", (), attrs, ValueType(DType.FLOAT64))
    >>> const_value(node).item()
    2.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tskew.errors import TraceError
from tskew.ir.nodes import Array, Node
from tskew.ir.types import Shape, ValueType
from tskew.ops.registry import Attr, OpList
from tskew.schema import DType, FeatureType

SPECS = OpList()


def _input_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    ftype = FeatureType.from_json({"dtype": attrs["dtype"], "nullable": attrs["nullable"]})
    # ``width``: a vector per row (model scores fed to a policy); features have none.
    return ValueType(ftype.dtype, ftype.nullable, Shape.ROW, attrs.get("width"))


@SPECS.op(
    "input",
    _input_type,
    attrs={
        "dtype": Attr(str),
        "nullable": Attr(bool),
        "width": Attr((int, type(None)), required=False),
    },
)
def input_(ctx: Any, node: Node) -> None:
    """A raw feature; the executor binds it to the batch's column."""
    raise TraceError("input nodes are bound by the executor, not evaluated")


def _const_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    value = attrs["value"]
    arr = value.values if isinstance(value, Array) else np.asarray(value)
    dtype = DType(attrs["dtype"])
    shape = Shape.VECTOR if arr.ndim == 1 else Shape.SCALAR
    return ValueType(dtype, False, shape)


@SPECS.op(
    "const",
    _const_type,
    attrs={"value": Attr((Array, bool, int, float, str, tuple)), "dtype": Attr(str)},
)
def const_rule(ctx: Any, node: Node) -> np.ndarray:
    """A frozen value: a literal from preprocessing_fn or a frozen analyzer result."""
    return const_value(node)


def const_value(node: Node) -> np.ndarray:
    """The value a ``const`` node holds, as a numpy array of its dtype."""
    return const(node.attr_dict)


def const(attrs: dict[str, Any]) -> np.ndarray:
    """The value held by a ``const`` node's attributes."""
    value = attrs["value"]
    if isinstance(value, Array):
        return value.values
    dtype = attrs.get("dtype")
    return np.asarray(value, dtype=DType(dtype).numpy if dtype else None)
