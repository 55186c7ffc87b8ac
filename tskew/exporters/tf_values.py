"""TensorFlow values of the lowering: `TfCol` (values + null mask) and its helpers.

A row value is a `TfCol`, exactly as the numpy executor's `Col`; dataset values
are plain tensors. Nulls propagate by the rules of `tskew.ops.values.NullMasks`.
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
from tskew.ops.values import NullMasks
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
MASKS = NullMasks(TfCol, lambda a, b: tf_module().logical_or(a, b))
values_of = MASKS.values_of
is_row = MASKS.is_row
mask_of = MASKS.mask_of
result = MASKS.result


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
