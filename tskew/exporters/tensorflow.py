"""Lowering of a frozen graph to TensorFlow ops: one function per IR op.

A row value is a `TfCol` (values plus an optional bool null mask, exactly as
in the numpy executor); dataset values are constant tensors. Every op casts
its inputs to the dtype the numpy semantics compute in, so both backends run
the same IEEE operations. Known difference: TensorFlow's CPU kernels flush
subnormal floats to zero (inputs and results); everything else is
bit-identical except ``log1p``, ``exp`` and ``sigmoid``: within 1 ulp on short
batches, but Eigen's vectorised kernels (full SIMD packets) differ from numpy by
up to 3 ulp in float64 and 4 ulp (sigmoid) in float32, measured on 1.6M values
(tests/property/test_backend_parity.py). Grappler's rewrites of constant 0 / 1
operands and ``tf.maximum``'s tie rule are kept out of the graph (`_opaque`,
`_np_maximum`).

TensorFlow is imported lazily: it is an optional dependency (``tskew[tf]``).

Example:
    >>> import tskew as ts
    >>> tfn = ts.analyze(lambda i: {"y": i["x"] * 2.0}, {"x": [1.0, 2.0]})
    >>> lowered = Lowering(tfn.graph)
    >>> lowered({"x": TfCol(tf_module().constant([0.5, 3.0], "float64"))})["y"].numpy().tolist()
    [1.0, 6.0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from tskew.exporters import tf_labels
from tskew.exporters import tf_values as tv
from tskew.exporters.tf_values import TfCol, Value, tf_dtype, tf_module
from tskew.ir.graph import Graph
from tskew.ir.nodes import Node
from tskew.lowering import GraphLowering, LoweringFn, LoweringTable
from tskew.ops.elementwise import INT64_MAX_AS_FLOAT
from tskew.ops.strings import CAST_PATTERNS, CROSS_SEPARATOR
from tskew.ops.typing import promote
from tskew.schema import DType

BACKEND = "tensorflow"

LOWERINGS = LoweringTable(BACKEND)
LOWERINGS.include(tf_labels.LOWERINGS)  # top_k, map_labels
lowering = LOWERINGS.register


class Lowering(GraphLowering):
    """Evaluates a frozen graph with TF ops; build once, call inside a ``tf.function``.

    Lookup tables (vocabularies, the lower-case map) are created at construction,
    outside any function, so a ``tf.Module`` holding this object tracks and saves them.
    """

    def __init__(self, graph: Graph):
        tf = tf_module()
        super().__init__(graph)
        self.tables: dict[int, Any] = {}
        for node in graph.nodes:
            if node.op == "apply_vocabulary":
                vocab = self.const_of(node.inputs[1])
                self.tables[node.id] = _vocabulary_table(vocab, _unknown_id(node, len(vocab)))
            elif node.op == "lower" and "lower" not in self.tables:
                from tskew.exporters.tf_strings import lower_table

                keys, values = lower_table()
                self.tables["lower"] = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(keys, values), default_value=-1
                )

    table = LOWERINGS

    def __call__(
        self, inputs: Mapping[str, TfCol], targets: Mapping[str, int] | None = None
    ) -> dict[str, Any]:
        """Evaluate ``targets`` (default: the graph outputs) from the bound inputs."""
        values = self.lower(inputs, dict(self.graph.outputs if targets is None else targets))
        return {name: tv.values_of(v) for name, v in values.items()}


def _unknown_id(node: Node, size: int) -> int:
    """The id of every unknown key when it is one id (0 or 1 OOV buckets), else -1."""
    n_oov = node.attr("num_oov_buckets", 0)
    return size if n_oov == 1 else node.attr("default_value", -1) if n_oov == 0 else -1


def _vocabulary_table(vocab: np.ndarray, default: int) -> Any:
    """key -> first index in the vocabulary (pyarrow's index_in also finds the first)."""
    tf = tf_module()
    first: dict[Any, int] = {}
    for i, key in enumerate(vocab.tolist()):
        first.setdefault(key, i)
    if not first:
        return None
    key_dtype = tf.string if vocab.dtype == object else tf.int64
    return tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(list(first), key_dtype), tf.constant(list(first.values()), tf.int64)
        ),
        default_value=default,
    )


