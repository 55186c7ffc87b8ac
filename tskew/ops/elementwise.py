"""Numeric, logical and missing-value ops, with their numpy semantics.

Every op computes in one explicit dtype (inputs are cast first), so each
backend performs the same IEEE operation and the results agree bit for bit.

Each numpy rule has the lowerings' contract ``rule(ctx, node, *inputs)``: the
dtypes come from the node (``node.type``) and its inputs (``ctx.dtype_of``).

Example:
    >>> import numpy as np
    >>> from tskew.interpreter import apply_op
    >>> from tskew.ops.values import Col
    >>> apply_op("clip", Col(np.array([3.0, -1.0, np.nan])), np.array(0.0), np.array(2.0)).values
    array([ 2.,  0., nan])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tskew.errors import TraceError
from tskew.ir.nodes import Node
from tskew.ir.types import Shape, ValueType
from tskew.ops.registry import Attr, OpList
from tskew.ops.typing import (
    FLOATS,
    NUMERIC,
    any_nullable,
    broadcast_shape,
    float_of,
    promote,
    require,
    require_scalar_row,
)
from tskew.ops.values import Col, Value, data, mask_of, result
from tskew.schema import DType

SPECS = OpList()
# Transcendental ops: how many ulp each backend's kernels may differ from numpy. TensorFlow's
# vectorised kernels were measured up to 3 ulp (float64) and 4 ulp (float32 sigmoid) on large
# batches (tests/property/test_backend_parity.py); ONNX has no Log1p (tskew/exporters/onnx.py).
_TRANSCENDENTAL_ULP = {
    "log1p": {"tensorflow": 4, "onnx": 2},
    "exp": {"tensorflow": 4, "onnx": 1},
    "sigmoid": {"tensorflow": 4, "onnx": 1},
}

# ---------------------------------------------------------------- type rules


def _arith_type(op: str):
    def infer(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
        for t in ts:
            require(t, NUMERIC, op)
            require_scalar_row(t, op)
        dtype = promote(ts[0].dtype, ts[1].dtype)
        if op == "div":
            dtype = float_of(dtype)
        return ValueType(dtype, any_nullable(ts), broadcast_shape(ts, op))

    return infer


def _compare_type(op: str):
    def infer(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
        a, b = ts
        if op in ("eq", "ne") and a.dtype == b.dtype:
            pass  # any dtype compares with itself for (in)equality
        else:
            require(a, NUMERIC, op, "left operand")
            require(b, NUMERIC, op, "right operand")
        for t in ts:
            require_scalar_row(t, op)
        return ValueType(DType.BOOL, any_nullable(ts), broadcast_shape(ts, op))

    return infer


def _logic_type(op: str):
    def infer(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
        for t in ts:
            require(t, (DType.BOOL,), op)
        return ValueType(DType.BOOL, any_nullable(ts), broadcast_shape(ts, op))

    return infer


def _unary_numeric_type(op: str, to_float: bool):
    """One numeric input; the result keeps its dtype, or its float dtype (int64 -> float64)."""

    def infer(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
        (t,) = ts
        require(t, NUMERIC, op)
        require_scalar_row(t, op)
        return t.with_(dtype=float_of(t.dtype)) if to_float else t

    return infer


def _binary_values(a: Value, b: Value, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(data(a)).astype(dtype, copy=False), np.asarray(data(b)).astype(
        dtype, copy=False
    )


def _common_dtype(ctx: Any, node: Node) -> DType:
    """The promoted dtype of a node's numeric inputs (what a comparison computes in)."""
    dtypes = [ctx.dtype_of(i) for i in node.inputs]
    out = dtypes[0]
    for d in dtypes[1:]:
        out = promote(out, d)
    return out


# --------------------------------------------------------------- arithmetic


def _arith(name: str, ufunc: np.ufunc, doc: str) -> None:
    def impl(ctx: Any, node: Node, a: Value, b: Value) -> Value:
        x, y = _binary_values(a, b, node.type.dtype.numpy)
        with np.errstate(all="ignore"):
            return result(ufunc(x, y), a, b)

    SPECS.op(name, _arith_type(name), doc=doc)(impl)


_arith("add", np.add, "a + b in the promoted dtype")
_arith("sub", np.subtract, "a - b in the promoted dtype")
_arith("mul", np.multiply, "a * b in the promoted dtype")
_arith("div", np.true_divide, "a / b in float (int64 operands -> float64); IEEE on zero")


