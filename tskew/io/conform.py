"""Make Arrow batches match a schema exactly, reporting values that cannot.

Every batch leaving `tskew.io` has the schema's columns, in order, with the
schema's Arrow types. Text (CSV) is parsed strictly: "1.5" is not an int64,
"abc" is not a float; such rows are bad records, never coerced.

Example:
    >>> import pyarrow as pa
    >>> from tskew.schema import Schema
    >>> log = BadRecordLog("skip")
    >>> out = conform(pa.table({"n": ["1", "x", None]}), Schema({"n": "int64"}), "t.csv",
    ...               log, lambda i: (i + 2, ""))
    >>> out.column("n").to_pylist(), log.count
    ([1, None], 1)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tskew.errors import DataError, SchemaError
from tskew.io.bad_records import BadRecord, BadRecordLog
from tskew.schema import DType, Schema, unknown_name_message

# Locate a row of the batch: (1-based line in the source or None, raw text or "").
Locator = Callable[[int], tuple[int | None, str]]

_FLOAT_TEXT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$|^[+-]?(?i:inf|infinity|nan)$"
# Text that parses as each non-string dtype (also used to infer a CSV column's type).
TEXT_PATTERNS = {
    DType.INT64: r"^[+-]?[0-9]+$",
    DType.FLOAT32: _FLOAT_TEXT,
    DType.BOOL: r"^(?i:true|false|1|0)$",
}
TEXT_PATTERNS[DType.FLOAT64] = TEXT_PATTERNS[DType.FLOAT32]
_INF_TEXT = r"^[+-]?(?i:inf|infinity)$"


def _is_stringy(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


# Text that means "missing" in a numeric or bool column (R's and pandas' spellings).
# In a string column it stays text: "NA" may be Namibia.
NULL_TOKENS = ("NA", "N/A", "n/a", "null", "NULL", "None", "#N/A", "<NA>")


def parse_strings(arr: pa.Array, dtype: DType) -> tuple[pa.Array, np.ndarray]:
    """Parse text strictly into ``dtype``; returns (values, bad-row mask).

    Nulls and `NULL_TOKENS` become null; anything else that does not parse is bad.
    """
    arr = arr.cast(pa.string())
    arr = pc.if_else(pc.is_in(arr, pa.array(NULL_TOKENS)), pa.scalar(None, pa.string()), arr)
    valid = pc.match_substring_regex(arr, TEXT_PATTERNS[dtype])
    bad = np.asarray(pc.and_(pc.invert(valid), pc.is_valid(arr)).fill_null(False))
    cleaned = pc.if_else(valid, arr, pa.scalar(None, pa.string()))
    if dtype is DType.BOOL:
        cleaned = pc.utf8_lower(cleaned)
    try:
        values = pc.cast(cleaned, dtype.arrow)
    except pa.ArrowInvalid:  # an int64 that overflows: find it the slow way
        return _parse_big_ints(cleaned, bad)
    if dtype.is_float and pc.any(pc.is_inf(values)).as_py():
        # "1e400" parses to inf: an overflow, unless the text spells infinity
        spelled = pc.match_substring_regex(cleaned, _INF_TEXT)
        over = pc.and_(pc.is_inf(values), pc.invert(spelled)).fill_null(False)
        bad |= np.asarray(over)
        values = pc.if_else(over, pa.scalar(None, dtype.arrow), values)
    return values, bad


def _parse_big_ints(cleaned: pa.Array, bad: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    ints = []
    for i, text in enumerate(cleaned.to_pylist()):
        v = None if text is None else int(text)
        if v is not None and not -(2**63) <= v < 2**63:
            bad[i], v = True, None
        ints.append(v)
    return pa.array(ints, pa.int64()), bad


def convert(arr: pa.Array, dtype: DType, feature: str, source: str) -> tuple[pa.Array, np.ndarray]:
    """Convert one column to ``dtype``; returns (values, bad-row mask)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    no_bad = np.zeros(len(arr), bool)
    t = arr.type
    if pa.types.is_null(t):
        return pa.nulls(len(arr), dtype.arrow), no_bad
    if t == dtype.arrow:
        return arr, no_bad
    if dtype is DType.STRING:
        if _is_stringy(t):
            return arr.cast(pa.string()), no_bad
        raise _type_error(
            feature,
            source,
            t,
            dtype,
            "convert it to text first, e.g. "
            "df[col].astype(str), or declare the feature with its own type",
        )
    if _is_stringy(t):
        return parse_strings(arr, dtype)
    if dtype is DType.BOOL:
        if pa.types.is_boolean(t):
            return arr, no_bad
        raise _type_error(feature, source, t, dtype, "declare it int64 or compare it, e.g. x == 1")
    if pa.types.is_boolean(t):
        raise _type_error(feature, source, t, dtype, "declare the feature as bool")
    if pa.types.is_integer(t):
        if dtype is DType.INT64 and pa.types.is_uint64(t):
            too_big = np.asarray(pc.greater(arr, pa.scalar(2**63 - 1, t)).fill_null(False))
            arr = pc.if_else(pa.array(too_big), pa.scalar(None, t), arr)
            return arr.cast(pa.int64()), too_big
        return arr.cast(dtype.arrow, safe=False), no_bad
    if pa.types.is_floating(t):
        if dtype.is_float:
            return arr.cast(dtype.arrow, safe=False), no_bad
        values = np.asarray(arr.fill_null(0.0).to_numpy(zero_copy_only=False), np.float64)
        with np.errstate(invalid="ignore"):
            bad = ~((values == np.trunc(values)) & (np.abs(values) < 2.0**63))
        bad &= np.asarray(arr.is_valid())
        safe = np.where(bad, 0.0, values).astype(np.int64)
        return pa.array(safe, pa.int64(), mask=np.asarray(arr.is_null()) | bad), bad
    raise _type_error(feature, source, t, dtype, "convert timestamps/dates to int64 or strings")


