"""String ops: lower, strip, cross, hashing, vocabulary lookup, string casts.

Row strings are pyarrow arrays (vectorised by ``pyarrow.compute``); the
executor never loops over rows in Python.

Example:
    >>> import pyarrow as pa
    >>> from tskew.interpreter import apply_op
    >>> from tskew.ops.values import Col
    >>> apply_op("lower", Col(pa.array(["ÄB", "c"]))).values.to_pylist()
    ['äb', 'c']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tskew.errors import TraceError
from tskew.ir.nodes import Node
from tskew.ir.types import Shape, ValueType
from tskew.ops.registry import Attr, OpList
from tskew.ops.typing import any_nullable, broadcast_shape, require, require_scalar_row
from tskew.ops.values import Col, Value, as_arrow_strings, mask_of, result
from tskew.schema import DType

CROSS_SEPARATOR = "_X_"  # TFT's (tf.sparse.cross) separator between crossed values
SPECS = OpList()


def _string_unary_type(op: str):
    def infer(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
        (x,) = ts
        require(x, (DType.STRING,), op)
        require_scalar_row(x, op)
        return x

    return infer


@SPECS.op("lower", _string_unary_type("lower"), dsl="lower")
def lower(ctx: Any, node: Node, x: Value) -> Value:
    """Unicode simple lower-case mapping, code point by code point."""
    return result(pc.utf8_lower(as_arrow_strings(x)), x)


@SPECS.op("strip", _string_unary_type("strip"), dsl="strip")
def strip(ctx: Any, node: Node, x: Value) -> Value:
    """Remove leading and trailing ASCII whitespace (space, \\t, \\n, \\v, \\f, \\r)."""
    return result(pc.ascii_trim_whitespace(as_arrow_strings(x)), x)


def _cross_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    if len(ts) < 2:
        raise TraceError("cross: needs at least two features")
    for t in ts:
        require(t, (DType.STRING, DType.INT64, DType.BOOL), "cross")
        require_scalar_row(t, "cross")
    return ValueType(DType.STRING, any_nullable(ts), broadcast_shape(ts, "cross"))


@SPECS.op("cross", _cross_type, dsl="cross")
def cross(ctx: Any, node: Node, *xs: Value) -> Value:
    """Join the string forms of the inputs with "_X_" (e.g. "3_X_Mon")."""
    parts = [as_arrow_strings(_to_string_values(x)) for x in xs]
    out = pc.binary_join_element_wise(*parts, CROSS_SEPARATOR)
    return result(out, *xs)


def _hash_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    (x,) = ts
    require(x, (DType.STRING,), "hash_strings")
    require_scalar_row(x, "hash_strings")
    buckets = attrs.get("hash_buckets")
    if not isinstance(buckets, int) or buckets < 1:
        raise TraceError(f"hash_strings: hash_buckets must be a positive int, got {buckets!r}")
    return x.with_(dtype=DType.INT64)


@SPECS.op(
    "hash_strings",
    _hash_type,
    dsl="hash_strings",
    categorical=True,
    attrs={"hash_buckets": Attr(int)},
)
def hash_strings(ctx: Any, node: Node, x: Value) -> Value:
    """MurmurHash3_x86_32(utf-8 bytes, seed 0) % hash_buckets (see tskew.hashing)."""
    from tskew.hashing import hash_to_buckets

    strings = _null_free(as_arrow_strings(x))
    check_hash_lengths(strings, "hash_strings", mask_of(x))
    return result(hash_to_buckets(strings, node.attr("hash_buckets")), x)


def check_hash_lengths(strings: Any, op: str, skip: np.ndarray | None = None) -> None:
    """Refuse a string longer than `tskew.hashing.MAX_HASH_BYTES` (rows in ``skip`` aside).

    Raises:
        DataError: naming the op, the row and the limit.
    """
    from tskew.errors import DataError
    from tskew.hashing import MAX_HASH_BYTES, hash_length_message

    if isinstance(strings, pa.Scalar):
        strings = pa.array([strings.as_py()], pa.string())
    if isinstance(strings, pa.ChunkedArray):
        strings = strings.combine_chunks()
    lengths = pc.binary_length(strings).fill_null(0).to_numpy(zero_copy_only=False)
    too_long = lengths > MAX_HASH_BYTES
    if skip is not None:
        too_long &= ~np.broadcast_to(skip, too_long.shape)
    if too_long.any():
        row = int(np.argmax(too_long))
        raise DataError(f"{hash_length_message(op)} (row {row}: {int(lengths[row])} bytes)")


def _vocab_type(ts: list[ValueType], attrs: dict[str, Any]) -> ValueType:
    x, vocab = ts
    require(x, (DType.STRING, DType.INT64), "apply_vocabulary")
    require_scalar_row(x, "apply_vocabulary")
    if vocab.shape is not Shape.VECTOR or vocab.dtype != x.dtype:
        raise TraceError(
            f"apply_vocabulary: vocabulary must be a vector of {x.dtype} "
            f"(a list or ts.vocabulary(x)), got {vocab!r}"
        )
    oov = attrs.get("num_oov_buckets", 0)
    if not isinstance(oov, int) or oov < 0:
        raise TraceError(f"apply_vocabulary: num_oov_buckets must be an int >= 0, got {oov!r}")
    if not isinstance(attrs.get("default_value", -1), int):
        raise TraceError("apply_vocabulary: default_value must be an int")
    return x.with_(dtype=DType.INT64)


@SPECS.op(
    "apply_vocabulary",
    _vocab_type,
    dsl="apply_vocabulary",
    categorical=True,
    attrs={
        "num_oov_buckets": Attr(int, required=False),
        "default_value": Attr(int, required=False),
    },
)
def apply_vocabulary(ctx: Any, node: Node, x: Value, vocab: np.ndarray) -> Value:
    """Index of x in the vocabulary; out-of-vocabulary values go to
    len(vocab) + hash(x) % num_oov_buckets, or default_value when there are no
    OOV buckets (TFT's rule; the hash is tskew's MurmurHash3)."""
    from tskew.hashing import hash_to_buckets

    is_str = ctx.dtype_of(node.inputs[0]) is DType.STRING
    values = (
        as_arrow_strings(x)
        if is_str
        else pa.array(np.asarray(x.values if isinstance(x, Col) else x))
    )
    vocab_arr = pa.array(vocab.tolist(), type=pa.string()) if is_str else pa.array(vocab)
    found = pc.index_in(values, value_set=vocab_arr)
    ids = np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    oov = ids < 0
    if oov.any():
        n_oov = node.attr("num_oov_buckets", 0)
        if n_oov:
            keys = _null_free(values if is_str else pc.cast(values, pa.string()))
            mask = mask_of(x)
            check_hash_lengths(keys, "apply_vocabulary", ~oov if mask is None else ~oov | mask)
            hashed = hash_to_buckets(keys, n_oov)
            ids = np.where(oov, len(vocab) + hashed, ids)
        else:
            ids[oov] = node.attr("default_value", -1)
    return result(ids, x)


# ------------------------------------------------------------------ casts


def _to_string_values(x: Value) -> Value:
    raw = x.values if isinstance(x, Col) else x
    if isinstance(raw, pa.Array | pa.ChunkedArray) or np.asarray(raw).dtype == object:
        return x
    return cast_to_string(x)


def cast_to_string(x: Value) -> Value:
    """int64 -> decimal text, bool -> "true"/"false"."""
    raw = np.asarray(x.values if isinstance(x, Col) else x)
    if raw.ndim == 0:
        item = raw.item()
        text = ("true" if item else "false") if isinstance(item, bool) else str(item)
        return result(np.array(text, dtype=object))
    return result(pc.cast(pa.array(raw), pa.string()), x)


# The text a string -> number cast accepts; every backend matches these same patterns.
CAST_PATTERNS = {
    DType.INT64: r"^[+-]?[0-9]+$",
    DType.FLOAT32: (
        r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
        r"|^[+-]?(?i:inf|infinity|nan)$"
    ),
    DType.BOOL: r"^(?i:true|false|1|0)$",
}
CAST_PATTERNS[DType.FLOAT64] = CAST_PATTERNS[DType.FLOAT32]


def cast_from_string(x: Value, to: DType) -> Value:
    """Parse strings; a value that does not parse (or overflows) becomes null."""
    strings = _null_free(as_arrow_strings(x))
    if to is DType.STRING:
        return result(strings, x)
    if isinstance(strings, pa.Scalar):
        strings = pa.array([strings.as_py()], type=pa.string())
    ok = pc.match_substring_regex(strings, CAST_PATTERNS[to]).to_numpy(zero_copy_only=False)
    cleaned = pc.if_else(ok, strings, pa.scalar("0"))
    if to is DType.BOOL:
        cleaned = pc.utf8_lower(cleaned)
    try:
        parsed = pc.cast(cleaned, to.arrow).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:  # int64 overflow in some value: parse one by one
        parsed, ok = _parse_ints_slowly(cleaned, ok)
    bad = ~ok
    if not isinstance(x, Col):
        return np.asarray(parsed[0]) if ok[0] else np.asarray(np.nan)
    mask = mask_of(x)
    mask = bad if mask is None else (mask | bad)
    return Col(np.asarray(parsed), mask if mask.any() else None)


def _parse_ints_slowly(strings: pa.Array, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = np.zeros(len(strings), np.int64)
    ok = ok.copy()
    lo, hi = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    for i, s in enumerate(strings.to_pylist()):
        if ok[i]:
            v = int(s)
            if lo <= v <= hi:
                out[i] = v
            else:
                ok[i] = False
    return out, ok


def _null_free(arr: pa.Array | pa.Scalar) -> pa.Array | pa.Scalar:
    if isinstance(arr, pa.Scalar):
        return arr if arr.is_valid else pa.scalar("", type=pa.string())
    return pc.fill_null(arr, "") if arr.null_count else arr
