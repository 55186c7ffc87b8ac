"""Exact order statistics of numeric columns in bounded memory.

`Distribution` is the accumulator behind quantiles, medians, ``clip_by_quantiles``
and the numeric skew baseline. While a column has at most `EXACT_LIMIT` distinct
values it keeps one count per value, exactly as before. Past that it keeps a
fixed-size summary instead: counts per top-20-bit prefix of each value's
order-preserving key (`tskew.analyzers.keys`), the key range, infinity counts
and a distinct-count sketch. Whether a column overflows depends only on its
set of distinct values, so the state never depends on row order or batching.

Values at given ranks then come from a distributed radix select over more
passes: `RankSearch` narrows, for each target rank, the key window that holds
it. Each pass fills a `Probe` (per window: exact integer counts in
`REFINE_BINS` equal-width sub-ranges, or, once a window holds at most
`COLLECT_BUDGET` values in all, those values themselves), and probes merge in any
order. Every result is exact: the value at each rank, the number of values at
or below it, and the equal-width histogram counts.

Example:
    >>> import numpy as np
    >>> from tskew.ops.values import Col
    >>> x = np.random.default_rng(0).normal(size=20_000)
    >>> dist = Distribution.create("float64").add(Col(x))
    >>> dist.exact  # 20,000 distinct values: a bounded summary
    False
    >>> search = dist.search_ranks([0, 10_000, 19_999], histogram=False)
    >>> passes = 0
    >>> while not search.done:
    ...     search.absorb(search.probe().add(Col(x)))
    ...     passes += 1
    >>> ranks = np.array([0, 10_000, 19_999])
    >>> bool((search.value_at(ranks) == np.sort(x)[ranks]).all())
    True
    >>> passes
    1
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tskew.analyzers.distinct import DistinctSketch
from tskew.analyzers.keys import from_keys, order_keys
from tskew.ops.values import Col
from tskew.schema import DType

EXACT_LIMIT = 4096  # distinct values counted exactly before the bounded summary takes over
PREFIX_SHIFT = 44  # first-pass histogram over the top 64 - 44 = 20 key bits
REFINE_BINS = 4096  # sub-ranges per window in a refinement pass
COLLECT_BUDGET = 1 << 18  # values a probe collects whole, over all its windows (2 MiB of keys)

_MAX_KEY = np.uint64((1 << 64) - 1)
_CHUNK = 1 << 12  # prefix bins per chunk: pickles carry only the chunks that were touched


def max_refinement_passes() -> int:
    """Refinement passes that resolve any rank: each narrows a window by `REFINE_BINS`.

    Example:
        >>> max_refinement_passes()
        4
    """
    width, passes = 1 << PREFIX_SHIFT, 0
    while width > 1:
        width, passes = -(-width // REFINE_BINS), passes + 1
    return passes


NEG_INF_KEY = int(order_keys(np.array([-np.inf]))[0])
POS_INF_KEY = int(order_keys(np.array([np.inf]))[0])


def present_numbers(col: Col, dtype: DType) -> tuple[np.ndarray, int, int]:
    """(the non-missing values, nulls, NaNs); -0.0 is folded into 0.0."""
    values = col.values if col.mask is None else col.values[~col.mask]
    nulls = 0 if col.mask is None else int(col.mask.sum())
    arr = np.asarray(values)
    nans = 0
    if dtype.is_float:
        nan = np.isnan(arr)
        nans = int(np.count_nonzero(nan))
        if nans:
            arr = arr[~nan]
        arr = arr + arr.dtype.type(0.0)  # -0.0 + 0.0 == +0.0
    return arr, nulls, nans


def _count_keys(values: np.ndarray, hashed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Order keys of the distinct values (ascending) and their counts.

    Counting comes first, so only distinct values are turned into keys.
    """
    if hashed:  # hash counting: O(n), wins when values repeat
        vc = pc.value_counts(pa.array(values))
        keys = order_keys(np.asarray(vc.field("values")))
        order = np.argsort(keys)
        return keys[order], np.asarray(vc.field("counts"), np.int64)[order]
    uniq, counts = np.unique(values, return_counts=True)
    return order_keys(uniq), counts.astype(np.int64)  # keys keep the values' order


