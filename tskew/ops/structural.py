"""Structural ops: raw feature inputs and constants.

Example:
    >>> import numpy as np
    >>> const({"value": np.array(2.5)}).item()
    2.5
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tskew.errors import TraceError
from tskew.ir.nodes import Array
from tskew.ir.types import Shape, ValueType
from tskew.ops.registry import register
from tskew.schema import DType, FeatureType


def _input_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    ftype = FeatureType.from_json({"dtype": attrs["dtype"], "nullable": attrs["nullable"]})
    # ``width``: a vector per row (model scores fed to a policy); features have none.
    return ValueType(ftype.dtype, ftype.nullable, Shape.ROW, attrs.get("width"))


@register("input", _input_type)
def input_(attrs: dict[str, Any]) -> None:
    """A raw feature; the executor binds it to the batch's column."""
    raise TraceError("input nodes are bound by the executor, not evaluated")


def _const_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    value = attrs["value"]
    arr = value.values if isinstance(value, Array) else np.asarray(value)
    dtype = DType(attrs["dtype"])
    shape = Shape.VECTOR if arr.ndim == 1 else Shape.SCALAR
    return ValueType(dtype, False, shape)


@register("const", _const_type)
def const(attrs: dict[str, Any]) -> np.ndarray:
    """A frozen value: a literal from preprocessing_fn or a frozen analyzer result."""
    value = attrs["value"]
    if isinstance(value, Array):
        return value.values
    dtype = DType(attrs["dtype"]) if "dtype" in attrs else None
    return np.asarray(value, dtype=dtype.numpy if dtype else None)
