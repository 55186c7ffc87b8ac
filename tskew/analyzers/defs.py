"""Analyzer ops: full-pass statistics usable inside expressions.

Each analyzer node reads one per-row value and yields a dataset value (a
scalar or a vector) once the analyze phase has seen all rows. Which
accumulator computes it is decided in `tskew.analyzers.accumulators`.

Example:
    >>> from tskew.ir.types import ValueType
    >>> from tskew.schema import DType
    >>> get_op("quantiles").infer([ValueType(DType.FLOAT32, True)], {"num_buckets": 4})
    float32[vector]
"""

from __future__ import annotations

from typing import Any

from tskew.errors import TraceError
from tskew.ir.types import Shape, ValueType
from tskew.ops.registry import get_op, register_analyzer
from tskew.ops.typing import NUMERIC, require, require_scalar_row
from tskew.schema import DType

VOCAB_DTYPES = (DType.STRING, DType.INT64)


def _row_input(ts: list[ValueType], op: str, ok: tuple[DType, ...]) -> ValueType:
    (x,) = ts
    if x.shape is not Shape.ROW:
        raise TraceError(f"{op}: analyzers need a per-row value, got a dataset value {x!r}")
    require(x, ok, op)
    require_scalar_row(x, op)
    return x


def _scalar(dtype: DType | None, op: str, ok=NUMERIC):
    def infer(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
        x = _row_input(ts, op, ok)
        return ValueType(dtype or x.dtype, False, Shape.SCALAR)

    return infer


def _sum_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    x = _row_input(ts, "sum", NUMERIC)
    return ValueType(DType.INT64 if x.dtype is DType.INT64 else DType.FLOAT64, False, Shape.SCALAR)


def _quantiles_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    x = _row_input(ts, "quantiles", NUMERIC)
    nb = attrs.get("num_buckets")
    if not isinstance(nb, int) or nb < 2:
        raise TraceError(f"quantiles: num_buckets must be an int >= 2, got {nb!r}")
    return ValueType(x.dtype, False, Shape.VECTOR)


def _quantile_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    x = _row_input(ts, "quantile", NUMERIC)
    q = attrs.get("q")
    if not isinstance(q, int | float) or not 0.0 <= q <= 1.0:
        raise TraceError(f"quantile: q must be a number in [0, 1], got {q!r}")
    return ValueType(x.dtype, False, Shape.SCALAR)


def _vocabulary_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    x = _row_input(ts, "vocabulary", VOCAB_DTYPES)
    top_k, thr = attrs.get("top_k"), attrs.get("frequency_threshold")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 0):
        raise TraceError(f"vocabulary: top_k must be None or an int >= 0, got {top_k!r}")
    if thr is not None and (not isinstance(thr, int | float) or thr < 0):
        raise TraceError(f"vocabulary: frequency_threshold must be None or >= 0, got {thr!r}")
    return ValueType(x.dtype, False, Shape.VECTOR)


_ANALYZERS = [
    ("mean", _scalar(DType.FLOAT64, "mean"), "mean of non-missing values (exact, float64)"),
    ("var", _scalar(DType.FLOAT64, "var"), "population variance, ddof=0 (exact, float64)"),
    ("min", _scalar(None, "min"), "smallest non-missing value"),
    ("max", _scalar(None, "max"), "largest non-missing value"),
    ("sum", _sum_type, "exact sum of non-missing values"),
    (
        "size",
        _scalar(DType.INT64, "size", (*NUMERIC, DType.STRING, DType.BOOL)),
        "number of non-missing values",
    ),
    (
        "quantiles",
        _quantiles_type,
        "num_buckets-1 exact boundaries: value at sorted position (k*n)//num_buckets",
    ),
    ("quantile", _quantile_type, "exact q-quantile: value at sorted position floor(q*n)"),
    (
        "vocabulary",
        _vocabulary_type,
        "values by decreasing count, ties by decreasing value; top_k / frequency_threshold",
    ),
    (
        "most_frequent",
        _scalar(None, "most_frequent", NUMERIC + VOCAB_DTYPES),
        "the most frequent value, ties to the largest",
    ),
]

for _name, _infer, _doc in _ANALYZERS:
    register_analyzer(_name, _infer, _doc)

ANALYZER_OPS = frozenset(name for name, _, _ in _ANALYZERS)

__all__ = ["ANALYZER_OPS", "get_op"]