def sorted_value_at(values: np.ndarray, counts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Values at 0-based positions of a multiset given as ascending ``values`` and ``counts``.

    Example:
        >>> sorted_value_at(np.array([1.0, 5.0]), np.array([2, 1]), np.array([0, 2])).tolist()
        [1.0, 5.0]
    """
    return values[np.searchsorted(np.cumsum(counts), positions, side="right")]


def _merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sum counts per key over parts (keys in any order; counts None: each key once)."""
    if len(parts) == 1 and parts[0][1] is not None and np.all(parts[0][0][1:] > parts[0][0][:-1]):
        return parts[0]
    keys = np.concatenate([p[0] for p in parts])
    counts = np.concatenate([np.ones(len(k), np.int64) if c is None else c for k, c in parts])
    uniq, inverse = np.unique(keys, return_inverse=True)
    return uniq, np.bincount(inverse, weights=counts, minlength=len(uniq)).astype(np.int64)


def _b64(arr: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode()


def _key_text(key: int | None) -> str | None:
    return None if key is None else str(key)


def _unb64(text: str, dtype: Any) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype).copy()


class Distribution:
    """Counts per distinct value while few, then a bounded prefix histogram."""

    kind = "distribution"

    def __init__(self, dtype: str, unbounded: bool = False):
        self.dtype = DType(dtype)
        self.unbounded = unbounded  # count every distinct value, never switch to the summary
        self.null_count = 0
        self.nan_count = 0
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []
        self._pending_size = 0
        self._keys = np.zeros(0, np.uint64)  # exact mode: distinct keys, ascending
        self._counts = np.zeros(0, np.int64)
        self._hashed = True
        # bounded mode
        self.prefix_counts: np.ndarray | None = None
        self.lo_key = self.hi_key = 0
        self.posinf = self.neginf = 0
        self.finite_lo_key: int | None = None
        self.finite_hi_key: int | None = None
        self.sketch: DistinctSketch | None = None
        self.search: RankSearch | None = None  # bounded mode: the finished rank search

    @classmethod
    def create(cls, dtype: str) -> Distribution:
        return cls(dtype)

    @property
    def exact(self) -> bool:
        """True while every distinct value has its own count."""
        return self.prefix_counts is None

    # -- folding in data
    def add(self, col: Col) -> Distribution:
        values, nulls, nans = present_numbers(col, self.dtype)
        self.null_count += nulls
        self.nan_count += nans
        if not len(values):
            return self
        # a slice with too many distinct values proves that the column overflows
        limit = EXACT_LIMIT
        if (
            self.exact
            and not self.unbounded
            and len(values) > limit
            and len(np.unique(values[: 4 * limit])) > limit
        ):
            self._overflow()
        if not self.exact:
            self._add_bounded(order_keys(values), None)
            return self
        uniq, counts = _count_keys(values, self._hashed)
        self._hashed = len(uniq) <= len(values) // 2  # mostly distinct: sorting is cheaper
        self._pending.append((uniq, counts))
        self._pending_size += len(uniq)
        if self._pending_size > max(EXACT_LIMIT, 1 << 16 if self.unbounded else 0):
            self._compact()
        return self

    def _compact(self) -> None:
        self._merge_pending()
        if self.exact and not self.unbounded and self.past_limit():
            self._overflow()

    def past_limit(self) -> bool:
        """More distinct values than `EXACT_LIMIT` (exact mode)."""
        return len(self._keys) > EXACT_LIMIT

    def _merge_pending(self) -> None:
        if self._pending:
            parts = [*self._pending, (self._keys, self._counts)]
            self._keys, self._counts = _merge_counts(parts)
            self._pending, self._pending_size = [], 0

    def _overflow(self) -> None:
        """Switch to the bounded summary, folding in the exact counts so far."""
        self._merge_pending()
        keys, counts = self._keys, self._counts
        self._keys, self._counts = np.zeros(0, np.uint64), np.zeros(0, np.int64)
        self.prefix_counts = np.zeros(1 << (64 - PREFIX_SHIFT), np.int64)
        self._touched = np.zeros(len(self.prefix_counts) // _CHUNK, bool)
        self.sketch = DistinctSketch()
        self.lo_key, self.hi_key = (1 << 64) - 1, 0
        if len(keys):
            self._add_bounded(keys, counts)

    def _add_bounded(self, keys: np.ndarray, weights: np.ndarray | None) -> None:
        kmin, kmax = int(keys.min()), int(keys.max())
        first, last = kmin >> PREFIX_SHIFT, kmax >> PREFIX_SHIFT
        # count over the batch's own prefix range: a batch rarely spans all 2^20 bins
        prefix = (keys >> np.uint64(PREFIX_SHIFT)).astype(np.intp)
        prefix -= first
        counts = np.bincount(prefix, weights, minlength=last - first + 1)
        self.prefix_counts[first : last + 1] += counts.astype(np.int64, copy=False)
        chunks = np.flatnonzero(counts) + first
        self._touched[np.unique(chunks // _CHUNK)] = True
        self.lo_key, self.hi_key = min(self.lo_key, kmin), max(self.hi_key, kmax)
        finite = keys
        if self.dtype.is_float and (kmin == NEG_INF_KEY or kmax == POS_INF_KEY):
            neg, pos = keys == NEG_INF_KEY, keys == POS_INF_KEY
            self.neginf += int(neg.sum() if weights is None else weights[neg].sum())
            self.posinf += int(pos.sum() if weights is None else weights[pos].sum())
            finite = keys[~(neg | pos)]
        if len(finite):
            self._fold_finite(int(finite.min()), int(finite.max()))
        self.sketch.add(keys)

    def _fold_finite(self, lo: int | None, hi: int | None) -> None:
        if lo is None:
            return
        self.finite_lo_key = lo if self.finite_lo_key is None else min(self.finite_lo_key, lo)
        self.finite_hi_key = hi if self.finite_hi_key is None else max(self.finite_hi_key, hi)

    def merge(self, other: Distribution) -> Distribution:
        out = Distribution(self.dtype.value, self.unbounded or other.unbounded)
        out.null_count = self.null_count + other.null_count
        out.nan_count = self.nan_count + other.nan_count
        exact = [a for a in (self, other) if a.exact]
        bounded = [a for a in (self, other) if not a.exact]
        for acc in exact:
            acc._compact()
        if not bounded:
            out._keys, out._counts = _merge_counts([(a._keys, a._counts) for a in exact])
            out._compact()
            return out
        first, *rest = bounded
        out.prefix_counts = first.prefix_counts.copy()
        out._touched = first._touched.copy()
        out.sketch = first.sketch
        out.lo_key, out.hi_key = first.lo_key, first.hi_key
        out.posinf, out.neginf = first.posinf, first.neginf
        out.finite_lo_key, out.finite_hi_key = first.finite_lo_key, first.finite_hi_key
        for acc in rest:
            out.prefix_counts += acc.prefix_counts
            out._touched |= acc._touched
            out.sketch = out.sketch.merge(acc.sketch)
            out.lo_key, out.hi_key = min(out.lo_key, acc.lo_key), max(out.hi_key, acc.hi_key)
            out.posinf += acc.posinf
            out.neginf += acc.neginf
            out._fold_finite(acc.finite_lo_key, acc.finite_hi_key)
        for acc in exact:
            if len(acc._keys):
                out._add_bounded(acc._keys, acc._counts)
        return out

    # -- results
    @property
    def keys(self) -> np.ndarray:
        """Exact mode: distinct keys, ascending."""
        self._compact()
        return self._keys

    @property
    def values(self) -> np.ndarray:
        """Exact mode: distinct values, ascending."""
        return from_keys(self.keys, self.dtype.numpy)

    @property
    def counts(self) -> np.ndarray:
        """Exact mode: the count of each distinct value."""
        self._compact()
        return self._counts

    @property
    def total(self) -> int:
        """Non-missing values."""
        self._compact()
        if self.exact:
            return int(self._counts.sum())
        return int(self.prefix_counts.sum())

    def num_distinct(self) -> int:
        """Exact while `exact`, else the sketch's estimate (`DistinctSketch.RELATIVE_ERROR`)."""
        return len(self.keys) if self.exact else self.sketch.estimate()

    def value_at(self, positions: np.ndarray) -> np.ndarray:
        """Values at 0-based positions of the sorted multiset.

        In bounded mode only the positions its `search` was asked for.
        """
        if not self.exact:
            return self.search.value_at(positions)
        return sorted_value_at(self.values, self.counts, positions)

    def count_at_or_below(self, positions: np.ndarray) -> np.ndarray:
        """For each position: the number of values <= the value there."""
        if not self.exact:
            return self.search.count_at_or_below(positions)
        cum = np.cumsum(self.counts)
        return cum[np.searchsorted(cum, positions, side="right")]

    def ranked(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact mode: (values, counts) by decreasing count, ties by decreasing value."""
        values, counts = self.values, self.counts
        order = np.lexsort((values, counts))[::-1]
        return values[order], counts[order]

    def resolved_in_memory(self, ranks: Any, histogram: bool) -> Distribution:
        """Exact counts past `EXACT_LIMIT` (``unbounded``) -> the bounded form.

        The rank search runs on the counts in memory, so the results (and the
        statistics built from them) are those of the bounded, multi-pass analysis.
        """
        out = Distribution(self.dtype.value)
        out.null_count, out.nan_count = self.null_count, self.nan_count
        out._keys, out._counts = keys, counts = self.keys, self.counts
        out._overflow()
        search = out.search_ranks(ranks, histogram)
        while not search.done:
            search.absorb(search.probe().add_keys(keys, counts))
        return out.with_search(search)

    def with_search(self, search: RankSearch) -> Distribution:
        """A copy holding the finished rank search (the accumulator itself is unchanged)."""
        out = Distribution.__new__(Distribution)
        out.__dict__.update(self.__dict__)  # shares the (no longer changing) arrays
        out.search = search
        return out

    def search_ranks(self, ranks: Any, histogram: bool) -> RankSearch:
        """Start the exact search for the values at ``ranks`` (bounded mode).

        With ``histogram``, the search also counts the values in the equal-width
        bins between the finite minimum and maximum (`tskew.statistics.histogram_edges`).
        """
        return RankSearch(self, ranks, histogram)

    # -- serialisation
    def to_json(self) -> dict:
        out: dict[str, Any] = {
            "dtype": self.dtype.value,
            "unbounded": self.unbounded,
            "null_count": self.null_count,
            "nan_count": self.nan_count,
        }
        if self.exact:
            out.update(keys=_b64(self.keys), counts=_b64(self.counts))
            return out
        nonzero = np.flatnonzero(self.prefix_counts)
        out.update(
            prefixes=_b64(nonzero.astype(np.int64)),
            prefix_counts=_b64(self.prefix_counts[nonzero]),
            range=[str(self.lo_key), str(self.hi_key)],
            finite=[
                None if k is None else str(k) for k in (self.finite_lo_key, self.finite_hi_key)
            ],
            inf=[self.neginf, self.posinf],
            sketch=self.sketch.to_json(),
        )
        return out

    @classmethod
    def from_json(cls, obj: dict) -> Distribution:
        out = cls(obj["dtype"], obj["unbounded"])
        out.null_count, out.nan_count = obj["null_count"], obj["nan_count"]
        if "keys" in obj:
            out._keys = _unb64(obj["keys"], np.uint64)
            out._counts = _unb64(obj["counts"], np.int64)
            return out
        prefixes = _unb64(obj["prefixes"], np.int64)
        out.prefix_counts = np.zeros(1 << (64 - PREFIX_SHIFT), np.int64)
        out.prefix_counts[prefixes] = _unb64(obj["prefix_counts"], np.int64)
        out._touched = np.zeros(len(out.prefix_counts) // _CHUNK, bool)
        out._touched[prefixes // _CHUNK] = True
        out.lo_key, out.hi_key = (int(k) for k in obj["range"])
        out.finite_lo_key, out.finite_hi_key = (
            None if k is None else int(k) for k in obj["finite"]
        )
        out.neginf, out.posinf = obj["inf"]
        out.sketch = DistinctSketch.from_json(obj["sketch"])
        return out

    def __getstate__(self) -> dict:
        """Pickled (Beam, deep copies) compactly: only the touched chunks of the histogram."""
        self._compact()
        state = dict(self.__dict__)
        if self.prefix_counts is not None:
            chunks = np.flatnonzero(self._touched)
            state["prefix_counts"] = None
            state["_chunks"] = (chunks, self.prefix_counts.reshape(-1, _CHUNK)[chunks])
        return state

    def __setstate__(self, state: dict) -> None:
        chunks = state.pop("_chunks", None)
        self.__dict__.update(state)
        if chunks is not None:
            self.prefix_counts = np.zeros(1 << (64 - PREFIX_SHIFT), np.int64)
            self.prefix_counts.reshape(-1, _CHUNK)[chunks[0]] = chunks[1]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Distribution) and self.to_json() == other.to_json()


@dataclass(frozen=True)
class Window:
    """Keys ``lo..hi`` (inclusive) hold ``count`` values; ``below`` values have smaller keys.

    ``collect``: the next pass keeps its values whole, instead of counting them in
    `REFINE_BINS` sub-ranges.
    """

    lo: int
    hi: int
    below: int
    count: int
    collect: bool = False

    @property
    def width(self) -> int:
        """Keys per sub-range in a refinement pass."""
        return -(-(self.hi - self.lo + 1) // REFINE_BINS)


def histogram_bins(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin i holds edges[i] <= x < edges[i+1]; the last one also holds its upper edge.

    The same bins as a binary search over ``edges``, found by arithmetic (equal
    widths) and corrected by one comparison with the neighbouring edges.

    Example:
        >>> edges = np.linspace(0.0, 1.0, 11)  # edges[3] is 0.30000000000000004
        >>> histogram_bins(np.array([0.0, 0.1, 0.3, 1.0]), edges).tolist()
        [0, 1, 2, 9]
    """
    last = len(edges) - 2
    if last == 0:
        return np.zeros(len(x), np.intp)
    with np.errstate(all="ignore"):
        scale = (last + 1) / (edges[-1] - edges[0])
        guess = (x - edges[0]) * scale
    if not (np.isfinite(scale) and np.isfinite(guess).all()):  # a range beyond float64
        return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, last)
    idx = np.clip(guess, 0, last).astype(np.intp)
    idx -= x < edges[idx]
    np.clip(idx, 0, last, out=idx)
    idx += (idx < last) & (x >= edges[idx + 1])
    return idx


def _plain(window: Window) -> Window:
    return Window(window.lo, window.hi, window.below, window.count)


class Probe:
    """One refinement pass's counts for a `RankSearch` (mergeable in any order)."""

    kind = "probe"

    def __init__(self, dtype: DType, windows: tuple[Window, ...], edges: np.ndarray | None):
        self.dtype = dtype
        self.windows = windows
        self.edges = edges
        self._los = np.array([w.lo for w in windows], np.uint64)
        self._his = np.array([w.hi for w in windows], np.uint64)
        self._table: tuple[int, np.ndarray] | None = None  # built on first use
        self.collected: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in windows]
        self.sub_counts = [None if w.collect else np.zeros(REFINE_BINS, np.int64) for w in windows]
        # smallest and largest key seen per sub-range: a heavy value (say 0.0 in a
        # zero-inflated column) then resolves in one pass instead of one per 12 bits
        self.sub_min = [None if w.collect else np.full(REFINE_BINS, _MAX_KEY) for w in windows]
        self.sub_max = [None if w.collect else np.zeros(REFINE_BINS, np.uint64) for w in windows]
        self.histogram = None if edges is None else np.zeros(len(edges) - 1, np.int64)

    def add(self, col: Col) -> Probe:
        values, _, _ = present_numbers(col, self.dtype)
        return self.add_keys(order_keys(values), values=values)

    def add_keys(
        self,
        keys: np.ndarray,
        weights: np.ndarray | None = None,
        values: np.ndarray | None = None,
    ) -> Probe:
        """Fold in order keys, each counted ``weights`` times (None: once).

        ``values``, when the caller has them, are the keys' values (saves decoding).
        """
        if not len(keys):
            return self
        if self.histogram is not None:
            if values is None:
                values = from_keys(keys, self.dtype.numpy)
            self._add_histogram(values, weights)
        if not self.windows:
            return self
        where = self._window_of(keys)
        inside = where >= 0
        keys, where = keys[inside], where[inside]
        # a stable sort of small ints is a radix sort: linear in the keys
        order = np.argsort(where, kind="stable")
        keys, where = keys[order], where[order]
        w = None if weights is None else weights[inside][order]
        bounds = np.searchsorted(where, np.arange(len(self.windows) + 1))
        for i, window in enumerate(self.windows):
            lo, hi = bounds[i], bounds[i + 1]
            part = keys[lo:hi]
            if not len(part):
                continue
            part_w = None if w is None else w[lo:hi]
            if window.collect:  # counted once, when the probe is read
                counts = None if part_w is None else part_w.astype(np.int64)
                self.collected[i].append((part, counts))
                continue
            sub = ((part - np.uint64(window.lo)) // np.uint64(window.width)).astype(np.intp)
            self.sub_counts[i] += np.bincount(sub, part_w, minlength=REFINE_BINS).astype(np.int64)
            np.minimum.at(self.sub_min[i], sub, part)
            np.maximum.at(self.sub_max[i], sub, part)
        return self

    def _window_of(self, keys: np.ndarray) -> np.ndarray:
        """Index of the window holding each key, or -1 (int16 when that is wide enough).

        Every window lies within one first-pass prefix, so a table indexed by the
        prefix finds it with one gather; only keys whose prefix holds several
        windows need a binary search.
        """
        if self._table is None:
            self._table = self._prefix_table()
        first_prefix, table = self._table
        offset = (keys >> np.uint64(PREFIX_SHIFT)) - np.uint64(first_prefix)  # wraps below
        # the table's last entry (-1) stands for every prefix outside its range
        where = table[np.minimum(offset, np.uint64(len(table) - 1)).astype(np.intp)]
        shared = where == -2
        if shared.any():
            found = np.searchsorted(self._los, keys[shared], side="right") - 1
            where[shared] = found.astype(where.dtype)
        hit = where >= 0
        lo, hi = self._los[where[hit]], self._his[where[hit]]
        kept = keys[hit]
        where[hit] = np.where((kept >= lo) & (kept <= hi), where[hit], -1)
        return where

    def _prefix_table(self) -> tuple[int, np.ndarray]:
        """(first prefix, window per prefix from it: index, -2 for several, -1 for none)."""
        prefixes = (self._los >> np.uint64(PREFIX_SHIFT)).astype(np.intp)
        first = int(prefixes.min())
        dtype = np.int16 if len(self.windows) < (1 << 15) else np.int32
        table = np.full(int(prefixes.max()) - first + 2, -1, dtype)
        uniq, index, counts = np.unique(prefixes, return_index=True, return_counts=True)
        table[uniq - first] = np.where(counts == 1, index, -2)
        return first, table

    def _add_histogram(self, values: np.ndarray, weights: np.ndarray | None) -> None:
        x = values.astype(np.float64, copy=False)
        finite = np.isfinite(x)
        if not finite.all():
            x = x[finite]
            weights = None if weights is None else weights[finite]
        self.histogram += np.bincount(
            histogram_bins(x, self.edges), weights, minlength=len(self.histogram)
        ).astype(np.int64)

    def merge(self, other: Probe) -> Probe:
        out = Probe(self.dtype, self.windows, self.edges)
        for i in range(len(self.windows)):
            out.collected[i] = [*self._parts(i), *other._parts(i)]
            if out.sub_counts[i] is not None:
                out.sub_counts[i] = self.sub_counts[i] + other.sub_counts[i]
                out.sub_min[i] = np.minimum(self.sub_min[i], other.sub_min[i])
                out.sub_max[i] = np.maximum(self.sub_max[i], other.sub_max[i])
        if out.histogram is not None:
            out.histogram = self.histogram + other.histogram
        return out

    def _parts(self, i: int) -> list[tuple[np.ndarray, np.ndarray]]:
        if self.collected[i]:
            self.collected[i] = [_merge_counts(self.collected[i])]
        return self.collected[i]

    def collected_counts(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        parts = self._parts(i)
        return parts[0] if parts else (np.zeros(0, np.uint64), np.zeros(0, np.int64))

    def to_json(self) -> dict:
        parts = [self.collected_counts(i) for i in range(len(self.windows))]
        return {
            "dtype": self.dtype.value,
            "windows": [[str(w.lo), str(w.hi), w.below, w.count, w.collect] for w in self.windows],
            "edges": None if self.edges is None else _b64(self.edges),
            "collected": [[_b64(k), _b64(c)] for k, c in parts],
            "sub_counts": [None if s is None else _b64(s) for s in self.sub_counts],
            "sub_min": [None if s is None else _b64(s) for s in self.sub_min],
            "sub_max": [None if s is None else _b64(s) for s in self.sub_max],
            "histogram": None if self.histogram is None else _b64(self.histogram),
        }

    @classmethod
    def from_json(cls, obj: dict) -> Probe:
        windows = tuple(Window(int(lo), int(hi), b, c, k) for lo, hi, b, c, k in obj["windows"])
        edges = None if obj["edges"] is None else _unb64(obj["edges"], np.float64)
        out = cls(DType(obj["dtype"]), windows, edges)
        out.collected = [[(_unb64(k, np.uint64), _unb64(c, np.int64))] for k, c in obj["collected"]]
        out.sub_counts = [None if s is None else _unb64(s, np.int64) for s in obj["sub_counts"]]
        out.sub_min = [None if s is None else _unb64(s, np.uint64) for s in obj["sub_min"]]
        out.sub_max = [None if s is None else _unb64(s, np.uint64) for s in obj["sub_max"]]
        if obj["histogram"] is not None:
            out.histogram = _unb64(obj["histogram"], np.int64)
        return out

    def __getstate__(self) -> dict:  # pickled as raw arrays, collected keys counted
        for i in range(len(self.windows)):
            self._parts(i)
        return {**self.__dict__, "_table": None}  # the lookup table is rebuilt on use


class RankSearch:
    """The exact values at target ranks of a bounded `Distribution`, pass by pass."""

    def __init__(self, dist: Distribution, ranks: Any, histogram: bool):
        self.dtype = dist.dtype
        self.total = dist.total
        self._key_at: dict[int, int] = {}  # rank -> key of the value there
        self._at_or_below: dict[int, int] = {}  # key -> values with a key <= it
        self._pending: dict[int, Window] = {}  # rank -> window holding it
        self.histogram: np.ndarray | None = None
        self.edges: np.ndarray | None = None
        if histogram and dist.finite_lo_key is not None:
            from tskew.statistics import histogram_edges

            lo, hi = from_keys(
                np.array([dist.finite_lo_key, dist.finite_hi_key], np.uint64), dist.dtype.numpy
            )
            self.edges = histogram_edges(float(lo), float(hi))
        cum = np.cumsum(dist.prefix_counts)
        for rank in sorted({int(r) for r in ranks}):
            if not 0 <= rank < self.total:
                raise ValueError(f"rank {rank} outside 0..{self.total - 1}")
            b = int(np.searchsorted(cum, rank, side="right"))
            below = int(cum[b - 1]) if b else 0
            lo = max(b << PREFIX_SHIFT, dist.lo_key)
            hi = min(((b + 1) << PREFIX_SHIFT) - 1, dist.hi_key)
            self._place(rank, Window(lo, hi, below, int(cum[b]) - below))

    def _place(self, rank: int, window: Window) -> None:
        if window.lo == window.hi:  # one key: its value and rank range are known
            self._key_at[rank] = window.lo
            self._at_or_below[window.lo] = window.below + window.count
        else:
            self._pending[rank] = window

    @property
    def done(self) -> bool:
        return not self._pending and (self.edges is None or self.histogram is not None)

    def probe(self) -> Probe:
        """An empty accumulator for the next pass.

        The smallest windows are collected whole while their values fit
        `COLLECT_BUDGET`; the others are narrowed by counting.
        """
        windows = sorted(set(self._pending.values()), key=lambda w: (w.count, w.lo))
        budget = COLLECT_BUDGET
        chosen = []
        for w in windows:
            collect = w.count <= budget
            budget -= w.count if collect else 0
            chosen.append(Window(w.lo, w.hi, w.below, w.count, collect))
        windows = tuple(sorted(chosen, key=lambda w: w.lo))
        edges = self.edges if self.histogram is None else None
        return Probe(self.dtype, windows, edges)

    def absorb(self, probe: Probe) -> None:
        """Narrow every pending window with a filled probe."""
        if probe.histogram is not None:
            self.histogram = probe.histogram
        index = {_plain(w): i for i, w in enumerate(probe.windows)}
        for rank, window in list(self._pending.items()):
            i = index[window]
            del self._pending[rank]
            if probe.windows[i].collect:
                keys, counts = probe.collected_counts(i)
                cum = window.below + np.cumsum(counts)
                j = int(np.searchsorted(cum, rank, side="right"))
                self._key_at[rank] = int(keys[j])
                self._at_or_below[int(keys[j])] = int(cum[j])
                continue
            sub = probe.sub_counts[i]
            cum = window.below + np.cumsum(sub)
            j = int(np.searchsorted(cum, rank, side="right"))
            lo = max(window.lo + j * window.width, int(probe.sub_min[i][j]))
            hi = min(window.lo + (j + 1) * window.width - 1, window.hi, int(probe.sub_max[i][j]))
            below = int(cum[j - 1]) if j else window.below
            self._place(rank, Window(lo, hi, below, int(sub[j])))

    # -- results
    def value_at(self, ranks: np.ndarray) -> np.ndarray:
        """Values at requested 0-based ranks of the sorted multiset."""
        keys = np.array([self._key_at[int(r)] for r in ranks], np.uint64)
        return from_keys(keys, self.dtype.numpy)

    def count_at_or_below(self, ranks: np.ndarray) -> np.ndarray:
        """For each requested rank: the number of values <= the value there."""
        return np.array([self._at_or_below[self._key_at[int(r)]] for r in ranks], np.int64)