# ------------------------------------------------------------------ helpers


# --------------------------------------------------------------- structural


@lowering("const")
def _const(ctx: Lowering, node: Node) -> Any:
    tf = tf_module()
    value = ctx.const_of(node.id)
    if value.dtype == object:
        return tf.constant(value.tolist() if value.ndim else value.item(), tf.string)
    return tf.constant(value, tf_dtype(node.type.dtype))


# --------------------------------------------------------------- arithmetic


def _opaque(c: Any, like: Any) -> Any:
    """The dataset value ``c`` broadcast to the shape of the row tensor ``like``.

    Grappler (in a ``tf.function``, a SavedModel and TF Serving) rewrites arithmetic
    with a constant 0 or 1 operand: ``x + 0`` and ``0 + x`` become ``x`` (so -0.0
    stays -0.0, where IEEE gives +0.0), ``0 - x`` becomes ``-x`` (0 - 0.0 gives -0.0)
    and ``1 / x`` becomes ``Reciprocal(x)``, which is not correctly rounded in
    float32. A constant broadcast to a run-time shape is not a known constant, so
    the IEEE operation numpy performs is kept.
    """
    tf = tf_module()
    return tf.broadcast_to(c, tf.shape(like))


def _binary(fn_name: str) -> LoweringFn:
    def lower(ctx: Lowering, node: Node, a: Value, b: Value) -> Value:
        tf = tf_module()
        dtype = node.type.dtype
        x, y = tv.cast(a, dtype), tv.cast(b, dtype)
        if tv.is_row(a) and not tv.is_row(b):
            y = _opaque(y, x)
        elif tv.is_row(b) and not tv.is_row(a):
            x = _opaque(x, y)
        return tv.result(getattr(tf.math, fn_name)(x, y), a, b)

    return lower


for _op, _fn in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("div", "truediv")]:
    lowering(_op)(_binary(_fn))


@lowering("neg")
def _neg(ctx: Lowering, node: Node, a: Value) -> Value:
    return tv.result(tf_module().math.negative(tv.values_of(a)), a)


@lowering("abs")
def _abs(ctx: Lowering, node: Node, a: Value) -> Value:
    return tv.result(tf_module().math.abs(tv.values_of(a)), a)


# -------------------------------------------------------------- comparisons

_COMPARE = {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}


@lowering(*_COMPARE)
def _compare(ctx: Lowering, node: Node, a: Value, b: Value) -> Value:
    tf = tf_module()
    ta, tb = (ctx.dtype_of(i) for i in node.inputs)
    dtype = ta if ta == tb else promote(ta, tb)
    return tv.result(
        getattr(tf.math, _COMPARE[node.op])(tv.cast(a, dtype), tv.cast(b, dtype)), a, b
    )


@lowering("and", "or")
def _logic(ctx: Lowering, node: Node, a: Value, b: Value) -> Value:
    tf = tf_module()
    fn = tf.logical_and if node.op == "and" else tf.logical_or
    return tv.result(fn(tv.values_of(a), tv.values_of(b)), a, b)


@lowering("not")
def _not(ctx: Lowering, node: Node, a: Value) -> Value:
    return tv.result(tf_module().logical_not(tv.values_of(a)), a)


# --------------------------------------------------------------------- math


@lowering("log1p", "sqrt", "exp", "sigmoid")
def _math(ctx: Lowering, node: Node, a: Value) -> Value:
    tf = tf_module()
    x = tv.cast(a, node.type.dtype)
    if node.op == "sqrt":
        return tv.result(tf.math.sqrt(x), a)  # IEEE: correctly rounded everywhere
    fn = tf.math.log1p if node.op == "log1p" else tf.math.exp
    if node.op == "sigmoid":
        # The numpy formula, not tf.sigmoid (which rounds differently); an opaque 1 so
        # that Grappler does not turn 1 / y into an inexact Reciprocal(y).
        one = _opaque(tf.constant(1, x.dtype), x)
        out = one / (one + _transcendental(fn, -x))
    else:
        out = _transcendental(fn, x)
    return tv.result(out, a)