@SPECS.op("neg", _unary_numeric_type("neg", to_float=False))
def neg(ctx: Any, node: Node, a: Value) -> Value:
    """-a (int64 wraps at the minimum, as in every backend)."""
    with np.errstate(all="ignore"):
        return result(np.negative(data(a)), a)


# -------------------------------------------------------------- comparisons


def _compare(name: str, ufunc: np.ufunc) -> None:
    def impl(ctx: Any, node: Node, a: Value, b: Value) -> Value:
        if ctx.dtype_of(node.inputs[0]) is DType.STRING:
            return _compare_strings(name, a, b)
        x, y = _binary_values(a, b, _common_dtype(ctx, node).numpy)
        return result(ufunc(x, y), a, b)

    doc = f"a {_SYMBOLS[name]} b -> bool (NaN compares unequal; strings: eq/ne only)"
    SPECS.op(name, _compare_type(name), doc=doc)(impl)


_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _compare_strings(name: str, a: Value, b: Value) -> Value:
    import pyarrow.compute as pc

    from tskew.ops.values import as_arrow_strings

    fn = {"eq": pc.equal, "ne": pc.not_equal}[name]
    out = fn(as_arrow_strings(a), as_arrow_strings(b))
    if isinstance(a, Col) or isinstance(b, Col):
        return result(np.asarray(out.fill_null(False).to_numpy(zero_copy_only=False)), a, b)
    return np.asarray(out.as_py())


for _name, _uf in [
    ("eq", np.equal),
    ("ne", np.not_equal),
    ("lt", np.less),
    ("le", np.less_equal),
    ("gt", np.greater),
    ("ge", np.greater_equal),
]:
    _compare(_name, _uf)


# ------------------------------------------------------------------ logical


@SPECS.op("and", _logic_type("and"))
def logical_and(ctx: Any, node: Node, a: Value, b: Value) -> Value:
    """a & b on bools."""
    return result(np.logical_and(data(a), data(b)), a, b)


@SPECS.op("or", _logic_type("or"))
def logical_or(ctx: Any, node: Node, a: Value, b: Value) -> Value:
    """a | b on bools."""
    return result(np.logical_or(data(a), data(b)), a, b)


@SPECS.op("not", _logic_type("not"))
def logical_not(ctx: Any, node: Node, a: Value) -> Value:
    """~a on bools."""
    return result(np.logical_not(data(a)), a)


# --------------------------------------------------------------------- math


def _math(name: str, fn, doc: str) -> None:
    def impl(ctx: Any, node: Node, a: Value) -> Value:
        x = np.asarray(data(a)).astype(node.type.dtype.numpy, copy=False)
        with np.errstate(all="ignore"):
            return result(fn(x), a)

    infer = _unary_numeric_type(name, to_float=True)
    SPECS.op(name, infer, doc=doc, dsl=name, ulp=_TRANSCENDENTAL_ULP.get(name, {}))(impl)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    one = x.dtype.type(1)
    return one / (one + np.exp(-x))


_math("log1p", np.log1p, "log(1 + x) in float (transcendental)")
_math("sqrt", np.sqrt, "square root in float (IEEE: correctly rounded everywhere)")
_math("exp", np.exp, "e**x in float (transcendental)")
_math("sigmoid", _sigmoid, "1 / (1 + exp(-x)) in float (transcendental)")


@SPECS.op("abs", _unary_numeric_type("abs", to_float=False), dsl="abs")
def absolute(ctx: Any, node: Node, a: Value) -> Value:
    """|a| keeping the dtype."""
    return result(np.abs(data(a)), a)


def _clip_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    x, lo, hi = ts
    for t in ts:
        require(t, NUMERIC, "clip")
    if lo.shape is Shape.ROW or hi.shape is Shape.ROW:
        raise TraceError("clip: bounds must be constants or analyzer results, not per-row values")
    dtype = promote(promote(x.dtype, lo.dtype), hi.dtype)
    return x.with_(dtype=dtype, nullable=any_nullable(ts))


@SPECS.op("clip", _clip_type, dsl="clip")
def clip(ctx: Any, node: Node, x: Value, lo: Value, hi: Value) -> Value:
    """min(max(x, lo), hi); NaN stays NaN."""
    dtype = node.type.dtype.numpy
    v = np.asarray(data(x)).astype(dtype, copy=False)
    return result(np.minimum(np.maximum(v, lo.astype(dtype)), hi.astype(dtype)), x)


