"""Per-feature statistics of the training data, for inputs and outputs.

They are the baseline the skew detector compares serving data with, and a
readable summary in ``print(transform_fn)``.

Example:
    >>> import numpy as np
    >>> from tskew.analyzers.accumulators import Moments, ValueCounts
    >>> from tskew.ops.values import Col
    >>> col = Col(np.array([1.0, 2.0, 3.0, np.nan]), np.array([0, 0, 0, 1], bool))
    >>> s = FeatureStatistics.from_accumulators("x", "float64",
    ...     ValueCounts.create("float64").add(col), Moments().add(col))
    >>> s.count, s.missing, s.mean, s.quantiles[5]
    (4, 1, 2.0, 2.0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tskew.analyzers.accumulators import Moments, ValueCounts
from tskew.analyzers.distinct import RELATIVE_ERROR
from tskew.analyzers.distribution import Distribution
from tskew.schema import DType

NUM_QUANTILES = 10  # deciles: boundaries at k*n//10, plus min and max
TOP_VALUES = 10  # for float features, whose values rarely repeat
TOP_CATEGORIES = 1000  # for string, bool and int64 features: the skew baseline's categories
HISTOGRAM_BINS = 10  # equal-width bins between the finite min and max (TFDV's standard histogram)
PERCENTILES = 100  # exact percentiles: the grid of the KS, Wasserstein and PSI comparisons


def distribution_ranks(n: int) -> list[int]:
    """Sorted positions the numeric statistics read: percentiles (deciles among them), max.

    Example:
        >>> distribution_ranks(3)
        [0, 1, 2]
    """
    if n == 0:
        return []
    return sorted({min(n - 1, (k * n) // PERCENTILES) for k in range(PERCENTILES)} | {n - 1})


@dataclass
class FeatureStatistics:
    """Summary of one feature over the training data.

    Attributes:
        count: rows seen (including missing ones).
        missing: null values. ``nan``: NaN values (floats only).
        num_distinct: distinct non-missing values; for a numeric feature with more than
            `tskew.analyzers.distribution.EXACT_LIMIT` distinct values, a HyperLogLog
            estimate whose relative standard error is ``num_distinct_error`` (0: exact).
        min, max, mean, std: over non-missing values (numeric features).
        quantiles: exact deciles, [min, q10, ..., q90, max] (numeric features).
        top_values: most frequent values with counts (TFT's vocabulary order); up to
            `TOP_CATEGORIES` for string/bool/int64 features, `TOP_VALUES` for floats; none
            for numeric features with more distinct values than are counted exactly.
        other_count: non-missing values outside ``top_values``.
        posinf, neginf: infinite values (floats).
        histogram: ``[low, high, count]`` buckets, `HISTOGRAM_BINS` of equal width over the
            finite values (numeric features).
        percentiles: exact values at sorted positions ``k * n // 100`` (k = 0..99) and the
            maximum; ``percentile_cdf``: the share of values <= each of them.
    """

    name: str
    dtype: str
    count: int = 0
    missing: int = 0
    nan: int = 0
    num_distinct: int = 0
    num_distinct_error: float = 0.0
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    quantiles: list[Any] = field(default_factory=list)
    top_values: list[tuple[Any, int]] = field(default_factory=list)
    other_count: int = 0
    posinf: int = 0
    neginf: int = 0
    histogram: list[list[Any]] = field(default_factory=list)
    percentiles: list[Any] = field(default_factory=list)
    percentile_cdf: list[float] = field(default_factory=list)

    @classmethod
    def from_accumulators(
        cls,
        name: str,
        dtype: str,
        counts: ValueCounts | Distribution,
        moments: Moments | None = None,
    ) -> FeatureStatistics:
        stats = cls(name, dtype)
        n = counts.total
        stats.missing, stats.nan = counts.null_count, counts.nan_count
        stats.count = n + stats.missing + stats.nan
        if isinstance(counts, Distribution) and not counts.exact:
            stats.num_distinct = counts.num_distinct()
            stats.num_distinct_error = round(RELATIVE_ERROR, 4)
            stats.other_count = n
        else:
            stats.num_distinct = len(counts.counts)
            values, freq = counts.ranked()
            k = TOP_VALUES if DType(dtype).is_float else TOP_CATEGORIES
            top = zip(values[:k], freq[:k], strict=True)
            stats.top_values = [(_py(v), int(c)) for v, c in top]
            stats.other_count = int(freq[k:].sum())
        if DType(dtype).is_numeric and n:
            positions = [min(n - 1, (k * n) // NUM_QUANTILES) for k in range(NUM_QUANTILES)]
            qs = counts.value_at(np.array([*positions, n - 1]))
            stats.quantiles = [_py(v) for v in qs]
            stats.min, stats.max = stats.quantiles[0], stats.quantiles[-1]
            _add_distribution(stats, counts)
        if moments is not None and (
            moments.exact.count or moments.exact.posinf_count or moments.exact.neginf_count
        ):
            stats.mean = moments.exact.mean()
            var = moments.exact.variance()
            stats.std = math.sqrt(var) if var == var else float("nan")
        return stats

    def to_json(self) -> dict:
        out = asdict(self)
        out["top_values"] = [[_enc(v), c] for v, c in self.top_values]
        for key in ("min", "max", "mean", "std"):
            out[key] = _enc(out[key])
        out["quantiles"] = [_enc(v) for v in self.quantiles]
        out["percentiles"] = [_enc(v) for v in self.percentiles]
        return out

    @classmethod
    def from_json(cls, obj: dict) -> FeatureStatistics:
        obj = dict(obj)
        obj["top_values"] = [(_dec(v), int(c)) for v, c in obj["top_values"]]
        for key in ("min", "max", "mean", "std"):
            obj[key] = _dec(obj[key])
        obj["quantiles"] = [_dec(v) for v in obj["quantiles"]]
        obj["percentiles"] = [_dec(v) for v in obj.get("percentiles", [])]
        return cls(**obj)

    def summary(self) -> str:
        """One line, e.g. ``fare float64: 15002 rows, 0 missing, mean 11.6, std 11.8``."""
        parts = [f"{self.count} rows", f"{self.missing} missing"]
        if self.nan:
            parts.append(f"{self.nan} NaN")
        if self.mean is not None:
            parts.append(f"mean {self.mean:.6g}, std {self.std:.6g}")
        if self.quantiles:
            parts.append(f"min {self.min:.6g}, median {self.quantiles[5]:.6g}, max {self.max:.6g}")
        if self.top_values and not DType(self.dtype).is_float:
            top = ", ".join(f"{v!r}:{c}" for v, c in self.top_values[:3])
            about = "about " if self.num_distinct_error else ""
            parts.append(f"{about}{self.num_distinct} distinct (top {top})")
        return f"{self.name} {self.dtype}: " + ", ".join(parts)


@dataclass
class DatasetStatistics:
    """Statistics of the training data: per raw input and per output feature."""

    num_rows: int
    inputs: dict[str, FeatureStatistics]
    outputs: dict[str, FeatureStatistics]
    bad_records: int = 0

    def to_json(self) -> dict:
        return {
            "num_rows": self.num_rows,
            "bad_records": self.bad_records,
            "inputs": {k: v.to_json() for k, v in self.inputs.items()},
            "outputs": {k: v.to_json() for k, v in self.outputs.items()},
        }

    @classmethod
    def from_json(cls, obj: dict) -> DatasetStatistics:
        return cls(
            obj["num_rows"],
            {k: FeatureStatistics.from_json(v) for k, v in obj["inputs"].items()},
            {k: FeatureStatistics.from_json(v) for k, v in obj["outputs"].items()},
            obj.get("bad_records", 0),
        )

    def __getitem__(self, name: str) -> FeatureStatistics:
        """Statistics of an output feature, else of a raw input."""
        if name in self.outputs:
            return self.outputs[name]
        return self.inputs[name]

    def to_pandas(self):
        """One row per feature (inputs then outputs) as a pandas DataFrame."""
        import pandas as pd

        rows = [
            {"role": role, **{k: v for k, v in s.to_json().items() if k != "top_values"}}
            for role, group in (("input", self.inputs), ("output", self.outputs))
            for s in group.values()
        ]
        return pd.DataFrame(rows)


def _add_distribution(stats: FeatureStatistics, counts: ValueCounts | Distribution) -> None:
    """Histogram, percentiles and their CDF: the numeric skew baseline, all exact."""
    n = counts.total
    positions = np.array([min(n - 1, (k * n) // PERCENTILES) for k in range(PERCENTILES)] + [n - 1])
    points = counts.value_at(positions)
    stats.percentiles = [_py(v) for v in points]
    if isinstance(counts, Distribution) and not counts.exact:
        stats.posinf, stats.neginf = counts.posinf, counts.neginf
        at_or_below = counts.count_at_or_below(positions)
        stats.percentile_cdf = [float(c) / n for c in at_or_below]
        search = counts.search
        if search.histogram is not None:
            edges, binned = search.edges, search.histogram
            stats.histogram = [
                [float(edges[i]), float(edges[i + 1]), int(binned[i])]
                for i in range(len(edges) - 1)
            ]
        return
    values, freq = counts.values, counts.counts
    finite = np.isfinite(values)
    stats.posinf = int(freq[values == np.inf].sum()) if values.dtype.kind == "f" else 0
    stats.neginf = int(freq[values == -np.inf].sum()) if values.dtype.kind == "f" else 0
    cumulative = np.cumsum(freq)
    at_or_below = np.searchsorted(values, points, side="right")
    stats.percentile_cdf = [float(cumulative[i - 1]) / n if i else 0.0 for i in at_or_below]
    if finite.any():
        lo, hi = float(values[finite][0]), float(values[finite][-1])
        edges = histogram_edges(lo, hi)
        # Bucket i holds edges[i] <= x < edges[i+1]; the last bucket also holds its upper edge.
        idx = np.clip(np.searchsorted(edges, values[finite], side="right") - 1, 0, len(edges) - 2)
        binned = np.bincount(idx, weights=freq[finite], minlength=len(edges) - 1)
        stats.histogram = [
            [float(edges[i]), float(edges[i + 1]), int(binned[i])] for i in range(len(edges) - 1)
        ]


def histogram_edges(lo: float, hi: float) -> np.ndarray:
    """`HISTOGRAM_BINS` + 1 equal-width edges over [lo, hi] (one zero-width bin when lo == hi).

    Example:
        >>> histogram_edges(0.0, 10.0)[:3].tolist()
        [0.0, 1.0, 2.0]
    """
    if lo == hi:
        return np.array([lo, hi])
    return np.linspace(lo, hi, HISTOGRAM_BINS + 1)


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _enc(v: Any) -> Any:
    """JSON-safe: non-finite floats as {"float": "nan" | "inf" | "-inf"}."""
    if isinstance(v, float) and not math.isfinite(v):
        return {"float": repr(v)}
    return v


def _dec(v: Any) -> Any:
    if isinstance(v, dict):
        return float(v["float"])
    return v