def _transcendental(fn: Callable[[Any], Any], x: Any) -> Any:
    """``fn(x)``; float32 through float64, since Eigen's float32 log1p/exp are several ulp
    off (numpy's are within about 1 ulp of the correctly rounded value)."""
    tf = tf_module()
    if x.dtype == tf.float32:
        return tf.cast(fn(tf.cast(x, tf.float64)), tf.float32)
    return fn(x)


@lowering("clip")
def _clip(ctx: Lowering, node: Node, x: Value, lo: Value, hi: Value) -> Value:
    dtype = node.type.dtype
    out = _np_minimum(_np_maximum(tv.cast(x, dtype), tv.cast(lo, dtype)), tv.cast(hi, dtype))
    return tv.result(out, x)


def _np_maximum(a: Any, b: Any) -> Any:
    """numpy's ``maximum``: NaN propagates, a tie (0.0 vs -0.0) gives ``b``.

    ``tf.maximum`` answers a tie with either operand depending on the element's
    position in the vectorised kernel, so -0.0 vs 0.0 is not deterministic.
    """
    tf = tf_module()
    take_a = a > b
    if a.dtype.is_floating:
        take_a = tf.logical_or(take_a, tf.math.is_nan(a))
    return tf.where(take_a, a, b)


def _np_minimum(a: Any, b: Any) -> Any:
    """numpy's ``minimum``: NaN propagates, a tie gives ``b``."""
    tf = tf_module()
    take_a = a < b
    if a.dtype.is_floating:
        take_a = tf.logical_or(take_a, tf.math.is_nan(a))
    return tf.where(take_a, a, b)


@lowering("where")
def _where(ctx: Lowering, node: Node, cond: Value, a: Value, b: Value) -> Value:
    tf = tf_module()
    dtype = node.type.dtype
    c = tv.values_of(cond)
    values = tf.where(c, tv.cast(a, dtype), tv.cast(b, dtype))
    if not any(tv.is_row(v) for v in (cond, a, b)):
        return values
    n = tv.rows(cond, a, b)
    values = tf.broadcast_to(values, [n])

    def mask(v: Value) -> Any:
        if tv.is_row(v) and v.mask is not None:
            return v.mask
        return tf.zeros([n], tf.bool)

    chosen = tf.where(tf.broadcast_to(c, [n]), mask(a), mask(b))
    any_mask = any(tv.is_row(v) and v.mask is not None for v in (cond, a, b))
    return TfCol(values, tf.logical_or(mask(cond), chosen) if any_mask else None)


# ------------------------------------------------------------ missing values


@lowering("fill_missing")
def _fill_missing(ctx: Lowering, node: Node, x: Value, fill: Value) -> Value:
    tf = tf_module()
    dtype = node.type.dtype
    if not tv.is_row(x):
        missing = tf.reduce_any(tf.math.is_nan(x)) if dtype.is_float else tf.constant(False)
        return tf.where(missing, tv.cast(fill, dtype), x)
    missing = tv.missing(x, dtype)
    if missing is None:
        return TfCol(x.values)
    return TfCol(tf.where(missing, tv.cast(fill, dtype), x.values))


@lowering("is_missing")
def _is_missing(ctx: Lowering, node: Node, x: Value) -> Value:
    tf = tf_module()
    dtype = ctx.dtype_of(node.inputs[0])
    if not tv.is_row(x):
        return tf.reduce_any(tf.math.is_nan(x)) if dtype.is_float else tf.constant(False)
    missing = tv.missing(x, dtype)
    return TfCol(tf.zeros_like(x.values, tf.bool) if missing is None else missing)


# ----------------------------------------------------------------- buckets