def _where_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    cond, a, b = ts
    require(cond, (DType.BOOL,), "where", "condition")
    if a.dtype == b.dtype:
        dtype = a.dtype
    elif a.dtype.is_numeric and b.dtype.is_numeric:
        dtype = promote(a.dtype, b.dtype)
    else:
        raise TraceError(f"where: branches must have the same dtype, got {a.dtype} and {b.dtype}")
    return ValueType(dtype, any_nullable(ts), broadcast_shape(ts, "where"))


@SPECS.op("where", _where_type, dsl="where")
def where(ctx: Any, node: Node, cond: Value, a: Value, b: Value) -> Value:
    """a where cond else b (null where the chosen branch or the condition is null)."""
    c = np.asarray(data(cond), dtype=bool)
    av, bv = data(a), data(b)
    if node.type.dtype is DType.STRING:
        import pyarrow.compute as pc

        from tskew.ops.values import as_arrow_strings

        out = pc.if_else(c, as_arrow_strings(a), as_arrow_strings(b))
        values: Any = out
    else:
        dtype = node.type.dtype.numpy
        values = np.where(c, np.asarray(av).astype(dtype, copy=False), np.asarray(bv).astype(dtype))
    if not any(isinstance(v, Col) for v in (cond, a, b)):
        return result(values)
    n = _row_len(cond, a, b)
    mask = _where_mask(c, cond, a, b, n)
    return Col(values if np.ndim(values) != 0 else np.full(n, values), mask)


def _row_len(*vals: Value) -> int:
    return next(len(v) for v in vals if isinstance(v, Col))


def _where_mask(c: np.ndarray, cond: Value, a: Value, b: Value, n: int) -> np.ndarray | None:
    def m(v: Value) -> np.ndarray:
        return v.mask if isinstance(v, Col) and v.mask is not None else np.zeros(n, bool)

    mask = m(cond) | np.where(np.broadcast_to(c, (n,)), m(a), m(b))
    return mask if mask.any() else None


# ------------------------------------------------------------ missing values


def _fill_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    x, fill = ts
    if fill.shape is Shape.ROW:
        require(fill, (x.dtype,), "fill_missing", "fill value")
    elif x.dtype != fill.dtype and not (x.dtype.is_numeric and fill.dtype.is_numeric):
        raise TraceError(
            f"fill_missing: fill value of dtype {fill.dtype} does not fit a {x.dtype} feature"
        )
    if fill.nullable:
        raise TraceError("fill_missing: the fill value itself may be null")
    require_scalar_row(x, "fill_missing")
    if fill.shape is Shape.VECTOR:
        raise TraceError("fill_missing: the fill value must be a single value")
    return x.with_(nullable=False)


@SPECS.op("fill_missing", _fill_type, dsl="fill_missing")
def fill_missing(ctx: Any, node: Node, x: Value, fill: Value) -> Value:
    """Replace nulls (and NaN, for floats) with ``fill``, keeping x's dtype."""
    if not isinstance(x, Col):
        missing = _missing_dataset(x)
        return np.asarray(data(fill) if missing else x)
    missing = missing_mask(x)
    if node.type.dtype is DType.STRING:
        import pyarrow.compute as pc

        from tskew.ops.values import as_arrow_strings

        if missing is None:
            return Col(x.values)
        out = pc.if_else(missing, as_arrow_strings(fill), x.values)
        return Col(out)
    v = np.asarray(x.values)
    if missing is None:
        return Col(v)
    fill_v = np.asarray(data(fill)).astype(v.dtype)
    return Col(np.where(missing, fill_v, v))


def _missing_dataset(v: np.ndarray) -> bool:
    return v.dtype.kind == "f" and bool(np.isnan(v).any())


def missing_mask(x: Col) -> np.ndarray | None:
    """True where x is null or (for floats) NaN; None when nothing is missing."""
    mask = x.mask
    if isinstance(x.values, np.ndarray) and x.values.dtype.kind == "f":
        nan = np.isnan(x.values)
        mask = nan if mask is None else (mask | nan)
    return mask if mask is not None and mask.any() else None


def _is_missing_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    (x,) = ts
    require_scalar_row(x, "is_missing")
    return ValueType(DType.BOOL, False, x.shape)


