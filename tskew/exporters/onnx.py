"""Lowering of a frozen graph to ONNX: one function per IR op, emitted straight from the IR.

Opsets: ``ai.onnx`` 21 (``RegexFullMatch`` and ``StringConcat`` need 20), ``ai.onnx.ml`` 4
(``LabelEncoder`` with tensor keys) and ``com.microsoft`` 1 for ``MurmurHash3``, the one
operator outside the standard domains: ONNX has no string hash, and ONNX Runtime ships this
one as a built-in contrib op (no custom-op library needed).

A row value is an `OnnxCol` (the name of its values tensor plus the name of a bool null mask,
or None), exactly as in the numpy executor; dataset values are initializer names.

Ops ONNX cannot express identically (the export fails with `UnsupportedOpError` naming them):

* ``lower``: the only case op, ``StringNormalizer``, depends on the serving machine's C++
  locale (it fails where ``en_US.UTF-8`` is not installed) and maps case differently.
* ``strip``: no ONNX operator edits string contents.
* ``cast`` of a string to float32/float64: ONNX Runtime's ``Cast`` parses with ``std::stod``,
  which throws on text beyond the float range instead of yielding a value or a null.

Precision: ONNX has no ``Log1p``; it is computed as ``log(u) - ((u - 1) - x) / u`` with
``u = 1 + x`` (float32 inputs in float64), within 2 ulp of numpy for float64 and 1 ulp for
float32. ``exp`` and ``sigmoid`` may differ by 1 ulp. Everything else is bit-identical,
subnormals included (ONNX Runtime does not flush them).

Example:
    >>> import tskew as ts
    >>> tfn = ts.analyze(lambda i: {"y": i["x"] * 2.0}, {"x": [1.0, 2.0]})
    >>> model = transform_model(tfn.graph)
    >>> [i.name for i in model.graph.input], [o.name for o in model.graph.output]
    (['x'], ['y'])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tskew.exporters.common import MISSING_SUFFIX, optional_import
from tskew.ir.graph import Graph
from tskew.ir.nodes import Node
from tskew.lowering import GraphLowering, LoweringTable
from tskew.ops.elementwise import INT64_MAX_AS_FLOAT
from tskew.ops.strings import CAST_PATTERNS, CROSS_SEPARATOR
from tskew.ops.typing import promote
from tskew.ops.values import NullMasks
from tskew.schema import DType

BACKEND = "onnx"
OPSET = 21
ML_OPSET = 4
MS_OPSET = 1
IR_VERSION = 10


def onnx_module() -> Any:
    """``import onnx`` with an actionable error when it is not installed."""
    return optional_import("onnx", "exporting to ONNX", "onnx")


def onnx_type(dtype: DType) -> int:
    """The ONNX ``TensorProto`` element type of a tskew dtype."""
    tp = onnx_module().TensorProto
    return {
        DType.FLOAT32: tp.FLOAT,
        DType.FLOAT64: tp.DOUBLE,
        DType.INT64: tp.INT64,
        DType.STRING: tp.STRING,
        DType.BOOL: tp.BOOL,
    }[dtype]


@dataclass
class OnnxCol:
    """A row value: the name of its values tensor and of its null mask (or None).

    ``nan_free`` marks float values that cannot hold NaN (the result of ``fill_missing``),
    so consumers skip their NaN checks.
    """

    values: str
    mask: str | None = None
    nan_free: bool = False


Value = Any  # OnnxCol | str (a dataset value: initializer name)
LOWERINGS = LoweringTable(
    BACKEND,
    unsupported={
        "lower": "ONNX's StringNormalizer depends on the serving machine's C++ locale and maps "
        "case differently from tskew; lower-case the data before it reaches the model",
        "strip": "no ONNX operator edits string contents; strip the data upstream",
        **{
            f"cast(string)->{to}": f"string -> {to}: ONNX Runtime's Cast parses with std::stod, "
            "which fails on text beyond the float range instead of giving a value or a null; "
            "parse floats before the model (e.g. declare the column as a float in the schema)"
            for to in ("float32", "float64")
        },
    },
)
lowering = LOWERINGS.register


class Builder:
    """Collects ONNX nodes and initializers with unique tensor names."""

    def __init__(self, prefix: str = ""):
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0
        self._prefix = prefix
        self._consts: dict[tuple, str] = {}

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{self._prefix}{hint}_{self._count}"

    def op(self, op_type: str, *inputs: str, domain: str = "", **attrs: Any) -> str:
        out = self.fresh(op_type.lower())
        self.nodes.append(
            onnx_module().helper.make_node(op_type, list(inputs), [out], domain=domain, **attrs)
        )
        return out

    def const(self, value: Any, dtype: DType) -> str:
        """An initializer holding ``value`` (shared between identical constants)."""
        arr = np.asarray(value, dtype=object if dtype is DType.STRING else dtype.numpy)
        key = (dtype, arr.shape, arr.tobytes() if arr.dtype != object else tuple(arr.ravel()))
        if key not in self._consts:
            self._consts[key] = self.fresh("const")
            self.initializers.append(tensor_proto(arr, dtype, self._consts[key]))
        return self._consts[key]


def tensor_proto(value: Any, dtype: DType, name: str = "") -> Any:
    """A ``TensorProto`` holding ``value`` (strings as UTF-8)."""
    onnx = onnx_module()
    arr = np.asarray(value, dtype=object if dtype is DType.STRING else dtype.numpy)
    if dtype is DType.STRING:
        # Built by hand: onnx.helper.make_tensor goes through numpy bytes, which drops
        # trailing NUL characters.
        tensor = onnx.TensorProto(name=name, data_type=onnx.TensorProto.STRING)
        tensor.dims.extend(arr.shape)
        tensor.string_data.extend(s.encode("utf-8") for s in arr.ravel())
        return tensor
    return onnx.numpy_helper.from_array(arr, name)


class Lowering(GraphLowering):
    """Emits the ONNX nodes of a frozen graph into a `Builder`."""

    table = LOWERINGS

    def __init__(self, graph: Graph, builder: Builder | None = None):
        super().__init__(graph)
        self.b = builder or Builder()
        self.masks = NullMasks(OnnxCol, lambda a, b: self.b.op("Or", a, b))

    def __call__(
        self, inputs: Mapping[str, OnnxCol], targets: Mapping[str, int] | None = None
    ) -> dict[str, Value]:
        """Emit ``targets`` (default: the outputs) from the bound inputs; returns their values."""
        return self.lower(inputs, dict(self.graph.outputs if targets is None else targets))

    # ------------------------------------------------------------ helpers
    def cast(self, v: Value, src: DType, to: DType) -> str:
        name = _values(v)
        return name if src is to else self.b.op("Cast", name, to=onnx_type(to))

    def mask_of(self, *vals: Value) -> str | None:
        return self.masks.mask_of(*vals)

    def result(self, values: str, *inputs: Value, mask: str | None = None) -> Value:
        return self.masks.result(values, *inputs, mask=mask)

    def missing(self, x: OnnxCol, dtype: DType) -> str | None:
        """True where x is null or (for floats) NaN; None when it can't be."""
        mask = x.mask
        if dtype.is_float and not x.nan_free:
            nan = self.b.op("IsNaN", x.values)
            mask = nan if mask is None else self.b.op("Or", mask, nan)
        return mask

    def select(self, cond: str, a: str, b: str, dtype: DType, a_signed_zero: bool = False) -> str:
        """Where(cond, a, b), exactly.

        ONNX Runtime has no bool Where, so bools use And/Or. Its float Where turns a -0.0
        taken from the *true* branch into +0.0 (the false branch is copied exactly); when
        ``a_signed_zero`` says ``a`` may hold -0.0, both branches are gathered bit for bit.
        """
        b_ = self.b
        if dtype is DType.BOOL:
            taken = b_.op("And", cond, a)
            return b_.op("Or", taken, b_.op("And", b_.op("Not", cond), b))
        where = b_.op("Where", cond, a, b)
        if not (dtype.is_float and a_signed_zero):
            return where
        shape = b_.op("Shape", where)
        last = b_.const([-1], DType.INT64)
        pair = [b_.op("Unsqueeze", b_.op("Expand", v, shape), last) for v in (b, a)]
        stacked = b_.op("Concat", *pair, axis=-1)
        index = b_.op("Cast", b_.op("Expand", cond, shape), to=onnx_type(DType.INT64))
        picked = b_.op("GatherElements", stacked, b_.op("Unsqueeze", index, last), axis=-1)
        return b_.op("Squeeze", picked, last)

    def may_be_negative_zero(self, node_id: int, value: Value) -> bool:
        """Whether a value can be -0.0 (any row value can; a constant is checked)."""
        if isinstance(value, OnnxCol) or self.graph.nodes[node_id].op != "const":
            return True
        const = self.const_of(node_id)
        return const.dtype.kind == "f" and bool(np.signbit(const).any())

    def like(self, x: str, value: Any, dtype: DType) -> str:
        """A tensor shaped like ``x`` filled with ``value`` (Expand of a scalar)."""
        return self.b.op("Expand", self.b.const(value, dtype), self.b.op("Shape", x))


