"""Runtime values of the numpy executor.

A row value is a `Col`: ``values`` (a numpy array, or a pyarrow string array
for strings) plus ``mask`` (True where the value is null; ``None`` when no
row is null). Dataset values (analyzer results, constants) are plain numpy
arrays of dimension 0 (scalar) or 1 (vector); strings are object arrays.

Example:
    >>> import numpy as np
    >>> c = Col(np.array([1.0, 2.0]), np.array([False, True]))
    >>> c.null_count, len(c)
    (1, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
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


def is_row(value: Value) -> bool:
    return isinstance(value, Col)


def data(value: Value) -> Any:
    """The raw values of a row or dataset value."""
    return value.values if isinstance(value, Col) else value


def mask_of(*values: Value) -> np.ndarray | None:
    """OR of the null masks of the row inputs (nulls propagate)."""
    masks = [v.mask for v in values if isinstance(v, Col) and v.mask is not None]
    if not masks:
        return None
    out = masks[0].copy()
    for m in masks[1:]:
        out |= m
    return out if out.any() else None


def result(values: Any, *inputs: Value, mask: np.ndarray | None = None) -> Value:
    """Wrap ``values`` as a row value when any input is a row, else as dataset value."""
    if any(isinstance(v, Col) for v in inputs):
        return Col(values, mask_of(*inputs) if mask is None else mask)
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return np.array(values.to_pylist(), dtype=object)
    if isinstance(values, pa.Scalar):
        return np.array(values.as_py(), dtype=object)
    return np.asarray(values)


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
