"""Mergeable accumulators (combiners) behind every analyzer and statistic.

Each accumulator follows the `Accumulator` protocol (Beam's combiner protocol), so
the same code runs in ``ts.analyze`` and in ``tskew.beam``:

* ``create(dtype)``: the empty accumulator,
* ``add(col)``: fold in one batch (a `Col`; nulls are skipped and counted),
* ``merge(other)``: a new accumulator for the union of both inputs,
* ``to_json()`` / ``from_json()``: a JSON-safe state (no pickling).

The skew detector's accumulators (`tskew.skew.accumulate`) follow the same protocol.

Results never depend on row order or batching: sums are exact
(`ExactMoments`), strings are counted per distinct value, and numbers go to a
bounded `tskew.analyzers.distribution.Distribution`.

Example:
    >>> import numpy as np
    >>> from tskew.ops.values import Col
    >>> a = ValueCounts.create("float64").add(Col(np.array([3.0, 1.0, np.nan])))
    >>> b = ValueCounts.create("float64").add(Col(np.array([1.0, 2.0])))
    >>> m = a.merge(b)
    >>> m.values.tolist(), m.counts.tolist(), m.nan_count
    ([1.0, 2.0, 3.0], [2, 1, 1], 1)
"""

from __future__ import annotations

import base64
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tskew.analyzers.distribution import Distribution, sorted_value_at
from tskew.analyzers.exact import ExactMoments
from tskew.ops.values import Col
from tskew.schema import DType

_COMPACT_EVERY = 16  # pending batch summaries merged into one every N batches


@runtime_checkable
class Accumulator(Protocol):
    """A mergeable summary of a stream of batches: what every accumulator implements.

    Analyzer accumulators (`Moments`, `ValueCounts`, `MinMax`, `Distribution`) and the skew
    detector's (`tskew.skew.accumulate`) alike. ``create`` takes what the accumulator is
    for (a dtype name, or a feature's training statistics); ``add`` folds one batch in and
    returns the accumulator; ``merge`` returns a **new** accumulator for the union of both
    inputs and leaves them as they were, so a merged state can never alias a live one;
    ``to_json`` / ``from_json`` give a JSON-safe state (``from_json`` takes the same extra
    context ``create`` took, if it is not in the state).

    Example:
        >>> all(isinstance(c.create("float64"), Accumulator) for c in ACCUMULATORS.values())
        True
    """

    kind: str

    @classmethod
    def create(cls, spec: Any, /) -> Self: ...

    def add(self, batch: Any, /) -> Self: ...

    def merge(self, other: Self, /) -> Self: ...

    def to_json(self) -> Any: ...

    @classmethod
    def from_json(cls, obj: Any, /, *context: Any) -> Self: ...


def present_values(col: Col) -> tuple[Any, int]:
    """The non-null values of a column and the number of nulls skipped."""
    if col.mask is None:
        return col.values, 0
    keep = ~col.mask
    values = (
        col.values.filter(pa.array(keep))
        if isinstance(col.values, pa.Array)
        else (col.values[keep])
    )
    return values, int(col.mask.sum())


