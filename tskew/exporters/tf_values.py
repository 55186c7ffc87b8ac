"""TensorFlow values of the lowering: `TfCol` (values + null mask) and its helpers.

A row value is a `TfCol`, exactly as the numpy executor's `Col`; dataset values
are plain tensors. The helpers combine null masks the way the numpy rules do.
TensorFlow is imported lazily: it is an optional dependency (``tskew[tf]``).

Example:
    >>> tf = tf_module()
    >>> a = TfCol(tf.constant([1.0, 2.0]), tf.constant([False, True]))
    >>> b = TfCol(tf.constant([3.0, 4.0]), tf.constant([True, False]))
    >>> mask_of(a, b).numpy().tolist(), mask_of(a, tf.constant(1.0)).numpy().tolist()
    ([True, True], [False, True])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tskew.exporters.common import optional_import
from tskew.schema import DType


def tf_module() -> Any:
    """``import tensorflow`` with an actionable error when it is not installed."""
    return optional_import("tensorflow", "exporting to TensorFlow", "tf")


def tf_dtype(dtype: DType) -> Any:
    """The TensorFlow dtype holding a tskew dtype."""
    tf = tf_module()
    return {
        DType.FLOAT32: tf.float32,
        DType.FLOAT64: tf.float64,
        DType.INT64: tf.int64,
        DType.STRING: tf.string,
        DType.BOOL: tf.bool,
    }[dtype]


@dataclass
class TfCol:
    """A row value in the TF lowering: values plus a bool mask (True = null) or None."""

    values: Any
    mask: Any = None


Value = Any  # TfCol | tf.Tensor (dataset value)


def values_of(v: Value) -> Any:
    """The tensor of a row or dataset value."""
    return v.values if isinstance(v, TfCol) else v


def is_row(v: Value) -> bool:
    return isinstance(v, TfCol)


def mask_of(*vals: Value) -> Any:
    """OR of the null masks of the row inputs (nulls propagate); None when none has one."""
    tf = tf_module()
    masks = [v.mask for v in vals if isinstance(v, TfCol) and v.mask is not None]
    if not masks:
        return None
    out = masks[0]
    for m in masks[1:]:
        out = tf.logical_or(out, m)
    return out


def result(values: Any, *inputs: Value, mask: Any = None) -> Value:
    """``values`` as a row value when any input is one (with their nulls), else a tensor."""
    if any(is_row(v) for v in inputs):
        return TfCol(values, mask_of(*inputs) if mask is None else mask)
    return values


def cast(v: Value, dtype: DType) -> Any:
    """The tensor of ``v`` in ``dtype`` (no op when it already is)."""
    tf = tf_module()
    x = values_of(v)
    return x if x.dtype == tf_dtype(dtype) else tf.cast(x, tf_dtype(dtype))


def rows(*vals: Value) -> Any:
    """The batch size (int64) of the first row value among ``vals``."""
    tf = tf_module()
    row = next(v for v in vals if is_row(v))
    return tf.shape(row.values, out_type=tf.int64)[0]


def missing(x: TfCol, dtype: DType) -> Any:
    """True where x is null or (for floats) NaN; None when it can't be."""
    tf = tf_module()
    mask = x.mask
    if dtype.is_float:
        nan = tf.math.is_nan(x.values)
        mask = nan if mask is None else tf.logical_or(mask, nan)
    return mask
