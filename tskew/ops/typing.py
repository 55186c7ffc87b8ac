"""Shared type rules: dtype promotion, shape broadcasting, argument checks.

Example:
    >>> from tskew.schema import DType
    >>> promote(DType.INT64, DType.FLOAT32)
    <DType.FLOAT64: 'float64'>
"""

from __future__ import annotations

from collections.abc import Iterable

from tskew.errors import TraceError
from tskew.ir.types import Shape, ValueType
from tskew.schema import DType

_NUMERIC_RANK = {DType.INT64: 0, DType.FLOAT32: 1, DType.FLOAT64: 2}


def promote(a: DType, b: DType) -> DType:
    """Common dtype of two numeric dtypes (numpy's rule: int64 with float32 -> float64)."""
    if a == b:
        return a
    if {a, b} == {DType.INT64, DType.FLOAT32}:
        return DType.FLOAT64
    return a if _NUMERIC_RANK[a] >= _NUMERIC_RANK[b] else b


def float_of(d: DType) -> DType:
    """The float dtype an op computes in: floats keep theirs, int64 -> float64."""
    return d if d.is_float else DType.FLOAT64


def broadcast_shape(types: Iterable[ValueType], op: str) -> Shape:
    shapes = {t.shape for t in types}
    if Shape.ROW in shapes and Shape.VECTOR in shapes:
        raise TraceError(f"{op}: cannot combine a per-row value with a vector of dataset values")
    if Shape.ROW in shapes:
        return Shape.ROW
    return Shape.VECTOR if Shape.VECTOR in shapes else Shape.SCALAR


def any_nullable(types: Iterable[ValueType]) -> bool:
    return any(t.nullable for t in types)


def require(t: ValueType, ok: Iterable[DType], op: str, what: str = "input") -> None:
    ok = tuple(ok)
    if t.dtype not in ok:
        names = ", ".join(d.value for d in ok)
        hint = ""
        if t.dtype is DType.STRING and DType.FLOAT64 in ok:
            hint = (
                '; convert with ts.cast(x, "float64") or encode with '
                "ts.compute_and_apply_vocabulary"
            )
        elif t.dtype in (DType.BOOL,) and DType.FLOAT64 in ok:
            hint = '; convert with ts.cast(x, "int64")'
        elif DType.STRING in ok and t.dtype is not DType.STRING:
            hint = '; convert with ts.cast(x, "string")'
        raise TraceError(f"{op}: {what} must be {names}, got {t.dtype}{hint}")


def require_scalar_row(t: ValueType, op: str, what: str = "input") -> None:
    if t.width is not None:
        raise TraceError(f"{op}: {what} must hold one value per row, got a vector of {t.width}")


NUMERIC = (DType.INT64, DType.FLOAT32, DType.FLOAT64)
FLOATS = (DType.FLOAT32, DType.FLOAT64)
