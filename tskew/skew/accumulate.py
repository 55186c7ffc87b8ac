"""Streaming serving-side counts, binned on the training baseline's own bins.

Memory is flat in rows: a numeric feature keeps fixed-size bin counts (training
histogram bins, percentile slots) and moments; a categorical one keeps a count
per distinct serving value. Both follow `tskew.analyzers.accumulators.Accumulator`:
``create(baseline)``, ``add`` (in place: the hot path of `tskew.SkewMonitor`), a pure
``merge`` that returns a new accumulator, and ``to_json`` / ``from_json(obj, baseline)``.

Example:
    >>> import pyarrow as pa
    >>> import tskew as ts
    >>> tfn = ts.analyze(lambda i: {"y": i["x"] * 1.0}, {"x": [0.0, 10.0]})
    >>> acc = NumericAccumulator.create(tfn.statistics.inputs["x"])
    >>> acc = acc.add(pa.array([5.0, 20.0, None]), violations=0)
    >>> acc.count, acc.missing, acc.above
    (3, 1, 1)
    >>> both = acc.merge(acc)
    >>> both.count, acc.count  # merge leaves its inputs alone
    (6, 3)
    >>> NumericAccumulator.from_json(both.to_json(), acc.baseline).to_json() == both.to_json()
    True
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Self

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tskew.statistics import FeatureStatistics


class _Common:
    """Counts every feature has: rows, missing (null or NaN), dtype violations."""

    kind = ""

    def __init__(self, baseline: FeatureStatistics):
        self.baseline = baseline
        self.count = 0
        self.missing = 0
        self.violations = 0

    @classmethod
    def create(cls, baseline: FeatureStatistics) -> Self:
        """The empty accumulator of a feature, binned on its training ``baseline``."""
        return cls(baseline)

    @property
    def present(self) -> int:
        return self.count - self.missing

    def _merged_common(self, other: _Common) -> Self:
        """A new accumulator on the same baseline with both common counts summed."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {other.kind} skew counts into {self.kind} ones")
        if other.baseline is not self.baseline and other.baseline.name != self.baseline.name:
            raise ValueError(
                f"cannot merge the skew counts of {self.baseline.name!r} with those of "
                f"{other.baseline.name!r}: merge the accumulators of one feature"
            )
        out = type(self)(self.baseline)
        out.count = self.count + other.count
        out.missing = self.missing + other.missing
        out.violations = self.violations + other.violations
        return out

    def _common_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "missing": self.missing,
            "violations": self.violations,
        }

    @classmethod
    def _from_common_json(cls, obj: dict[str, Any], baseline: FeatureStatistics) -> Self:
        if obj.get("kind") != cls.kind:
            raise ValueError(f"not the state of a {cls.kind} skew accumulator: {obj.get('kind')!r}")
        out = cls(baseline)
        out.count, out.missing, out.violations = obj["count"], obj["missing"], obj["violations"]
        return out


# Scalar counts of a numeric accumulator beyond the common ones, and its float extremes.
_NUMERIC_COUNTS = ("below", "above", "posinf", "neginf", "nan")
_NUMERIC_EXTREMES = ("min", "max", "finite_min", "finite_max")


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

    def add(self, values: pa.Array, violations: int = 0) -> Self:
        """Fold one batch of typed values (nulls = missing or violations) in place."""
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
        return self

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

    def merge(self, other: NumericAccumulator) -> NumericAccumulator:
        """A new accumulator with both accumulators' counts (same baseline)."""
        out = self._merged_common(other)
        out.bins = self.bins + other.bins
        out.slots = self.slots + other.slots
        for name in _NUMERIC_COUNTS:
            setattr(out, name, getattr(self, name) + getattr(other, name))
        out.min, out.max = min(self.min, other.min), max(self.max, other.max)
        out.finite_min = min(self.finite_min, other.finite_min)
        out.finite_max = max(self.finite_max, other.finite_max)
        return out

    def to_json(self) -> dict[str, Any]:
        """The counts, JSON-safe (extremes as exact float hex); the baseline is not included."""
        return {
            **self._common_json(),
            **{name: getattr(self, name) for name in _NUMERIC_COUNTS},
            "bins": self.bins.tolist(),
            "slots": self.slots.tolist(),
            **{name: float(getattr(self, name)).hex() for name in _NUMERIC_EXTREMES},
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any], baseline: FeatureStatistics) -> NumericAccumulator:
        """The accumulator `to_json` described, on the same training ``baseline``."""
        out = cls._from_common_json(obj, baseline)
        for name in _NUMERIC_COUNTS:
            setattr(out, name, obj[name])
        out.bins = np.array(obj["bins"], np.int64).reshape(out.bins.shape)
        out.slots = np.array(obj["slots"], np.int64).reshape(out.slots.shape)
        for name in _NUMERIC_EXTREMES:
            setattr(out, name, float.fromhex(obj[name]))
        return out

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

    def add(self, values: pa.Array, violations: int = 0) -> Self:
        """Fold one batch of typed values (nulls = missing or violations) in place."""
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
        return self

    def merge(self, other: CategoricalAccumulator) -> CategoricalAccumulator:
        """A new accumulator with both accumulators' counts (same baseline).

        Values keep their first-seen order (it breaks ties between equal counts in the
        categories drawn), as if ``other``'s batches had been added after ``self``'s.
        """
        out = self._merged_common(other)
        out.counts = Counter(self.counts)
        out.counts.update(other.counts)
        return out

    def to_json(self) -> dict[str, Any]:
        """The counts as ``[value, count]`` pairs in first-seen order; no baseline."""
        return {**self._common_json(), "counts": [[v, c] for v, c in self.counts.items()]}

    @classmethod
    def from_json(cls, obj: dict[str, Any], baseline: FeatureStatistics) -> CategoricalAccumulator:
        """The accumulator `to_json` described, on the same training ``baseline``."""
        out = cls._from_common_json(obj, baseline)
        out.counts = Counter({value: count for value, count in obj["counts"]})
        return out


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
        return CategoricalAccumulator.create(baseline)
    return NumericAccumulator.create(baseline)