def _values(v: Value) -> str:
    return v.values if isinstance(v, OnnxCol) else v


# --------------------------------------------------------------- structural


@lowering("const")
def _const(ctx: Lowering, node: Node) -> str:
    value = ctx.const_of(node.id)
    return ctx.b.const(value.tolist() if value.dtype == object else value, node.type.dtype)


# --------------------------------------------------------------- arithmetic

_ARITH = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div"}


@lowering(*_ARITH)
def _arith(ctx: Lowering, node: Node, a: Value, b: Value) -> Value:
    dtype = node.type.dtype
    ta, tb = (ctx.dtype_of(i) for i in node.inputs)
    x, y = ctx.cast(a, ta, dtype), ctx.cast(b, tb, dtype)
    if node.op in ("add", "sub") and dtype.is_float:
        x, y = (_opaque_zero(ctx, v, nid, other) for v, nid, other in
                ((x, node.inputs[0], b), (y, node.inputs[1], a)))  # fmt: skip
    return ctx.result(ctx.b.op(_ARITH[node.op], x, y), a, b)


def _opaque_zero(ctx: Lowering, value: str, node_id: int, other: Value) -> str:
    """A constant zero operand of Add/Sub, broadcast to the row's run-time shape.

    ONNX Runtime's NoopElimination drops ``x + 0`` (and ``x - 0``) when ``x`` is computed
    inside the graph, so -0.0 + 0.0 would stay -0.0 where IEEE (and numpy) give +0.0. An
    ``Expand`` to a run-time shape is not a constant initializer, so the Add is kept.
    """
    if not isinstance(other, OnnxCol) or ctx.graph.nodes[node_id].op != "const":
        return value
    if not np.any(ctx.const_of(node_id) == 0):
        return value
    return ctx.b.op("Expand", value, ctx.b.op("Shape", other.values))