def _type_error(feature: str, source: str, got: pa.DataType, want: DType, fix: str) -> SchemaError:
    return SchemaError(
        f"feature {feature!r} in {source} has Arrow type {got}, but the schema says {want}; {fix}"
    )


def conform(
    table: pa.Table | pa.RecordBatch,
    schema: Schema,
    source: str,
    log: BadRecordLog,
    locate: Locator,
    rows: int | np.ndarray = 0,
) -> pa.Table:
    """Select, order and convert columns to ``schema``; bad rows are reported and dropped.

    Args:
        table: the rows as read.
        schema: the types to convert to.
        source: the file or data, for messages.
        log: where bad rows go.
        locate: row index -> (line, raw text) for messages.
        rows: each row's 0-based position in ``source``: an array, or the position of
            the first row (the others follow it).
    """
    names = table.schema.names
    arrays, bad = [], np.zeros(table.num_rows, bool)
    reasons: dict[int, str] = {}
    for name, ftype in schema.items():
        if name not in names:
            raise SchemaError(
                f"{source}: "
                + unknown_name_message("feature", name, names).replace(
                    "unknown feature", "missing feature", 1
                )
            )
        values, col_bad = convert(table.column(name), ftype.dtype, name, source)
        if col_bad.any():
            raw_values = table.column(name).to_pylist()
            for i in np.flatnonzero(col_bad & ~bad):
                reasons[int(i)] = (
                    f"feature {name!r}: {raw_values[i]!r} is not a valid {ftype.dtype}"
                )
            bad |= col_bad
        if not ftype.nullable and values.null_count:
            nulls = np.asarray(values.is_null()) & ~bad
            for i in np.flatnonzero(nulls):
                reasons[int(i)] = (
                    f"feature {name!r} is missing, but the schema declares it "
                    "non-nullable (declare it nullable and use ts.fill_missing)"
                )
            bad |= nulls
        arrays.append(values)
    out = pa.Table.from_arrays(arrays, names=list(schema))
    if not bad.any():
        return out
    for i in sorted(reasons):
        line, raw = locate(i)
        row = int(rows[i]) if isinstance(rows, np.ndarray) else rows + i
        where = "" if line is not None else f"row {row}: "
        log.report(BadRecord(source, line, where + reasons[i], raw, row))
    return out.filter(pa.array(~bad))


__all__ = ["BadRecordLog", "DataError", "conform", "convert", "parse_strings"]