@SPECS.op("is_missing", _is_missing_type, dsl="is_missing")
def is_missing(ctx: Any, node: Node, x: Value) -> Value:
    """True where x is null or NaN."""
    if not isinstance(x, Col):
        return np.asarray(_missing_dataset(np.asarray(x)))
    m = missing_mask(x)
    return Col(np.zeros(len(x), bool) if m is None else m)


# ----------------------------------------------------------------- buckets


def _apply_buckets_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    x, bounds = ts
    require(x, NUMERIC, "apply_buckets")
    require(bounds, NUMERIC, "apply_buckets", "boundaries")
    require_scalar_row(x, "apply_buckets")
    if bounds.shape is not Shape.VECTOR:
        raise TraceError("apply_buckets: boundaries must be a vector (list or ts.quantiles)")
    return x.with_(dtype=DType.INT64)


@SPECS.op("apply_buckets", _apply_buckets_type, dsl="apply_buckets", categorical=True)
def apply_buckets(ctx: Any, node: Node, x: Value, bounds: np.ndarray) -> Value:
    """Bucket i holds b[i-1] <= x < b[i]; NaN goes to the last bucket (len(b))."""
    dtype = _common_dtype(ctx, node).numpy
    v = np.asarray(data(x)).astype(dtype, copy=False)
    idx = np.searchsorted(bounds.astype(dtype), v, side="right").astype(np.int64)
    return result(idx, x)


def _one_hot_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    (x,) = ts
    require(x, (DType.INT64,), "one_hot")
    depth = attrs.get("depth")
    if not isinstance(depth, int) or depth < 1:
        raise TraceError(f"one_hot: depth must be a positive int, got {depth!r}")
    if x.shape is not Shape.ROW:
        raise TraceError("one_hot: input must be a per-row value")
    return x.with_(dtype=DType.FLOAT32, width=depth)


@SPECS.op("one_hot", _one_hot_type, dsl="one_hot", attrs={"depth": Attr(int)})
def one_hot(ctx: Any, node: Node, x: Col) -> Col:
    """float32 vector of length depth with a 1 at x; all zeros when x is outside [0, depth)."""
    depth = node.attr("depth")
    v = np.asarray(x.values)
    out = (v[:, None] == np.arange(depth, dtype=np.int64)[None, :]).astype(np.float32)
    return Col(out, x.mask)


# -------------------------------------------------------------------- casts


def _cast_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    (x,) = ts
    to = DType(attrs["dtype"])
    require_scalar_row(x, "cast")
    if to is DType.STRING and x.dtype.is_float:
        raise TraceError(
            "cast: float -> string has no single textual form every backend agrees on; "
            'cast to "int64" or bucketize first'
        )
    nullable = x.nullable or (x.dtype is DType.STRING and to is not DType.STRING)
    return x.with_(dtype=to, nullable=nullable)


@SPECS.op("cast", _cast_type, dsl="cast", attrs={"dtype": Attr(str)})
def cast(ctx: Any, node: Node, x: Value) -> Value:
    """Convert dtype. float -> int64 truncates toward zero; NaN -> 0; out of range
    saturates. string -> number parses (null where it does not parse). number ->
    string is decimal; bool -> string is "true"/"false"."""
    from tskew.ops.strings import cast_from_string, cast_to_string

    to = node.type.dtype
    v = data(x)
    if ctx.dtype_of(node.inputs[0]) is DType.STRING:
        return cast_from_string(x, to)
    v = np.asarray(v)
    if to is DType.STRING:
        return cast_to_string(x)
    if to is DType.INT64 and v.dtype.kind == "f":
        return result(float_to_int64(v), x)
    return result(v.astype(to.numpy), x)


INT64_MAX_AS_FLOAT = 9.223372036854775807e18  # 2**63, the first float above int64 range


def float_to_int64(v: np.ndarray) -> np.ndarray:
    """Truncate toward zero; NaN -> 0; values beyond the int64 range saturate."""
    v = v.astype(np.float64, copy=False)
    info = np.iinfo(np.int64)
    safe = np.where(np.isnan(v), 0.0, np.clip(v, -INT64_MAX_AS_FLOAT, INT64_MAX_AS_FLOAT))
    too_big = safe >= INT64_MAX_AS_FLOAT
    with np.errstate(invalid="ignore"):
        out = np.trunc(safe).astype(np.int64)
    out[too_big] = info.max
    return out


__all__ = ["FLOATS", "Col", "float_to_int64", "mask_of", "missing_mask"]