@lowering("neg", "abs")
def _unary(ctx: Lowering, node: Node, a: Value) -> Value:
    return ctx.result(ctx.b.op({"neg": "Neg", "abs": "Abs"}[node.op], _values(a)), a)


_COMPARE = {
    "eq": "Equal",
    "lt": "Less",
    "le": "LessOrEqual",
    "gt": "Greater",
    "ge": "GreaterOrEqual",
}


@lowering("eq", "ne", "lt", "le", "gt", "ge")
def _compare(ctx: Lowering, node: Node, a: Value, b: Value) -> Value:
    ta, tb = (ctx.dtype_of(i) for i in node.inputs)
    dtype = ta if ta == tb else promote(ta, tb)
    x, y = ctx.cast(a, ta, dtype), ctx.cast(b, tb, dtype)
    out = ctx.b.op(_COMPARE["eq" if node.op == "ne" else node.op], x, y)
    if node.op == "ne":
        out = ctx.b.op("Not", out)
    return ctx.result(out, a, b)


@lowering("and", "or")
def _logic(ctx: Lowering, node: Node, a: Value, b: Value) -> Value:
    return ctx.result(ctx.b.op({"and": "And", "or": "Or"}[node.op], _values(a), _values(b)), a, b)


@lowering("not")
def _not(ctx: Lowering, node: Node, a: Value) -> Value:
    return ctx.result(ctx.b.op("Not", _values(a)), a)


# --------------------------------------------------------------------- math


@lowering("sqrt", "exp", "sigmoid")
def _math(ctx: Lowering, node: Node, a: Value) -> Value:
    dtype = node.type.dtype
    x = ctx.cast(a, ctx.dtype_of(node.inputs[0]), dtype)
    if node.op == "sigmoid":
        # The numpy formula, 1 / (1 + exp(-x)), not ONNX's Sigmoid (rounded differently).
        one = ctx.b.const(1, dtype)
        out = ctx.b.op("Div", one, ctx.b.op("Add", one, ctx.b.op("Exp", ctx.b.op("Neg", x))))
    else:
        out = ctx.b.op({"sqrt": "Sqrt", "exp": "Exp"}[node.op], x)
    return ctx.result(out, a)


