"""Streaming serving-side counts, binned on the training baseline's own bins.

Memory is flat in rows: a numeric feature keeps fixed-size bin counts (training
histogram bins, percentile slots) and moments; a categorical one keeps a count
per distinct serving value.

Example:
    >>> import pyarrow as pa
    >>> import tskew as ts
    >>> tfn = ts.analyze(lambda i: {"y": i["x"] * 1.0}, {"x": [0.0, 10.0]})
    >>> acc = NumericAccumulator(tfn.statistics.inputs["x"])
    >>> acc.add(pa.array([5.0, 20.0, None]), violations=0)
    >>> acc.count, acc.missing, acc.above
    (3, 1, 1)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tskew.statistics import FeatureStatistics


class _Common:
    """Counts every feature has: rows, missing (null or NaN), dtype violations."""

    def __init__(self, baseline: FeatureStatistics):
        self.baseline = baseline
        self.count = 0
        self.missing = 0
        self.violations = 0

    @property
    def present(self) -> int:
        return self.count - self.missing

    def _merge_common(self, other: _Common) -> None:
        self.count += other.count
        self.missing += other.missing
        self.violations += other.violations


class NumericAccumulator(_Common):
    """Serving counts on the training histogram edges and percentile points."""

    kind = "numeric"

    def __init__(self, baseline: FeatureStatistics):
        super().__init__(baseline)
        hist = baseline.histogram
        self.edges = np.array([b[0] for b in hist] + [hist[-1][1]] if hist else [], np.float64)
        self.points = np.array(baseline.percentiles, np.float64)
        self.bins = np.zeros(max(len(self.edges) - 1, 0), np.int64)
        self.below = self.above = 0  # finite values outside the training histogram range
        self.posinf = self.neginf = self.nan = 0
        self.finite_min, self.finite_max = np.inf, -np.inf
        # slots[k]: values in (points[k-1], points[k]]; the last slot: above the maximum.
        self.slots = np.zeros(len(self.points) + 1, np.int64)
        self.min, self.max = np.inf, -np.inf

    def add(self, values: pa.Array, violations: int) -> None:
        """Fold one batch of typed values (nulls = missing or violations)."""
        self.count += len(values)
        self.violations += violations
        v = np.asarray(
            values.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False), np.float64
        )
        present = v[~np.isnan(v)]
        self.missing += len(v) - len(present)
        self.nan += int(np.count_nonzero(np.isnan(v))) - values.null_count
        if len(present):
            self._add_present(*_distinct(present))

    def _add_present(self, x: np.ndarray, weight: np.ndarray | None) -> None:
        """Bin values ``x`` (each counted ``weight`` times; None = once)."""

        def count(mask: np.ndarray) -> int:
            return int(mask.sum() if weight is None else weight[mask].sum())

        def binned(idx: np.ndarray, size: int) -> np.ndarray:
            return np.bincount(idx, weights=weight, minlength=size).astype(np.int64)

        self.min, self.max = min(self.min, x.min()), max(self.max, x.max())
        self.posinf += count(x == np.inf)
        self.neginf += count(x == -np.inf)
        self.slots += binned(np.searchsorted(self.points, x, side="left"), len(self.slots))
        finite = np.isfinite(x)
        if finite.any():
            self.finite_min = min(self.finite_min, float(x[finite].min()))
            self.finite_max = max(self.finite_max, float(x[finite].max()))
        if len(self.edges):
            lo, hi = self.edges[0], self.edges[-1]
            self.below += count(finite & (x < lo))
            self.above += count(finite & (x > hi))
            inside = finite & (x >= lo) & (x <= hi)
            idx = np.searchsorted(self.edges, x[inside], side="right") - 1
            idx = np.clip(idx, 0, len(self.bins) - 1)
            w = None if weight is None else weight[inside]
            self.bins += np.bincount(idx, weights=w, minlength=len(self.bins)).astype(np.int64)

    def merge(self, other: NumericAccumulator) -> None:
        """Add another accumulator's counts (same baseline)."""
        self._merge_common(other)
        self.bins += other.bins
        self.slots += other.slots
        self.below += other.below
        self.above += other.above
        self.posinf += other.posinf
        self.neginf += other.neginf
        self.nan += other.nan
        self.min, self.max = min(self.min, other.min), max(self.max, other.max)
        self.finite_min = min(self.finite_min, other.finite_min)
        self.finite_max = max(self.finite_max, other.finite_max)

    def cdf(self) -> np.ndarray:
        """Share of present serving values <= each training percentile point."""
        n = self.slots.sum()
        return np.cumsum(self.slots[:-1]) / n if n else np.full(len(self.points), np.nan)


class CategoricalAccumulator(_Common):
    """A count per distinct serving value."""

    kind = "categorical"

    def __init__(self, baseline: FeatureStatistics):
        super().__init__(baseline)
        self.counts: Counter[Any] = Counter()

    def add(self, values: pa.Array, violations: int) -> None:
        self.count += len(values)
        self.violations += violations
        present = values.drop_null()
        if pa.types.is_floating(values.type):
            present = present.filter(pc.invert(pc.is_nan(present)))
        self.missing += len(values) - len(present)
        if len(present):
            vc = pc.value_counts(present)
            self.counts.update(
                dict(
                    zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True)
                )
            )

    def merge(self, other: CategoricalAccumulator) -> None:
        """Add another accumulator's counts (same baseline)."""
        self._merge_common(other)
        self.counts.update(other.counts)


def _distinct(x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(distinct values, their counts) when values repeat a lot, else (x, None).

    Serving features repeat (delays, hours, distances): binning the distinct values
    with counts as weights is several times cheaper than binning every row.
    """
    counted = pc.value_counts(pa.array(x))
    if len(counted) > len(x) // 4:
        return x, None
    return (
        np.asarray(counted.field("values"), np.float64),
        np.asarray(counted.field("counts"), np.float64),
    )


def accumulator_for(
    baseline: FeatureStatistics, categorical: bool
) -> NumericAccumulator | CategoricalAccumulator:
    """The accumulator a feature's kind needs (numeric needs a histogram in the baseline)."""
    if categorical or not baseline.histogram:
        return CategoricalAccumulator(baseline)
    return NumericAccumulator(baseline)
