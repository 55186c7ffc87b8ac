"""Turn a filled accumulator into an analyzer's frozen value.

Example:
    >>> import numpy as np
    >>> from tskew.ops.values import Col
    >>> acc = ValueCounts.create("int64").add(Col(np.arange(1, 100)))
    >>> quantile_boundaries(acc, 4).tolist()  # TFT's published case
    [25, 50, 75]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from tskew.analyzers.accumulators import MinMax, Moments, ValueCounts
from tskew.analyzers.distribution import Distribution
from tskew.errors import AnalyzeError
from tskew.schema import DType

# analyzer op -> accumulator kind that computes it (string inputs always use counts)
ACCUMULATOR_FOR = {
    "mean": "moments",
    "var": "moments",
    "sum": "moments",
    "size": "moments",
    "min": "minmax",
    "max": "minmax",
    "quantiles": "distribution",
    "quantile": "distribution",
    "vocabulary": "counts",
    "most_frequent": "counts",
}


def accumulator_kind(op: str, dtype: DType) -> str:
    kind = ACCUMULATOR_FOR[op]
    if dtype in (DType.STRING, DType.BOOL) and kind != "minmax":
        return "counts"  # string and bool values are always counted one by one
    return kind


def quantile_boundaries(acc: ValueCounts | Distribution, num_buckets: int) -> np.ndarray:
    """Boundary k = value at sorted position (k * n) // num_buckets, k = 1..num_buckets-1."""
    n = acc.total
    positions = np.array([(k * n) // num_buckets for k in range(1, num_buckets)], np.int64)
    return acc.value_at(positions)


def vocabulary(acc: ValueCounts, top_k: int | None, frequency_threshold: float | None):
    """Values by decreasing count, ties by decreasing value; threshold inclusive."""
    values, counts = acc.ranked()
    if frequency_threshold is not None:
        values = values[counts >= frequency_threshold]
    if top_k is not None:
        values = values[:top_k]
    return values


def extract(op: str, attrs: dict[str, Any], acc: Any, dtype: DType, what: str) -> np.ndarray:
    """The frozen value of analyzer ``op`` over input described by ``what``.

    Raises:
        AnalyzeError: when the analyzer saw no values it could use.
    """
    if op == "vocabulary":
        return vocabulary(acc, attrs.get("top_k"), attrs.get("frequency_threshold"))
    if op == "size":
        n = (
            acc.exact.count + acc.exact.posinf_count + acc.exact.neginf_count
            if isinstance(acc, Moments)
            else acc.total
        )
        return np.asarray(n, np.int64)
    if isinstance(acc, Moments):
        seen = acc.exact.count + acc.exact.posinf_count + acc.exact.neginf_count
        if seen == 0 and op != "sum":
            raise _no_values(op, what, acc.null_count + acc.exact.nan_count)
        if op == "mean":
            return np.asarray(acc.exact.mean(), np.float64)
        if op == "var":
            return np.asarray(acc.exact.variance(), np.float64)
        if dtype is DType.INT64:  # op == "sum"
            return np.asarray(_exact_int_sum(acc, what), np.int64)
        return np.asarray(acc.exact.total(), np.float64)
    if isinstance(acc, MinMax):
        value = acc.min if op == "min" else acc.max
        if value is None:
            raise _no_values(op, what, None)
        return np.asarray(value, dtype.numpy)
    if acc.total == 0:
        raise _no_values(op, what, acc.null_count + acc.nan_count)
    if op == "quantiles":
        return quantile_boundaries(acc, attrs["num_buckets"])
    if op == "quantile":
        position = min(acc.total - 1, int(Fraction(attrs["q"]) * acc.total))
        return acc.value_at(np.array([position]))[0:1].reshape(())
    if op == "most_frequent":
        return np.asarray(acc.ranked()[0][0], dtype=dtype.numpy)
    raise AnalyzeError(f"no extraction rule for analyzer {op!r}")


def _exact_int_sum(acc: Moments, what: str) -> int:
    total = acc.exact.exact_sum() if hasattr(acc.exact, "exact_sum") else int(acc.exact.total())
    if not -(2**63) <= total < 2**63:
        raise AnalyzeError(
            f"sum of {what} is {total}, which overflows int64; cast to float64 first"
        )
    return total


def _no_values(op: str, what: str, missing: int | None) -> AnalyzeError:
    detail = f" ({missing} missing/NaN values were skipped)" if missing else ""
    return AnalyzeError(
        f"analyzer {op} of {what} saw no values in the training data{detail}; "
        "check the data or fill missing values before analyzing (ts.fill_missing / ts.impute)"
    )