@lowering("log1p")
def _log1p(ctx: Lowering, node: Node, a: Value) -> Value:
    """log(u) - ((u - 1) - x) / u, u = 1 + x: the rounding error of u corrected to first order."""
    dtype = node.type.dtype
    x = ctx.cast(a, ctx.dtype_of(node.inputs[0]), DType.FLOAT64)
    b = ctx.b
    one = b.const(1.0, DType.FLOAT64)
    u = b.op("Add", one, x)
    correction = b.op("Div", b.op("Sub", b.op("Sub", u, one), x), u)
    zero = b.const(0.0, DType.FLOAT64)
    correction = b.op("Where", b.op("Equal", u, zero), zero, correction)  # x = -1: log(0) = -inf
    approx = b.op("Sub", b.op("Log", u), correction)
    # u == 1: x is below half an ulp of 1, and log1p(x) == x; u == inf: the correction is NaN.
    exact = b.op("Or", b.op("Equal", u, one), b.op("IsInf", x, detect_negative=0))
    # x in the false branch: ONNX Runtime's Where would turn a -0.0 from the true branch to +0.0.
    out = b.op("Where", b.op("Not", exact), approx, x)
    return ctx.result(ctx.cast(out, DType.FLOAT64, dtype), a)


@lowering("clip")
def _clip(ctx: Lowering, node: Node, x: Value, lo: Value, hi: Value) -> Value:
    dtype = node.type.dtype
    vx, vlo, vhi = (
        ctx.cast(v, ctx.dtype_of(i), dtype) for v, i in zip((x, lo, hi), node.inputs, strict=True)
    )
    low = _np_extreme(ctx, "Max", vx, vlo, node.inputs[1], dtype)
    return ctx.result(_np_extreme(ctx, "Min", low, vhi, node.inputs[2], dtype), x)


def _np_extreme(ctx: Lowering, op: str, x: str, bound: str, bound_id: int, dtype: DType) -> str:
    """numpy's maximum/minimum of x and a constant bound (NaN in x propagates).

    Max/Min answer a tie between 0.0 and -0.0 with either operand; numpy gives the
    bound. Only a zero bound can tie with a different bit pattern, so only then is the
    tie spelled out (x is taken only when strictly beyond the bound, so never -0.0).
    """
    value = ctx.const_of(bound_id) if ctx.graph.nodes[bound_id].op == "const" else None
    if not dtype.is_float or value is None or np.all(value != 0):
        return ctx.b.op(op, x, bound)
    beyond = ctx.b.op("Greater" if op == "Max" else "Less", x, bound)
    return ctx.b.op("Where", ctx.b.op("Or", beyond, ctx.b.op("IsNaN", x)), x, bound)


@lowering("where")
def _where(ctx: Lowering, node: Node, cond: Value, a: Value, b: Value) -> Value:
    dtype = node.type.dtype
    ta, tb = (ctx.dtype_of(i) for i in node.inputs[1:])
    a_zero = dtype.is_float and ctx.may_be_negative_zero(node.inputs[1], a)
    values = ctx.select(
        _values(cond), ctx.cast(a, ta, dtype), ctx.cast(b, tb, dtype), dtype, a_zero
    )
    rows = [v for v in (cond, a, b) if isinstance(v, OnnxCol)]
    if not rows:
        return values
    values = ctx.b.op("Expand", values, ctx.b.op("Shape", rows[0].values))
    if not any(v.mask is not None for v in rows):
        return OnnxCol(values)

    def mask(v: Value) -> str:
        if isinstance(v, OnnxCol) and v.mask is not None:
            return v.mask
        return ctx.b.const(False, DType.BOOL)  # broadcast by Where/Or

    chosen = ctx.select(_values(cond), mask(a), mask(b), DType.BOOL)
    return OnnxCol(values, ctx.b.op("Or", mask(cond), chosen))


# ------------------------------------------------------------ missing values