@lowering("apply_buckets")
def _apply_buckets(ctx: Lowering, node: Node, x: Value, bounds: Any) -> Value:
    tf = tf_module()
    dtype = promote(*(ctx.dtype_of(i) for i in node.inputs))
    v = tv.cast(x, dtype)
    idx = tf.searchsorted(
        tv.cast(bounds, dtype)[tf.newaxis, :], v[tf.newaxis, :], side="right", out_type=tf.int64
    )[0]
    return tv.result(idx, x)


@lowering("one_hot")
def _one_hot(ctx: Lowering, node: Node, x: TfCol) -> Value:
    tf = tf_module()
    return TfCol(tf.one_hot(x.values, node.attr("depth"), dtype=tf.float32), x.mask)


# -------------------------------------------------------------------- casts


@lowering("cast")
def _cast_op(ctx: Lowering, node: Node, x: Value) -> Value:
    tf = tf_module()
    src, to = ctx.dtype_of(node.inputs[0]), node.type.dtype
    v = tv.values_of(x)
    if src is DType.STRING:
        return _parse_strings(x, to)
    if to is DType.STRING:
        return tv.result(_to_strings(v, src), x)
    if to is DType.INT64 and src.is_float:
        return tv.result(_float_to_int64(v), x)
    return tv.result(tf.cast(v, tf_dtype(to)), x)


def _float_to_int64(v: Any) -> Any:
    """Truncate toward zero; NaN -> 0; beyond the int64 range saturate (numpy semantics)."""
    tf = tf_module()
    v = tf.cast(v, tf.float64)
    limit = tf.constant(INT64_MAX_AS_FLOAT, tf.float64)
    safe = tf.where(tf.math.is_nan(v), tf.zeros_like(v), tf.clip_by_value(v, -limit, limit))
    too_big = safe >= limit
    # Casting 2**63 itself is undefined in C++: substitute before the cast.
    out = tf.cast(tf.where(too_big, tf.zeros_like(safe), safe), tf.int64)  # truncates
    return tf.where(too_big, tf.constant(np.iinfo(np.int64).max, tf.int64), out)


def _to_strings(v: Any, src: DType) -> Any:
    tf = tf_module()
    if src is DType.BOOL:
        return tf.where(v, tf.constant("true"), tf.constant("false"))
    return tf.strings.as_string(v)


def _parse_strings(x: Value, to: DType) -> Value:
    """Strings -> numbers: null where the text does not match the numpy parser's pattern."""
    tf = tf_module()
    s = tv.values_of(x)
    if to is DType.STRING:
        return tv.result(s, x)
    ok = tf.strings.regex_full_match(s, CAST_PATTERNS[to])
    if to is DType.BOOL:
        low = tf.strings.lower(s)
        parsed = tf.logical_or(tf.equal(low, "true"), tf.equal(low, "1"))
    else:
        if to is DType.INT64:
            ok = tf.logical_and(ok, _fits_int64(tf.where(ok, s, tf.constant("0"))))
        cleaned = tf.where(ok, s, tf.constant("0"))
        parsed = tf.strings.to_number(cleaned, tf_dtype(to))
    if not tv.is_row(x):
        return tf.where(ok, parsed, tf.constant(np.nan, parsed.dtype)) if to.is_float else parsed
    bad = tf.logical_not(ok)
    return TfCol(parsed, bad if x.mask is None else tf.logical_or(x.mask, bad))


def _fits_int64(s: Any) -> Any:
    """True where an integer literal (every row pattern-checked) fits in int64.

    Every string op here must be valid on every row: ``tf.where`` evaluates both
    branches, and ``tf.strings.substr`` fails on a position past a string's end. So
    the significant digits are left-padded to at least 19 characters before the
    last 19 are sliced off.
    """
    tf = tf_module()
    negative = tf.strings.regex_full_match(s, "-.*")
    digits = tf.strings.regex_replace(s, "^[+-]?0*", "")
    length = tf.strings.length(digits)
    padded = tf.strings.join([tf.fill(tf.shape(digits), "0" * 19), digits])
    nineteen = tf.fill(tf.shape(length), 19)
    last19 = tf.strings.substr(padded, length, nineteen)
    head = tf.strings.to_number(
        tf.strings.substr(last19, tf.zeros_like(length), nineteen - 1), tf.int64
    )
    last = tf.strings.to_number(
        tf.strings.substr(last19, nineteen - 1, tf.ones_like(length)), tf.int64
    )
    limit = tf.where(negative, tf.constant(8, tf.int64), tf.constant(7, tf.int64))
    top = tf.constant(922337203685477580, tf.int64)
    fits19 = tf.logical_or(head < top, tf.logical_and(head == top, last <= limit))
    return tf.logical_or(length < 19, tf.logical_and(length == 19, fits19))