class Moments:
    """Exact count, sum and sum of squares (for mean, var, sum, size)."""

    kind = "moments"

    def __init__(self, exact: ExactMoments | None = None, null_count: int = 0):
        self.exact = exact if exact is not None else ExactMoments()
        self.null_count = null_count

    @classmethod
    def create(cls, dtype: str) -> Moments:
        return cls()

    def add(self, col: Col) -> Moments:
        values, nulls = present_values(col)
        self.exact.add(np.asarray(values))
        self.null_count += nulls
        return self

    def merge(self, other: Moments) -> Moments:
        return Moments(self.exact.merge(other.exact), self.null_count + other.null_count)

    def to_json(self) -> dict:
        return {"exact": self.exact.to_json(), "null_count": self.null_count}

    @classmethod
    def from_json(cls, obj: dict) -> Moments:
        return cls(ExactMoments.from_json(obj["exact"]), obj["null_count"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Moments) and self.to_json() == other.to_json()


class ValueCounts:
    """Count per distinct value (quantiles, vocabularies, modes, statistics).

    Memory grows with the number of distinct values, not rows. Float -0.0 is
    counted as 0.0 so that results do not depend on which zero came first.
    """

    kind = "counts"

    def __init__(self, dtype: str):
        self.dtype = DType(dtype)
        self.null_count = 0
        self.nan_count = 0
        self._pending: list[tuple[Any, np.ndarray]] = []
        self._values: Any = None
        self._counts = np.zeros(0, np.int64)
        self._mostly_distinct = False

    @classmethod
    def create(cls, dtype: str) -> ValueCounts:
        return cls(dtype)

    # -- folding in data
    def add(self, col: Col) -> ValueCounts:
        values, nulls = present_values(col)
        self.null_count += nulls
        if self.dtype is DType.STRING:
            vc = pc.value_counts(values)
            summary = (vc.field("values"), np.asarray(vc.field("counts"), np.int64))
        else:
            arr = np.asarray(values)
            if self.dtype.is_float:
                nan = np.isnan(arr)
                self.nan_count += int(nan.sum())
                arr = arr[~nan] + arr.dtype.type(0.0)  # -0.0 + 0.0 == +0.0
            summary = self._count_numbers(arr)
        self._pending.append(summary)
        if len(self._pending) >= _COMPACT_EVERY:
            self._compact()
        return self

    def _count_numbers(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Hash counting is O(n) and wins when values repeat (delays, ids, buckets);
        # sorting wins when most values are distinct. Pick per column, adaptively.
        if not self._mostly_distinct:
            vc = pc.value_counts(pa.array(arr))
            keys = np.asarray(vc.field("values"))
            self._mostly_distinct = len(keys) > len(arr) // 2
            return keys, np.asarray(vc.field("counts"), np.int64)
        uniq, counts = np.unique(arr, return_counts=True)
        return uniq, counts.astype(np.int64)

    def merge(self, other: ValueCounts) -> ValueCounts:
        out = ValueCounts(self.dtype.value)
        out.null_count = self.null_count + other.null_count
        out.nan_count = self.nan_count + other.nan_count
        out._pending = [*self._parts(), *other._parts()]
        out._compact()
        return out

    def _parts(self) -> list[tuple[Any, np.ndarray]]:
        parts = list(self._pending)
        if self._values is not None:
            parts.append((self._values, self._counts))
        return parts

    def _compact(self) -> None:
        parts = self._parts()
        self._pending = []
        if not parts:
            return
        if self.dtype is DType.STRING:
            keys = pa.concat_arrays([pa.array(p[0], type=pa.string()) for p in parts])
            counts = np.concatenate([p[1] for p in parts])
            grouped = pa.table({"v": keys, "c": counts}).group_by("v").aggregate([("c", "sum")])
            order = pc.sort_indices(grouped, sort_keys=[("v", "ascending")])
            grouped = grouped.take(order)
            self._values = grouped.column("v").combine_chunks()
            self._counts = np.asarray(grouped.column("c_sum"), np.int64)
        else:
            keys = np.concatenate([p[0] for p in parts])
            counts = np.concatenate([p[1] for p in parts])
            uniq, inverse = np.unique(keys, return_inverse=True)
            summed = np.zeros(len(uniq), np.int64)
            np.add.at(summed, inverse, counts)
            self._values, self._counts = uniq, summed

    # -- results
    @property
    def values(self) -> np.ndarray:
        """Distinct values, ascending (object array of str for strings)."""
        self._compact()
        if self._values is None:
            return np.zeros(0, object if self.dtype is DType.STRING else self.dtype.numpy)
        if self.dtype is DType.STRING:
            return np.array(self._values.to_pylist(), dtype=object)
        return self._values

    @property
    def counts(self) -> np.ndarray:
        self._compact()
        return self._counts

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def value_at(self, positions: np.ndarray) -> np.ndarray:
        """Values at 0-based positions of the sorted multiset of values."""
        return sorted_value_at(self.values, self.counts, positions)

    def ranked(self) -> tuple[np.ndarray, np.ndarray]:
        """(values, counts) by decreasing count, ties by decreasing value (TFT's order).

        TFT's vocabulary holds the bytes of each value, so int64 ties are ordered by their
        decimal text, not numerically: 2 comes before 111 (b"2" > b"111").

        Example:
            >>> from tskew.ops.values import Col
            >>> acc = ValueCounts("int64").add(Col(np.array([111, 2, 2, 3, 3, 111, 7])))
            >>> acc.ranked()[0].tolist()
            [3, 2, 111, 7]
        """
        values, counts = self.values, self.counts
        if self.dtype is DType.STRING:
            table = pa.table({"v": pa.array(values.tolist(), pa.string()), "c": counts})
            order = pc.sort_indices(table, sort_keys=[("c", "descending"), ("v", "descending")])
            order = np.asarray(order)
        elif self.dtype is DType.INT64:
            # ASCII decimal text: code-point order is byte order.
            order = np.lexsort((values.astype(str), counts))[::-1]
        else:
            order = np.lexsort((values, counts))[::-1]  # count, then value, both descending
        return values[order], counts[order]

    # -- serialisation
    def to_json(self) -> dict:
        values, counts = self.values, self.counts
        if self.dtype is DType.STRING:
            encoded: Any = values.tolist()
        else:
            encoded = base64.b64encode(np.ascontiguousarray(values).tobytes()).decode()
        return {
            "dtype": self.dtype.value,
            "null_count": self.null_count,
            "nan_count": self.nan_count,
            "values": encoded,
            "counts": counts.tolist(),
        }

    @classmethod
    def from_json(cls, obj: dict) -> ValueCounts:
        out = cls(obj["dtype"])
        out.null_count, out.nan_count = obj["null_count"], obj["nan_count"]
        if out.dtype is DType.STRING:
            out._values = pa.array(obj["values"], type=pa.string())
        else:
            out._values = np.frombuffer(base64.b64decode(obj["values"]), out.dtype.numpy).copy()
        out._counts = np.asarray(obj["counts"], np.int64)
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValueCounts) and self.to_json() == other.to_json()


class MinMax:
    """Smallest and largest non-missing value (-0.0 is counted as 0.0)."""

    kind = "minmax"

    def __init__(self, dtype: str):
        self.dtype = DType(dtype)
        self.min: Any = None
        self.max: Any = None

    @classmethod
    def create(cls, dtype: str) -> MinMax:
        return cls(dtype)

    def add(self, col: Col) -> MinMax:
        values, _ = present_values(col)
        arr = np.asarray(values)
        if self.dtype.is_float:
            arr = arr[~np.isnan(arr)] + arr.dtype.type(0.0)
        if len(arr):
            self._fold(arr.min(), arr.max())
        return self

    def _fold(self, lo: Any, hi: Any) -> None:
        self.min = lo if self.min is None or lo < self.min else self.min
        self.max = hi if self.max is None or hi > self.max else self.max

    def merge(self, other: MinMax) -> MinMax:
        out = MinMax(self.dtype.value)
        for acc in (self, other):
            if acc.min is not None:
                out._fold(acc.min, acc.max)
        return out

    def to_json(self) -> dict:
        def enc(v: Any) -> Any:
            return None if v is None else float(v).hex() if self.dtype.is_float else int(v)

        return {"dtype": self.dtype.value, "min": enc(self.min), "max": enc(self.max)}

    @classmethod
    def from_json(cls, obj: dict) -> MinMax:
        out = cls(obj["dtype"])
        npt = out.dtype.numpy.type

        def dec(v: Any) -> Any:
            if v is None:
                return None
            return npt(float.fromhex(v)) if out.dtype.is_float else npt(v)

        out.min, out.max = dec(obj["min"]), dec(obj["max"])
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MinMax) and self.to_json() == other.to_json()


ACCUMULATORS: dict[str, type] = {
    "moments": Moments,
    "counts": ValueCounts,
    "minmax": MinMax,
    "distribution": Distribution,
}