@lowering("fill_missing")
def _fill_missing(ctx: Lowering, node: Node, x: Value, fill: Value) -> Value:
    dtype = node.type.dtype
    f = ctx.cast(fill, ctx.dtype_of(node.inputs[1]), dtype)
    if not isinstance(x, OnnxCol):
        if not dtype.is_float:
            return x
        return ctx.b.op("Where", ctx.b.op("IsNaN", x), f, x)
    missing = ctx.missing(x, dtype)
    if missing is None:
        return OnnxCol(x.values, nan_free=dtype.is_float)
    f_zero = dtype.is_float and ctx.may_be_negative_zero(node.inputs[1], fill)
    values = ctx.select(missing, f, x.values, dtype, f_zero)
    return OnnxCol(values, nan_free=dtype.is_float)


@lowering("is_missing")
def _is_missing(ctx: Lowering, node: Node, x: Value) -> Value:
    dtype = ctx.dtype_of(node.inputs[0])
    if not isinstance(x, OnnxCol):
        return ctx.b.op("IsNaN", x) if dtype.is_float else ctx.b.const(False, DType.BOOL)
    missing = ctx.missing(x, dtype)
    return OnnxCol(missing if missing is not None else ctx.like(x.values, False, DType.BOOL))


# ----------------------------------------------------------------- buckets


@lowering("apply_buckets")
def _apply_buckets(ctx: Lowering, node: Node, x: Value, bounds: str) -> Value:
    """Bucket = how many boundaries are <= x (searchsorted right); NaN -> len(boundaries)."""
    tx, tb = (ctx.dtype_of(i) for i in node.inputs)
    dtype = promote(tx, tb)
    b = ctx.b
    v = ctx.cast(x, tx, dtype)
    k = len(ctx.const_of(node.inputs[1]))
    column = b.op("Unsqueeze", v, b.const([1], DType.INT64))
    below = b.op(
        "Cast",
        b.op("GreaterOrEqual", column, ctx.cast(bounds, tb, dtype)),
        to=onnx_type(DType.INT64),
    )
    count = b.op("ReduceSum", below, b.const([1], DType.INT64), keepdims=0)
    if dtype.is_float and not (isinstance(x, OnnxCol) and x.nan_free):
        count = b.op("Where", b.op("IsNaN", v), b.const(k, DType.INT64), count)
    return ctx.result(count, x)


@lowering("one_hot")
def _one_hot(ctx: Lowering, node: Node, x: OnnxCol) -> OnnxCol:
    b = ctx.b
    depth = node.attr("depth")
    column = b.op("Unsqueeze", x.values, b.const([1], DType.INT64))
    hot = b.op("Equal", column, b.const(np.arange(depth, dtype=np.int64), DType.INT64))
    return OnnxCol(b.op("Cast", hot, to=onnx_type(DType.FLOAT32)), x.mask)


# -------------------------------------------------------------------- casts


@lowering("cast")
def _cast_op(ctx: Lowering, node: Node, x: Value) -> Value:
    src, to = ctx.dtype_of(node.inputs[0]), node.type.dtype
    if src is DType.STRING:
        return _parse_strings(ctx, x, to)
    if to is DType.STRING:
        return ctx.result(_to_strings(ctx, _values(x), src), x)
    if to is DType.INT64 and src.is_float:
        return ctx.result(_float_to_int64(ctx, _values(x), src), x)
    return ctx.result(ctx.cast(x, src, to), x)


def _float_to_int64(ctx: Lowering, v: str, src: DType) -> str:
    """Truncate toward zero; NaN -> 0; beyond the int64 range saturate (numpy semantics)."""
    b = ctx.b
    v = ctx.cast(v, src, DType.FLOAT64)
    limit = b.const(INT64_MAX_AS_FLOAT, DType.FLOAT64)
    zero = b.const(0.0, DType.FLOAT64)
    safe = b.op(
        "Where", b.op("IsNaN", v), zero, b.op("Min", b.op("Max", v, b.op("Neg", limit)), limit)
    )
    too_big = b.op("GreaterOrEqual", safe, limit)
    # Casting 2**63 itself is undefined in C++: substitute before the cast (which truncates).
    out = b.op("Cast", b.op("Where", too_big, zero, safe), to=onnx_type(DType.INT64))
    return b.op("Where", too_big, b.const(np.iinfo(np.int64).max, DType.INT64), out)


