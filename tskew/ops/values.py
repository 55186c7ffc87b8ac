"""Runtime values of the numpy executor, and the null-mask rules every backend shares.

A row value is a `Col`: ``values`` (a numpy array, or a pyarrow string array
for strings) plus ``mask`` (True where the value is null; ``None`` when no
row is null). Dataset values (analyzer results, constants) are plain numpy
arrays of dimension 0 (scalar) or 1 (vector); strings are object arrays.
TensorFlow's `TfCol` and ONNX's `OnnxCol` are the same pair over their own
tensors; `NullMasks` propagates nulls the same way for all three.

Example:
    >>> import numpy as np
    >>> c = Col(np.array([1.0, 2.0]), np.array([False, True]))
    >>> c.null_count, len(c)
    (1, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class Col:
    """One row-shaped value: values plus an optional null mask."""

    values: Any  # np.ndarray | pa.Array
    mask: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.values)

    @property
    def null_count(self) -> int:
        return 0 if self.mask is None else int(self.mask.sum())


Value = Col | np.ndarray


class NullMasks:
    """How row values carry nulls on one backend: ``row_type(values, mask)``, where the
    mask is True for null rows or None; a result is null wherever a row input is.

    Args:
        row_type: the backend's row value (`Col`, `TfCol`, `OnnxCol`).
        logical_or: ORs two masks with the backend's ops.
        nonempty: a combined mask, or None when the backend can tell it is all False.
        dataset: a result computed from dataset values only, in the backend's form.

    Example:
        >>> masks = NullMasks(Col, np.logical_or)
        >>> a = Col(np.zeros(2), np.array([True, False]))
        >>> b = Col(np.zeros(2), np.array([False, True]))
        >>> masks.mask_of(a, np.array(1.0), b).tolist()
        [True, True]
        >>> masks.result(np.ones(2), Col(np.zeros(2)), np.array(1.0))
        Col(values=array([1., 1.]), mask=None)
    """

    def __init__(
        self,
        row_type: type,
        logical_or: Callable[[Any, Any], Any],
        nonempty: Callable[[Any], Any] = lambda mask: mask,
        dataset: Callable[[Any], Any] = lambda values: values,
    ):
        self.row_type = row_type
        self.logical_or = logical_or
        self.nonempty = nonempty
        self.dataset = dataset

    def is_row(self, value: Any) -> bool:
        return isinstance(value, self.row_type)

    def values_of(self, value: Any) -> Any:
        """The values of a row value; a dataset value as it is."""
        return value.values if self.is_row(value) else value

    def mask_of(self, *values: Any) -> Any:
        """OR of the null masks of the row inputs (nulls propagate); None without one."""
        masks = [v.mask for v in values if self.is_row(v) and v.mask is not None]
        return self.nonempty(reduce(self.logical_or, masks)) if masks else None

    def result(self, values: Any, *inputs: Any, mask: Any = None) -> Any:
        """``values`` as a row value (null where ``mask``, by default where an input is) when
        any input is a row, else as a dataset value."""
        if any(self.is_row(v) for v in inputs):
            return self.row_type(values, self.mask_of(*inputs) if mask is None else mask)
        return self.dataset(values)


def _dataset(values: Any) -> np.ndarray:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return np.array(values.to_pylist(), dtype=object)
    if isinstance(values, pa.Scalar):
        return np.array(values.as_py(), dtype=object)
    return np.asarray(values)


MASKS = NullMasks(
    Col, np.logical_or, nonempty=lambda mask: mask if mask.any() else None, dataset=_dataset
)
data = MASKS.values_of
mask_of = MASKS.mask_of
result = MASKS.result


def as_arrow_strings(value: Value) -> pa.Array | pa.Scalar:
    """A string row value as an Arrow array, a dataset string as an Arrow scalar/array."""
    raw = data(value)
    if isinstance(raw, pa.Array | pa.ChunkedArray | pa.Scalar):
        return raw
    arr = np.asarray(raw, dtype=object)
    if arr.ndim == 0:
        return pa.scalar(arr.item(), type=pa.string())
    return pa.array(arr.tolist(), type=pa.string())


def arrow_to_numpy(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Arrow (non-string) values to numpy, nulls left as arbitrary filler."""
    if arr.null_count:
        arr = pc.fill_null(arr, False if pa.types.is_boolean(arr.type) else 0)
    return arr.to_numpy(zero_copy_only=False)
