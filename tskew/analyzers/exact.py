"""Exact, order-independent sums for mean and variance.

Floating-point addition is not associative, so a sum that depends on the
order or batching of rows would break tskew's promise of bit-identical
statistics. `ExactMoments` therefore keeps the sum and the sum of squares of
the finite values as exact integers (scaled by a fixed power of two) and
rounds once, when a result is asked for.

How: every float64 is ``M * 2**(e - 53)`` with an integer mantissa ``M``
(``np.frexp``). Mantissas are split into limbs small enough that numpy can
add many of them per exponent with ``np.bincount`` without any rounding
(float64 adds integers below 2**53 exactly); the per-exponent totals are then
shifted into one Python int. Squares use 18-bit limbs, whose pairwise
products are grouped by degree.

Example:
    >>> import numpy as np
    >>> acc = ExactMoments().add(np.array([1e16, 1.0, -1e16, np.nan]))
    >>> acc.total(), acc.count, acc.nan_count
    (1.0, 3, 1)
    >>> ExactMoments().add(np.arange(1, 101)).variance()
    833.25
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_BIAS = 1100  # offset keeping exponent indexes k (see _float_parts) non-negative
_SCALE = _BIAS + 53  # value = M * 2**(k - _SCALE) with k = exponent + _BIAS
_EXACT_LIMIT = (1 << 53) - 1  # float64 adds integers exactly below this
_MAX_ADD = 1 << 24  # per block: at most 2**24 / 2**14 chunks, int64 holds 1024 totals < 2**53
_SMALL_INT = 1 << 19  # 2**24 values of (2**19)**2 sum below 2**63 in int64
_INT_EXACT = 1 << 53


def _float_parts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sign, integer mantissa (|M| < 2**53) and exponent index of finite float64 values.

    Read straight from the IEEE bits: x = sign * M * 2**(k - _SCALE).
    """
    bits = x.view(np.int64)
    exp_bits = (bits >> 52) & 0x7FF  # arithmetic shift: the mask drops the sign
    normal = exp_bits != 0
    # implicit leading bit for normal numbers; subnormals have none
    mant = (bits & ((1 << 52) - 1)) | (normal.view(np.int8).astype(np.int64) << 52)
    k = np.maximum(exp_bits, 1) + (_BIAS - 1075 + 53)  # subnormals share exponent 1
    sign = np.copysign(1.0, x)
    return sign, mant, k