def _to_strings(ctx: Lowering, v: str, src: DType) -> str:
    if src is DType.BOOL:
        return ctx.b.op(
            "Where", v, ctx.b.const("true", DType.STRING), ctx.b.const("false", DType.STRING)
        )
    return ctx.b.op("Cast", v, to=onnx_type(DType.STRING))


def int64_literal_pattern() -> str:
    """RE2 pattern of the integer literals that fit in int64 (what numpy's parser accepts).

    Example:
        >>> import re
        >>> p = re.compile(int64_literal_pattern())
        >>> [bool(p.fullmatch(s)) for s in ["-9223372036854775808", "9223372036854775808", "+007"]]
        [True, False, True]
    """

    def at_most(bound: str) -> str:
        alternatives = [bound]
        for i, digit in enumerate(bound):
            if digit != "0":
                rest = len(bound) - i - 1
                alternatives.append(f"{bound[:i]}[0-{int(digit) - 1}][0-9]{{{rest}}}")
        return f"[0-9]{{1,{len(bound) - 1}}}|" + "|".join(alternatives)

    positive, negative = str(2**63 - 1), str(2**63)
    return f"\\+?0*({at_most(positive)})|-0*({at_most(negative)})"


def _parse_strings(ctx: Lowering, x: Value, to: DType) -> Value:
    b = ctx.b
    s = _values(x)
    if to is DType.STRING:
        return ctx.result(s, x)
    if to is DType.BOOL:
        ok = b.op("RegexFullMatch", s, pattern=CAST_PATTERNS[DType.BOOL].strip("^$"))
        parsed = b.op("RegexFullMatch", s, pattern="(?i:true)|1")
    else:
        ok = b.op("RegexFullMatch", s, pattern=int64_literal_pattern())
        cleaned = b.op("Where", ok, s, b.const("0", DType.STRING))
        parsed = b.op("Cast", cleaned, to=onnx_type(DType.INT64))
    if not isinstance(x, OnnxCol):
        return parsed
    bad = b.op("Not", ok)
    return OnnxCol(parsed, bad if x.mask is None else b.op("Or", x.mask, bad))


# ------------------------------------------------------------------ strings


@lowering("cross")
def _cross(ctx: Lowering, node: Node, *xs: Value) -> Value:
    b = ctx.b
    parts = []
    for i, x in zip(node.inputs, xs, strict=True):
        dtype = ctx.dtype_of(i)
        parts.append(_values(x) if dtype is DType.STRING else _to_strings(ctx, _values(x), dtype))
    sep = b.const(CROSS_SEPARATOR, DType.STRING)
    out = parts[0]
    for part in parts[1:]:
        out = b.op("StringConcat", b.op("StringConcat", out, sep), part)
    return ctx.result(out, *xs)


