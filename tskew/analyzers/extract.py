"""Turn a filled accumulator into an analyzer's frozen value: one function per analyzer.

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

Ranked = ValueCounts | Distribution  # accumulators that can tell the value at a sorted position


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


# Each analyzer's spec (`tskew.analyzers.defs`) names its extraction below:
# ``extract(attrs, acc, dtype, what)`` with ``what`` describing the input for errors.


def extract_mean(attrs: dict[str, Any], acc: Moments, dtype: DType, what: str) -> np.ndarray:
    _require_moments_values("mean", acc, what)
    return np.asarray(acc.exact.mean(), np.float64)


def extract_var(attrs: dict[str, Any], acc: Moments, dtype: DType, what: str) -> np.ndarray:
    _require_moments_values("var", acc, what)
    return np.asarray(acc.exact.variance(), np.float64)


def extract_sum(attrs: dict[str, Any], acc: Moments, dtype: DType, what: str) -> np.ndarray:
    """The exact sum (0 when no value was seen): int64 for int64 input, else float64."""
    if dtype is DType.INT64:
        return np.asarray(_exact_int_sum(acc, what), np.int64)
    return np.asarray(acc.exact.total(), np.float64)


def extract_size(attrs: dict[str, Any], acc: Moments | ValueCounts, dtype: DType, what: str):
    """Non-missing values: counted by moments for numbers, by value counts otherwise."""
    if isinstance(acc, Moments):
        return np.asarray(_moments_seen(acc), np.int64)
    return np.asarray(acc.total, np.int64)


def extract_min(attrs: dict[str, Any], acc: MinMax, dtype: DType, what: str) -> np.ndarray:
    if acc.min is None:
        raise _no_values("min", what, None)
    return np.asarray(acc.min, dtype.numpy)


def extract_max(attrs: dict[str, Any], acc: MinMax, dtype: DType, what: str) -> np.ndarray:
    if acc.max is None:
        raise _no_values("max", what, None)
    return np.asarray(acc.max, dtype.numpy)


def extract_quantiles(attrs: dict[str, Any], acc: Ranked, dtype: DType, what: str):
    _require_ranked_values("quantiles", acc, what)
    return quantile_boundaries(acc, attrs["num_buckets"])


def extract_quantile(attrs: dict[str, Any], acc: Ranked, dtype: DType, what: str):
    """The value at sorted position floor(q * n) (exact: q as a fraction)."""
    _require_ranked_values("quantile", acc, what)
    position = min(acc.total - 1, int(Fraction(attrs["q"]) * acc.total))
    return acc.value_at(np.array([position]))[0:1].reshape(())


def extract_vocabulary(attrs: dict[str, Any], acc: ValueCounts, dtype: DType, what: str):
    return vocabulary(acc, attrs.get("top_k"), attrs.get("frequency_threshold"))


def extract_most_frequent(attrs: dict[str, Any], acc: Ranked, dtype: DType, what: str):
    _require_ranked_values("most_frequent", acc, what)
    return np.asarray(acc.ranked()[0][0], dtype=dtype.numpy)


def _moments_seen(acc: Moments) -> int:
    return acc.exact.count + acc.exact.posinf_count + acc.exact.neginf_count


def _require_moments_values(op: str, acc: Moments, what: str) -> None:
    if _moments_seen(acc) == 0:
        raise _no_values(op, what, acc.null_count + acc.exact.nan_count)


def _require_ranked_values(op: str, acc: Ranked, what: str) -> None:
    if acc.total == 0:
        raise _no_values(op, what, acc.null_count + acc.nan_count)


def _exact_int_sum(acc: Moments, what: str) -> int:
    total = acc.exact.exact_sum() if hasattr(acc.exact, "exact_sum") else int(acc.exact.total())
    if not -(2**63) <= total < 2**63:
        raise AnalyzeError(
            f"sum of {what} is {total}, which overflows int64; cast to float64 first"
        )
    return total


# What TFT returns where tskew refuses (an analyzer that saw no value), for the error.
_TFT_EMPTY = {
    "mean": "0",
    "var": "0",
    "min": "+inf",
    "max": "-inf",
    "quantiles": "all-zero boundaries",
}


def _no_values(op: str, what: str, missing: int | None) -> AnalyzeError:
    """The error of an analyzer that saw no value; says what TFT returns and how to get it."""
    detail = f" ({missing} missing/NaN values were skipped)" if missing else ""
    tft = _TFT_EMPTY.get(op)
    like_tft = (
        f" TFT would return {tft} here; tskew refuses because a statistic of no values usually "
        "means wrong training data (a misspelled column, a filter that dropped every value)."
        if tft
        else ""
    )
    return AnalyzeError(
        f"analyzer {op} of {what} saw no values in the training data{detail};{like_tft} "
        "Check the data, or fill missing values before analyzing (ts.fill_missing / ts.impute): "
        "the statistics of ts.fill_missing(x, 0.0) are defined when every value is missing "
        "(mean, var and quantiles 0, as in TFT)"
    )
