"""Order-preserving unsigned integer keys for numbers.

Exact selection works on integers: every float64, float32 (widened exactly)
and int64 value maps to a ``uint64`` key whose unsigned order is the numeric
order, and back. NaN has no place in the order (callers drop it first), and
``-0.0`` must already be folded into ``0.0``.

Example:
    >>> import numpy as np
    >>> x = np.array([-np.inf, -2.5, 0.0, 1e-300, 3.0, np.inf])
    >>> k = order_keys(x)
    >>> bool(np.all(np.diff(k.astype(object)) > 0)), from_keys(k, np.dtype("float64")).tolist()
    (True, [-inf, -2.5, 0.0, 1e-300, 3.0, inf])
    >>> from_keys(order_keys(np.array([-5, 7])), np.dtype("int64")).tolist()
    [-5, 7]
"""

from __future__ import annotations

import numpy as np

SIGN = np.uint64(1 << 63)
ALL_ONES = np.uint64((1 << 64) - 1)


def order_keys(values: np.ndarray) -> np.ndarray:
    """uint64 keys, increasing with the values (floats without NaN, ints of any width)."""
    if values.dtype.kind == "f":
        bits = values.astype(np.float64, copy=False).view(np.int64)
        # negative floats: flip every bit (larger magnitude -> smaller key);
        # non-negative floats: set the sign bit (above every negative one)
        flip = (bits >> 63).view(np.uint64) | SIGN
        return bits.view(np.uint64) ^ flip
    return values.astype(np.int64, copy=False).view(np.uint64) ^ SIGN


def from_keys(keys: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The values of ``keys`` (the inverse of `order_keys`) in ``dtype``."""
    keys = np.asarray(keys, np.uint64)
    if dtype.kind == "f":
        flip = np.where((keys & SIGN) == 0, ALL_ONES, SIGN)
        return (keys ^ flip).view(np.float64).astype(dtype)
    return (keys ^ SIGN).view(np.int64).astype(dtype)