def _too_long_pattern() -> str:
    """RE2 pattern matching more than `MAX_HASH_BYTES` bytes (``\\C``: any byte; RE2
    repeats at most 1000 times, so the count is spelled in runs of 1000)."""
    from tskew.hashing import MAX_HASH_BYTES

    need = MAX_HASH_BYTES + 1
    return "\\C{1000}" * (need // 1000) + f"\\C{{{need % 1000}}}" + "\\C*"


def _checked_lengths(ctx: Lowering, strings: str, op: str, skip: str | None) -> str:
    """``strings``, through a node that fails when a string (outside ``skip``) is longer than
    `MAX_HASH_BYTES`: the other backends refuse it too. ONNX has no Assert: the check is a
    ``Reshape`` to one more element per offending string, named with the error."""
    from tskew.hashing import hash_length_message

    b = ctx.b
    too_long = b.op("RegexFullMatch", strings, pattern=_too_long_pattern())
    if skip is not None:
        too_long = b.op("And", too_long, b.op("Not", skip))
    count = b.op("ReduceSum", b.op("Cast", too_long, to=onnx_type(DType.INT64)), keepdims=1)
    target = b.op("Add", b.op("Shape", strings), count)
    out = b.fresh("hashable")
    b.nodes.append(
        onnx_module().helper.make_node(
            "Reshape", [strings, target], [out], allowzero=1,
            name=f"{hash_length_message(op)} [{b.fresh('check')}]",
        )
    )  # fmt: skip
    return out


def _hash_buckets(
    ctx: Lowering, strings: str, buckets: int, op: str, skip: str | None = None
) -> str:
    """MurmurHash3_x86_32 (seed 0) % buckets, via ONNX Runtime's com.microsoft.MurmurHash3."""
    b = ctx.b
    strings = _checked_lengths(ctx, strings, op, skip)
    h = b.op("MurmurHash3", strings, domain="com.microsoft", positive=1, seed=0)
    return b.op("Mod", b.op("Cast", h, to=onnx_type(DType.INT64)), b.const(buckets, DType.INT64))


@lowering("hash_strings")
def _hash_strings(ctx: Lowering, node: Node, x: Value) -> Value:
    skip = x.mask if isinstance(x, OnnxCol) else None
    return ctx.result(
        _hash_buckets(ctx, _values(x), node.attr("hash_buckets"), "hash_strings", skip), x
    )


@lowering("apply_vocabulary")
def _apply_vocabulary(ctx: Lowering, node: Node, x: Value, vocab: str) -> Value:
    b = ctx.b
    v = _values(x)
    words = ctx.const_of(node.inputs[1])
    first: dict[Any, int] = {}
    for i, key in enumerate(words.tolist()):
        first.setdefault(key, i)  # the first occurrence wins, as in pyarrow's index_in
    is_str = ctx.dtype_of(node.inputs[0]) is DType.STRING
    n_oov = node.attr("num_oov_buckets", 0)
    # With 0 or 1 OOV buckets every unknown key gets one id: the lookup's own default.
    hashed = n_oov > 1
    default = -1 if hashed else len(words) if n_oov == 1 else node.attr("default_value", -1)
    if first:
        ids = b.op(
            "LabelEncoder", v, domain="ai.onnx.ml",
            keys_tensor=tensor_proto(list(first), DType.STRING if is_str else DType.INT64),
            values_tensor=tensor_proto(list(first.values()), DType.INT64),
            default_tensor=tensor_proto([default], DType.INT64),
        )  # fmt: skip
    else:
        ids = ctx.like(v, default, DType.INT64)
    if hashed:
        keys_text = v if is_str else b.op("Cast", v, to=onnx_type(DType.STRING))
        oov = b.op("Less", ids, b.const(0, DType.INT64))
        skip = b.op("Not", oov)
        if isinstance(x, OnnxCol) and x.mask is not None:
            skip = b.op("Or", skip, x.mask)
        hashed = _hash_buckets(ctx, keys_text, n_oov, "apply_vocabulary", skip)
        ids = b.op("Where", oov, b.op("Add", b.const(len(words), DType.INT64), hashed), ids)
    return ctx.result(ids, x)


# ------------------------------------------------------------------- labels


@lowering("top_k")
def _top_k(ctx: Lowering, node: Node, x: OnnxCol) -> OnnxCol:
    b = ctx.b
    k = node.attr("k")
    dtype = ctx.dtype_of(node.inputs[0])
    scores = b.op("Where", b.op("IsNaN", x.values), b.const(-np.inf, dtype), x.values)
    out = onnx_module().helper.make_node(
        "TopK", [scores, b.const([k], DType.INT64)], [b.fresh("topk_values"), b.fresh("topk_ids")],
        axis=-1, largest=1, sorted=1,
    )  # fmt: skip
    b.nodes.append(out)
    ids = out.output[1]
    if k == 1:
        ids = b.op("Squeeze", ids, b.const([1], DType.INT64))
    return OnnxCol(ids, x.mask)


@lowering("map_labels")
def _map_labels(ctx: Lowering, node: Node, ids: OnnxCol, labels: str) -> OnnxCol:
    b = ctx.b
    values = ctx.const_of(node.inputs[1])
    dtype = node.type.dtype
    padded = b.const([*values.tolist(), node.attr("default")], dtype)
    size = b.const(len(values), DType.INT64)
    inside = b.op(
        "And",
        b.op("GreaterOrEqual", ids.values, b.const(0, DType.INT64)),
        b.op("Less", ids.values, size),
    )
    return OnnxCol(b.op("Gather", padded, b.op("Where", inside, ids.values, size)), ids.mask)


# -------------------------------------------------------------------- model


def transform_model(
    graph: Graph, extra_outputs: Mapping[str, tuple[int, DType]] | None = None
) -> Any:
    """The ONNX ``ModelProto`` of a frozen graph: raw features (+ ``__missing``) -> outputs.

    An output named like a raw input is emitted as ``<name>__out`` (ONNX tensor names are
    unique). ``extra_outputs`` adds ``name -> (node id, dtype)`` outputs cast to ``dtype``
    (used to feed a model its inputs in the dtypes it expects).
    """
    onnx = onnx_module()
    helper = onnx.helper
    b = Builder()
    lowering_ = Lowering(graph, b)
    inputs, bound = [], {}
    for name, nid in graph.inputs.items():
        vtype = graph.nodes[nid].type
        inputs.append(helper.make_tensor_value_info(name, onnx_type(vtype.dtype), ["batch"]))
        mask = None
        if vtype.nullable:
            mask = name + MISSING_SUFFIX
            inputs.append(helper.make_tensor_value_info(mask, onnx.TensorProto.BOOL, ["batch"]))
        # Values in masked slots are never read into a result: every op carries the mask,
        # and fill_missing / is_missing / where read it; so they are not normalised.
        bound[name] = OnnxCol(name, mask)
    checked = same_length_checks(b, [i.name for i in inputs])
    bound = {
        name: OnnxCol(checked[col.values], col.mask and checked[col.mask])
        for name, col in bound.items()
    }
    targets = dict(graph.outputs)
    results = lowering_(bound, targets)
    outputs = []
    for name, nid in graph.outputs.items():
        vtype = graph.nodes[nid].type
        out_name = output_name(graph, name)
        b.nodes.append(helper.make_node("Identity", [_values(results[name])], [out_name]))
        shape = ["batch"] if vtype.width is None else ["batch", vtype.width]
        outputs.append(helper.make_tensor_value_info(out_name, onnx_type(vtype.dtype), shape))
    for name, (nid, dtype) in (extra_outputs or {}).items():
        src = _values(results[_output_of(graph, nid)])
        vtype = graph.nodes[nid].type
        b.nodes.append(
            helper.make_node("Identity", [lowering_.cast(src, vtype.dtype, dtype)], [name])
        )
        shape = ["batch"] if vtype.width is None else ["batch", vtype.width]
        outputs.append(helper.make_tensor_value_info(name, onnx_type(dtype), shape))
    used = {name for node in b.nodes for name in node.input}
    initializers = [t for t in b.initializers if t.name in used]
    graph_proto = helper.make_graph(b.nodes, "tskew_transform", inputs, outputs, initializers)
    return make_model(graph_proto)


def same_length_checks(b: Builder, names: list[str]) -> dict[str, str]:
    """Input name -> the tensor to read it through: checked to be as long as the first input.

    ONNX Runtime checks each input's rank and dtype but not that the inputs share the
    ``batch`` dimension, and ONNX broadcasts: a length-1 ``x__missing`` would mark every
    row missing. ONNX has no Assert, so every other input goes through
    ``Reshape(input, Shape(first), allowzero=1)``, which fails on a length mismatch with an
    error naming the node, whose name says what is wrong.
    """
    if not names:
        return {}
    helper = onnx_module().helper
    first = names[0]
    shape = b.op("Shape", first)
    out = {first: first}
    for name in names[1:]:
        out[name] = b.fresh("checked")
        b.nodes.append(
            helper.make_node(
                "Reshape", [name, shape], [out[name]], allowzero=1,
                name=f"tskew: input {name!r} must have one value per row, as many as {first!r} "
                "(every input of a request is a [batch] vector of the same length)",
            )
        )  # fmt: skip
    return out


def _output_of(graph: Graph, nid: int) -> str:
    return next(name for name, out in graph.outputs.items() if out == nid)


def output_name(graph: Graph, name: str) -> str:
    """The ONNX output name of transform output ``name``."""
    return name + "__out" if name in graph.inputs else name


def make_model(graph_proto: Any) -> Any:
    """A ModelProto with tskew's opsets and IR version."""
    helper = onnx_module().helper
    model = helper.make_model(
        graph_proto,
        opset_imports=[
            helper.make_opsetid("", OPSET),
            helper.make_opsetid("ai.onnx.ml", ML_OPSET),
            helper.make_opsetid("com.microsoft", MS_OPSET),
        ],
        producer_name="tskew",
    )
    model.ir_version = IR_VERSION
    return model


def run_onnx(model: Any, columns: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Run an ONNX model in onnxruntime on numpy columns; outputs by ONNX name."""
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    wanted = {i.name for i in session.get_inputs()}
    feed = {k: np.asarray(v) for k, v in columns.items() if k in wanted}
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feed), strict=True))