# ------------------------------------------------------------------ strings


@lowering("lower")
def _lower(ctx: Lowering, node: Node, x: Value) -> Value:
    tf = tf_module()
    points = tf.strings.unicode_decode(tv.values_of(x), "UTF-8")
    mapped = ctx.tables["lower"].lookup(points.flat_values)
    lowered = tf.where(mapped < 0, points.flat_values, mapped)
    return tv.result(tf.strings.unicode_encode(points.with_flat_values(lowered), "UTF-8"), x)


@lowering("strip")
def _strip(ctx: Lowering, node: Node, x: Value) -> Value:
    return tv.result(tf_module().strings.strip(tv.values_of(x)), x)


@lowering("cross")
def _cross(ctx: Lowering, node: Node, *xs: Value) -> Value:
    tf = tf_module()
    n = tv.rows(*xs)
    parts = []
    for i, x in zip(node.inputs, xs, strict=True):
        dtype = ctx.dtype_of(i)
        v = tv.values_of(x) if dtype is DType.STRING else _to_strings(tv.values_of(x), dtype)
        parts.append(tf.broadcast_to(v, [n]))
    return tv.result(tf.strings.join(parts, separator=CROSS_SEPARATOR), *xs)


def _hash_buckets(strings: Any, buckets: int, op: str, skip: Any = None) -> Any:
    """murmur3 % buckets; fails (as numpy and ONNX do) on a string longer than
    `tskew.hashing.MAX_HASH_BYTES`, except in rows where ``skip`` is True (null, or in
    the vocabulary), which hash "" instead (their result is not used)."""
    from tskew.exporters.tf_strings import murmur3_32
    from tskew.hashing import MAX_HASH_BYTES, hash_length_message

    tf = tf_module()
    if skip is not None:
        strings = tf.where(skip, tf.constant(""), strings)
    check = tf.debugging.assert_less_equal(
        tf.strings.length(strings, unit="BYTE"),
        tf.constant(MAX_HASH_BYTES, tf.int32),
        message=hash_length_message(op),
    )
    with tf.control_dependencies([check]):
        strings = tf.identity(strings)
    return murmur3_32(strings) % buckets


@lowering("hash_strings")
def _hash_strings(ctx: Lowering, node: Node, x: Value) -> Value:
    skip = x.mask if tv.is_row(x) else None
    return tv.result(
        _hash_buckets(tv.values_of(x), node.attr("hash_buckets"), "hash_strings", skip), x
    )


@lowering("apply_vocabulary")
def _apply_vocabulary(ctx: Lowering, node: Node, x: Value, vocab: Any) -> Value:
    tf = tf_module()
    v = tv.values_of(x)
    table = ctx.tables[node.id]
    size = len(ctx.const_of(node.inputs[1]))
    unknown = _unknown_id(node, size)
    if table is None:
        ids = tf.fill(tf.shape(v, out_type=tf.int64), tf.constant(unknown, tf.int64))
    else:
        ids = table.lookup(v)  # unknown keys get `unknown` from the table itself
    n_oov = node.attr("num_oov_buckets", 0)
    if n_oov > 1:  # each unknown key hashes to one of the OOV ids
        keys = v if v.dtype == tf.string else tf.strings.as_string(v)
        skip = ids >= 0 if not tv.is_row(x) or x.mask is None else tf.logical_or(ids >= 0, x.mask)
        ids = tf.where(ids < 0, size + _hash_buckets(keys, n_oov, "apply_vocabulary", skip), ids)
    return tv.result(ids, x)
