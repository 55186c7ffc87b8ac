"""Analyzer ops: full-pass statistics usable inside expressions.

Each analyzer node reads one per-row value and yields a dataset value (a
scalar or a vector) once the analyze phase has seen all rows. Each spec names
the accumulator kind that computes it (`tskew.analyzers.accumulators`,
`tskew.analyzers.distribution`) and its extraction (`tskew.analyzers.extract`).

Example:
    >>> from tskew.ir.types import ValueType
    >>> quantiles = {s.name: s for s in SPECS}["quantiles"]
    >>> quantiles.infer([ValueType(DType.FLOAT32, True)], {"num_buckets": 4})
    float32[vector]
    >>> quantiles.accumulator_for(DType.FLOAT32), quantiles.accumulator_for(DType.STRING)
    ('distribution', 'counts')
"""

from __future__ import annotations

from typing import Any

from tskew.analyzers import extract as ex
from tskew.errors import TraceError
from tskew.ir.types import Shape, ValueType
from tskew.ops.registry import Attr, Extractor, OpList, OpSpec, TypeRule
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


def _analyzer(
    name: str,
    infer: TypeRule,
    doc: str,
    accumulator: str,
    extract: Extractor,
    dsl: str | None = None,
    **attrs: Attr,
) -> None:
    SPECS.add(OpSpec(name, infer, None, doc, attrs, dsl, accumulator=accumulator, extract=extract))


SPECS = OpList()
_ANY = (*NUMERIC, DType.STRING, DType.BOOL)
_analyzer(
    "mean",
    _scalar(DType.FLOAT64, "mean"),
    "mean of non-missing values (exact, float64)",
    "moments",
    ex.extract_mean,
    dsl="mean",
)
_analyzer(
    "var",
    _scalar(DType.FLOAT64, "var"),
    "population variance, ddof=0 (exact, float64)",
    "moments",
    ex.extract_var,
    dsl="var",
)
_analyzer(
    "min", _scalar(None, "min"), "smallest non-missing value", "minmax", ex.extract_min, dsl="min"
)
_analyzer(
    "max", _scalar(None, "max"), "largest non-missing value", "minmax", ex.extract_max, dsl="max"
)
_analyzer("sum", _sum_type, "exact sum of non-missing values", "moments", ex.extract_sum, dsl="sum")
_analyzer(
    "size",
    _scalar(DType.INT64, "size", _ANY),
    "number of non-missing values",
    "moments",
    ex.extract_size,
    dsl="size",
)
_analyzer(
    "quantiles",
    _quantiles_type,
    "num_buckets-1 exact boundaries: value at sorted position (k*n)//num_buckets",
    "distribution",
    ex.extract_quantiles,
    dsl="quantiles",
    num_buckets=Attr(int),
)
_analyzer(
    "quantile",
    _quantile_type,
    "exact q-quantile: value at sorted position floor(q*n)",
    "distribution",
    ex.extract_quantile,
    q=Attr((int, float)),
)
_analyzer(
    "vocabulary",
    _vocabulary_type,
    "values by decreasing count, ties by decreasing value; top_k / frequency_threshold",
    "counts",
    ex.extract_vocabulary,
    dsl="vocabulary",
    top_k=Attr((int, type(None)), required=False),
    frequency_threshold=Attr((int, float, type(None)), required=False),
)
_analyzer(
    "most_frequent",
    _scalar(None, "most_frequent", NUMERIC + VOCAB_DTYPES),
    "the most frequent value, ties to the largest",
    "counts",
    ex.extract_most_frequent,
)

ANALYZER_OPS = frozenset(spec.name for spec in SPECS)