def _sum_by_bin(values: np.ndarray, rel: np.ndarray, span: int, shift: int) -> int:
    """Exact ``sum(values[i] << (rel[i] + shift))`` as a Python int.

    float64 ``bincount`` adds integers exactly while totals stay below 2**53,
    so the block is cut into chunks that cannot exceed that; chunk totals are
    gathered in int64 (``_MAX_ADD`` values per call keep those in range).
    """
    biggest = int(np.abs(values).max(initial=0))  # values hold exact integers
    if biggest == 0:
        return 0
    chunk = max(1, _EXACT_LIMIT // biggest)
    totals = np.zeros(span, np.int64)
    for start in range(0, len(values), chunk):
        part = np.bincount(
            rel[start : start + chunk], weights=values[start : start + chunk], minlength=span
        )
        totals += part.astype(np.int64)
    out = 0
    for k in np.flatnonzero(totals):
        out += int(totals[k]) << (int(k) + shift)
    return out


class ExactMoments:
    """Mergeable exact count, sum and sum of squares of numeric values.

    NaN values are skipped and counted in ``nan_count``; infinities are
    counted (``posinf_count``, ``neginf_count``) and kept out of the exact sums,
    then applied to the results the way IEEE arithmetic would.
    """

    def __init__(self) -> None:
        self.count = 0
        self.nan_count = 0
        self.posinf_count = 0
        self.neginf_count = 0
        self._s1 = 0  # sum of values * 2**_SCALE
        self._s2 = 0  # sum of squares * 2**(2*_SCALE)

    # ---------------------------------------------------------------- folding
    def add(self, values: np.ndarray) -> ExactMoments:
        """Fold in a 1-D array of floats, ints or bools; returns self."""
        arr = np.asarray(values)
        if arr.dtype == bool:
            arr = arr.astype(np.int64)
        if arr.dtype.kind in "iu":
            self._add_ints(arr)
            return self
        arr = arr.astype(np.float64, copy=False)
        finite = np.isfinite(arr)
        if not finite.all():
            nan = np.isnan(arr)
            self.nan_count += int(nan.sum())
            self.posinf_count += int((arr == np.inf).sum())
            self.neginf_count += int((arr == -np.inf).sum())
            arr = arr[finite]
        self.count += len(arr)
        if len(arr):
            self._add_floats(arr)
        return self

    def _add_floats(self, arr: np.ndarray) -> None:
        for start in range(0, len(arr), _MAX_ADD):  # keeps int64 chunk totals in range
            self._add_float_block(arr[start : start + _MAX_ADD])

    def _add_float_block(self, arr: np.ndarray) -> None:
        if self._add_small_integers(arr):
            return
        sign, mag, k = _float_parts(arr)
        low = int(k.min())
        rel = k - low
        span = int(rel.max()) + 1
        # Limbs as float64 (exact: all below 2**27), so bincount needs no conversion.
        # sum: |M| = hi * 2**26 + lo
        self._s1 += _sum_by_bin((mag & ((1 << 26) - 1)) * sign, rel, span, low)
        self._s1 += _sum_by_bin((mag >> 26) * sign, rel, span, low + 26)
        # squares: |M| = a2 * 2**36 + a1 * 2**18 + a0; M**2 grouped by degree of 2**18
        a0 = (mag & 0x3FFFF).astype(np.float64)
        a1 = ((mag >> 18) & 0x3FFFF).astype(np.float64)
        a2 = (mag >> 36).astype(np.float64)
        rel2 = 2 * rel
        degrees = (a0 * a0, 2 * a0 * a1, 2 * a0 * a2 + a1 * a1, 2 * a1 * a2, a2 * a2)
        for d, terms in enumerate(degrees):
            self._s2 += _sum_by_bin(terms, rel2, 2 * span - 1, 2 * low + 18 * d)

    def _add_small_integers(self, arr: np.ndarray) -> bool:
        """Fast path for integral values below 2**19 (counts, ids, delays): int64 sums
        are exact here. Returns False when the block does not qualify."""
        if np.abs(arr).max(initial=0) >= _SMALL_INT:
            return False
        ints = arr.astype(np.int64)
        if not np.array_equal(ints, arr):
            return False
        self._s1 += int(ints.sum()) << _SCALE
        self._s2 += int(np.dot(ints, ints)) << (2 * _SCALE)
        return True

    def _add_ints(self, arr: np.ndarray) -> None:
        self.count += len(arr)
        if not len(arr):
            return
        lo, hi = int(arr.min()), int(arr.max())
        if lo > -_INT_EXACT and hi < _INT_EXACT:
            self._add_floats(arr.astype(np.float64))  # exact: every |v| < 2**53
            return
        # Beyond float64's exact integers (e.g. nanosecond timestamps): Python ints.
        ints = [int(v) for v in arr.tolist()]
        self._s1 += sum(ints) << _SCALE
        self._s2 += sum(v * v for v in ints) << (2 * _SCALE)

    # ---------------------------------------------------------------- merging
    def merge(self, other: ExactMoments) -> ExactMoments:
        """A new accumulator for both inputs (neither is modified)."""
        out = ExactMoments()
        out.count = self.count + other.count
        out.nan_count = self.nan_count + other.nan_count
        out.posinf_count = self.posinf_count + other.posinf_count
        out.neginf_count = self.neginf_count + other.neginf_count
        out._s1 = self._s1 + other._s1
        out._s2 = self._s2 + other._s2
        return out

    @classmethod
    def merge_all(cls, accs: Any) -> ExactMoments:
        out = cls()
        for acc in accs:
            out = out.merge(acc)
        return out

    # ---------------------------------------------------------------- results
    def _inf_result(self) -> float | None:
        if self.posinf_count and self.neginf_count:
            return math.nan
        if self.posinf_count:
            return math.inf
        if self.neginf_count:
            return -math.inf
        return None

    def exact_sum(self) -> int | float:
        """The exact sum as a Python int when it is integral, else a float."""
        q, r = divmod(self._s1, 1 << _SCALE)
        return q if r == 0 else self.total()

    def total(self) -> float:
        """Correctly rounded sum of the finite values (IEEE rules for infinities)."""
        inf = self._inf_result()
        if inf is not None:
            return inf
        return _divide(self._s1, 1 << _SCALE)

    def mean(self) -> float:
        """Correctly rounded mean; NaN when no value was seen."""
        inf = self._inf_result()
        if inf is not None:
            return inf
        if self.count == 0:
            return math.nan
        return _divide(self._s1, self.count << _SCALE)

    def variance(self) -> float:
        """Population variance (ddof=0), rounded once; NaN with infinities or no values."""
        if self.count == 0 or self._inf_result() is not None:
            return math.nan
        n = self.count
        numerator = n * self._s2 - self._s1 * self._s1
        return _divide(numerator, (n * n) << (2 * _SCALE))

    # ---------------------------------------------------------- serialisation
    def to_json(self) -> dict:
        return {
            "count": self.count,
            "nan_count": self.nan_count,
            "posinf_count": self.posinf_count,
            "neginf_count": self.neginf_count,
            "s1": hex(self._s1),
            "s2": hex(self._s2),
        }

    @classmethod
    def from_json(cls, obj: dict) -> ExactMoments:
        out = cls()
        out.count, out.nan_count = int(obj["count"]), int(obj["nan_count"])
        out.posinf_count, out.neginf_count = int(obj["posinf_count"]), int(obj["neginf_count"])
        out._s1, out._s2 = int(obj["s1"], 16), int(obj["s2"], 16)
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExactMoments) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"ExactMoments(count={self.count}, mean={self.mean()!r})"


def _divide(numerator: int, denominator: int) -> float:
    """numerator / denominator correctly rounded, overflowing to +-inf."""
    try:
        return numerator / denominator
    except OverflowError:
        return math.inf if (numerator > 0) == (denominator > 0) else -math.inf
