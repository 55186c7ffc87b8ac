"""Skew metrics: serving data compared with training statistics, in pure numpy.

Every function takes summaries (category counts, histograms, CDFs on a grid), never rows, so the
skew detector can stream serving data into accumulators and call these once at the end.

Conventions shared by all functions:

* **No data gives NaN.** When the serving side (or the training side) has no rows, the metric is
  undefined and the function returns ``nan`` (``(nan, None)`` / ``(nan, nan)`` for the functions
  that also return where the metric is attained). Nothing is ever divided by zero silently.
* Invalid inputs (negative counts, mismatched lengths, unsorted grids) raise ``ValueError``.

The two metrics that TFDV also computes follow TFDV 1.16.1's C++ code
(``tensorflow_data_validation/anomalies/metrics.cc``) step by step, so the values agree with
``tfdv.validate_statistics`` to rounding (``tests/data/tfdv_golden.json`` holds the evidence):

* :func:`linf_distance` is ``LInftyDistance`` -> ``MaxNormalizedDifference(kSeparateTotal)``.
* :func:`jensen_shannon_divergence` is ``JensenShannonDivergence(Histogram&, Histogram&)`` with
  ``AlignHistograms`` / ``RebucketHistogram``; :func:`categorical_jensen_shannon_divergence` is
  its ``std::map`` overload (what TFDV uses for string features).

Example:
    >>> linf_distance({"a": 3, "b": 1}, {"a": 1, "b": 1})
    (0.25, 'b')
    >>> round(population_stability_index(np.array([50, 50]), np.array([25, 75])), 6)
    0.274653
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Bucket",
    "buckets_from_edges",
    "categorical_jensen_shannon_divergence",
    "jensen_shannon_divergence",
    "kolmogorov_smirnov",
    "linf_distance",
    "missing_rate_change",
    "population_stability_index",
    "share_outside",
    "unseen_share",
    "wasserstein_normalized",
]

NAN = float("nan")

Bucket = tuple[float, float, float]
"""One histogram bucket ``(low_value, high_value, sample_count)``, as in TFMD's ``Histogram``."""


# --------------------------------------------------------------------------------------------
# helpers


def _sort_key(key: Any) -> tuple[int, Any]:
    """Order of categories: TFDV's ``std::map<string, ...>`` order for strings and bytes.

    Python compares ``str`` by code point, which is the byte-wise order of their UTF-8 encoding
    (the order of TFDV's ``std::map<std::string, double>``). Numbers sort numerically, and mixed
    key types are grouped by kind so that sorting never fails.
    """
    if isinstance(key, str):
        return (2, key)
    if isinstance(key, bytes):
        return (2, key.decode("utf-8", "surrogateescape"))
    if isinstance(key, bool | int | float | np.integer | np.floating):
        return (1, float(key))
    return (3, repr(key))


def _check_counts(counts: Mapping[Any, float], name: str) -> float:
    """Sum of a category -> count mapping, refusing negative or non-finite counts."""
    total = 0.0
    for key, value in counts.items():
        v = float(value)
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{name}[{key!r}] = {value!r}: counts must be finite and >= 0")
        total += v
    return total


def _as_counts(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and (not np.all(np.isfinite(arr)) or np.any(arr < 0)):
        raise ValueError(f"{name} must hold finite counts >= 0")
    return arr


# --------------------------------------------------------------------------------------------
# categorical


def linf_distance(train: Mapping[Any, float], serve: Mapping[Any, float]) -> tuple[float, Any]:
    """L-infinity distance between two categorical distributions, exactly as TFDV defines it.

    ``max_k |train[k] / sum(train) - serve[k] / sum(serve)|`` over the union of the categories (a
    category missing on one side counts 0 there). This is TFDV's ``LInftyDistance``
    (``anomalies/metrics.cc``): ``GetLInftyNorm(GetDifference(Normalize(a), Normalize(b)))``,
    fed with the ``rank_histogram`` of each side's string statistics. As in TFDV, ties go to
    the *last* category in sorted (byte-wise) order, because ``GetLInftyNorm`` walks a
    ``std::map`` and keeps a value that is ``>=`` the best so far.

    Args:
        train: category -> count in the training data.
        serve: category -> count in the serving data.

    Returns:
        ``(distance, category)`` where the distance is attained; ``(nan, None)`` when either
        side has no counts (TFDV would instead compare with an all-zero vector).

    Raises:
        ValueError: on a negative or non-finite count.

    Example:
        >>> linf_distance({"a": 2, "b": 2}, {"a": 3, "b": 1})
        (0.25, 'b')
        >>> linf_distance({"a": 1}, {"b": 4})  # disjoint: the larger share, last key wins ties
        (1.0, 'b')
        >>> linf_distance({"a": 1}, {})
        (nan, None)
    """
    t_total = _check_counts(train, "train")
    s_total = _check_counts(serve, "serve")
    if t_total == 0 or s_total == 0:
        return NAN, None
    diff: dict[Any, float] = {k: float(v) / t_total for k, v in train.items()}
    for k, v in serve.items():
        diff[k] = diff.get(k, 0.0) - float(v) / s_total
    best_key: Any = None
    best = 0.0
    for k in sorted(diff, key=_sort_key):
        value = abs(diff[k])
        if value >= best:
            best_key, best = k, value
    return best, best_key


def categorical_jensen_shannon_divergence(
    train: Mapping[Any, float], serve: Mapping[Any, float]
) -> float:
    """Jensen-Shannon divergence (log base 2) of two category count maps, as TFDV computes it.

    TFDV's ``JensenShannonDivergence(const std::map<string, double>&, ...)`` in
    ``anomalies/metrics.cc``, used for string features: ``P`` and ``Q`` are the shares of each
    category, ``M = (P + Q) / 2`` and ``JSD = (KL(P||M) + KL(Q||M)) / 2``, capped at 1.0.

    Args:
        train: category -> count in the training data (zero counts are ignored; TFDV refuses
            them).
        serve: category -> count in the serving data.

    Returns:
        The divergence in [0, 1]; ``nan`` when either side has no counts (TFDV reports no
        measurement then).

    Example:
        >>> categorical_jensen_shannon_divergence({"a": 1}, {"b": 1})
        1.0
        >>> categorical_jensen_shannon_divergence({"a": 1, "b": 1}, {"a": 5, "b": 5})
        0.0
    """
    t_total = _check_counts(train, "train")
    s_total = _check_counts(serve, "serve")
    if t_total == 0 or s_total == 0:
        return NAN
    keys = sorted({*train, *serve}, key=_sort_key)
    kl_sum = 0.0
    for k in keys:
        a = float(train.get(k, 0))
        b = float(serve.get(k, 0))
        p, q = a / t_total, b / s_total
        m = (p + q) / 2
        if a != 0:
            kl_sum += p * math.log2(p / m)
        if b != 0:
            kl_sum += q * math.log2(q / m)
    return min(kl_sum / 2, 1.0)


def unseen_share(train_values: Iterable[Any], serve: Mapping[Any, float]) -> float:
    """Share of serving values whose category never occurred in training.

    Args:
        train_values: the categories seen in training (a set, or any iterable or mapping).
        serve: category -> count in the serving data.

    Returns:
        ``sum(count of unseen categories) / sum(all counts)``; ``nan`` without serving counts.

    Example:
        >>> unseen_share({"a", "b"}, {"a": 6, "c": 2})
        0.25
        >>> unseen_share({"a"}, {})
        nan
    """
    total = _check_counts(serve, "serve")
    if total == 0:
        return NAN
    seen = (
        train_values if isinstance(train_values, set | frozenset | Mapping) else set(train_values)
    )
    unseen = sum(float(v) for k, v in serve.items() if k not in seen)
    return unseen / total


# --------------------------------------------------------------------------------------------
# binned / numeric


def population_stability_index(
    train_counts: np.ndarray, serve_counts: np.ndarray, epsilon: float = 1e-4
) -> float:
    """Population stability index of two histograms (or category counts) over the same bins.

    ``PSI = sum_i (s_i - t_i) * ln(s_i / t_i)`` with ``t_i`` and ``s_i`` the shares of bin ``i``
    (counts divided by their total). A share below ``epsilon`` (an empty bin) is replaced by
    ``epsilon`` before the sum, and the shares are *not* renormalised afterwards; this keeps the
    logarithm finite, and a bin that is empty on both sides contributes exactly 0.

    Args:
        train_counts: counts per bin in the training data.
        serve_counts: counts per bin in the serving data, on the same bins.
        epsilon: floor for the shares, > 0.

    Returns:
        The PSI (>= 0, natural log); ``nan`` when either side has no counts.

    Raises:
        ValueError: on different lengths, negative counts or ``epsilon <= 0``.

    Example:
        >>> # shares (0.5, 0.5) -> (0.25, 0.75): (0.25-0.5)*ln(0.5) + (0.75-0.5)*ln(1.5)
        >>> round(population_stability_index(np.array([2, 2]), np.array([1, 3])), 6)
        0.274653
        >>> population_stability_index(np.array([1, 0]), np.array([0, 0]))
        nan
    """
    t = _as_counts(train_counts, "train_counts")
    s = _as_counts(serve_counts, "serve_counts")
    if t.shape != s.shape:
        raise ValueError(f"train_counts and serve_counts differ in length: {t.size} != {s.size}")
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
    t_total, s_total = float(t.sum()), float(s.sum())
    if t_total == 0 or s_total == 0:
        return NAN
    tp = np.maximum(t / t_total, epsilon)
    sp = np.maximum(s / s_total, epsilon)
    return float(np.sum((sp - tp) * np.log(sp / tp)))


def buckets_from_edges(
    edges: Sequence[float] | np.ndarray,
    counts: Sequence[float] | np.ndarray,
    *,
    below: float = 0,
    above: float = 0,
    low: float = -math.inf,
    high: float = math.inf,
    pos_inf: float = 0,
    neg_inf: float = 0,
) -> list[Bucket]:
    """Bucket list for :func:`jensen_shannon_divergence` from bin edges and counts.

    ``counts[i]`` is the count of ``edges[i] <= x < edges[i+1]`` (the last bin closed). Serving
    values binned on the *training* edges come with the counts ``below`` the first edge and
    ``above`` the last one; they become the buckets ``[low, edges[0]]`` and ``[edges[-1],
    high]``. Pass the serving data's finite minimum and maximum as ``low`` and ``high``: that is
    how TFDV's own serving histogram covers them (its buckets span the serving range), so the
    rebucketing spreads them uniformly like TFDV does. Left infinite, TFDV's algorithm counts
    them with the infinite values (a bucket with an infinite bound). ``pos_inf`` / ``neg_inf``
    counts of infinite values are added as TFDV does, as buckets ``[inf, inf]`` /
    ``[-inf, -inf]``.

    Example:
        >>> buckets_from_edges([0.0, 1.0, 2.0], [3, 4], below=1, low=-0.5)
        [(-0.5, 0.0, 1.0), (0.0, 1.0, 3.0), (1.0, 2.0, 4.0)]
    """
    e = np.asarray(edges, dtype=np.float64)
    c = _as_counts(counts, "counts")
    if e.ndim != 1 or e.size != c.size + 1:
        raise ValueError(f"need len(edges) == len(counts) + 1, got {e.size} and {c.size}")
    out: list[Bucket] = []
    if neg_inf:
        out.append((-math.inf, -math.inf, float(neg_inf)))
    if below:
        out.append((float(low), float(e[0]), float(below)))
    out.extend((float(e[i]), float(e[i + 1]), float(c[i])) for i in range(c.size))
    if above:
        out.append((float(e[-1]), float(high), float(above)))
    if pos_inf:
        out.append((math.inf, math.inf, float(pos_inf)))
    return out


def _strip_point_and_infinite(
    buckets: Sequence[Bucket],
) -> tuple[list[Bucket], dict[float, float], float]:
    """TFDV's ``StripPointAndInfiniteBuckets``: finite buckets, point masses, infinite mass."""
    finite: list[Bucket] = []
    points: dict[float, float] = {}
    infinite = 0.0
    for low, high, count in buckets:
        if not (math.isfinite(low) and math.isfinite(high)):
            infinite += count
        elif low == high:
            points[low] = points.get(low, 0.0) + count
        else:
            finite.append((low, high, count))
    return finite, points, infinite


def _rebucket(boundaries: list[float], buckets: list[Bucket]) -> list[Bucket]:
    """TFDV's ``RebucketHistogram``: spread each bucket uniformly onto ``boundaries``.

    ``boundaries`` contains every low and high value of ``buckets``, so a bucket never partly
    overlaps a new one.
    """
    out: list[Bucket] = []
    last = len(boundaries) - 1
    index = 0
    for low, high, count in buckets:
        while low > boundaries[index]:  # empty buckets up to this one
            out.append((boundaries[index], boundaries[index + 1], 0.0))
            index += 1
        if low == high and low == boundaries[index]:  # unreachable after stripping; as TFDV
            out.append((boundaries[index], boundaries[index + 1], count))
            index += 1
            continue
        covered = []
        while high > boundaries[index]:
            covered.append(boundaries[index])
            index += 1
        covered.append(boundaries[index])
        width = high - low
        for i in range(len(covered) - 1):
            out.append(
                (covered[i], covered[i + 1], ((covered[i + 1] - covered[i]) / width) * count)
            )
    out.extend((boundaries[i], boundaries[i + 1], 0.0) for i in range(index, last))
    return out


def _boundaries(buckets: list[Bucket]) -> set[float]:
    return {v for low, high, _ in buckets for v in (low, high)}


def _check_buckets(buckets: Sequence[Sequence[float]], name: str) -> list[Bucket]:
    out: list[Bucket] = []
    prev_high = -math.inf
    for b in buckets:
        if len(b) != 3:
            raise ValueError(f"{name}: a bucket is (low, high, count), got {b!r}")
        low, high, count = (float(v) for v in b)
        if math.isnan(low) or math.isnan(high) or low > high:
            raise ValueError(f"{name}: bucket {b!r} needs low <= high")
        if not math.isfinite(count) or count < 0:
            raise ValueError(f"{name}: bucket {b!r} needs a finite count >= 0")
        if math.isfinite(low) and math.isfinite(high) and low < high:
            if low < prev_high:
                raise ValueError(f"{name}: buckets must be sorted and must not overlap ({b!r})")
            prev_high = high
        out.append((low, high, count))
    return out


def _kl2(p: list[float], q: list[float]) -> float:
    """TFDV's ``KullbackLeiblerDivergence``: sum of p*log2(p/q) where both are > 0."""
    return sum(pi * math.log2(pi / qi) for pi, qi in zip(p, q, strict=True) if pi > 0 and qi > 0)


def jensen_shannon_divergence(
    train_buckets: Sequence[Sequence[float]],
    serve_buckets: Sequence[Sequence[float]],
    train_nan: float = 0,
    serve_nan: float = 0,
) -> float:
    """Jensen-Shannon divergence (log base 2) of two histograms, exactly as TFDV computes it.

    This is TFDV's ``JensenShannonDivergence(Histogram&, Histogram&, double&)`` in
    ``tensorflow_data_validation/anomalies/metrics.cc`` (called by
    ``UpdateJensenShannonDivergenceComparator`` in ``feature_util.cc`` on the STANDARD
    histograms of the training and serving statistics), step by step:

    1. ``StripPointAndInfiniteBuckets``: a bucket with an infinite bound (``low`` or ``high`` =
       +-inf) adds its count to one *infinite mass*; a zero-width bucket ``[v, v]`` adds its
       count to the *point mass* at ``v``; the other buckets stay.
    2. ``AlignHistograms``: when the two sets of bucket boundaries differ, both histograms are
       rebucketed onto the union of the boundaries (``RebucketHistogram``), a bucket's count
       spread uniformly over its width. The rebucketed histograms lose their NaN count: TFDV
       builds them as new ``Histogram`` protos without copying ``num_nan``, so **NaN counts only
       take part when both histograms have the same boundaries**.
    3. One bucket per distinct point mass value (either side) is appended, then the infinite
       masses as *mismatching* buckets (training's infinite mass is never compared with
       serving's: ``[inf_t, 0]`` vs ``[0, inf_s]``), then, if either side has NaN,
       the NaN counts as mismatching buckets too (``[0, nan_t]`` vs ``[nan_s, 0]``).
    4. Both are normalised to sum 1, ``M = (P + Q) / 2``, ``JSD = (KL(P||M) + KL(Q||M)) / 2``
       with ``KL(P||M) = sum p log2(p / m)`` over buckets where both are > 0, capped at 1.0.

    Because of step 3, identical data with NaN or infinite values has a JSD > 0 in TFDV; this
    function keeps that behaviour so its values match TFDV's.

    Args:
        train_buckets: training histogram, ``(low, high, sample_count)`` per bucket, sorted by
            value (as in a TFMD ``Histogram``, bounds may be +-inf, ``low == high`` for a point).
        serve_buckets: serving histogram, same form. To compare serving counts binned on the
            training edges, build it with :func:`buckets_from_edges`.
        train_nan: the training histogram's ``num_nan``.
        serve_nan: the serving histogram's ``num_nan``.

    Returns:
        The divergence in [0, 1]; ``nan`` when either histogram holds no mass after
        alignment (TFDV: "Unable to normalize an empty histogram", no measurement).

    Raises:
        ValueError: on a malformed bucket, unsorted or overlapping buckets, or two histograms
            with the same boundary set but different buckets (TFDV aborts on a CHECK there).

    Example:
        >>> # training's [0, 2): 2 is split uniformly into [0, 1): 1 and [1, 2): 1, so both
        >>> # sides are (0.5, 0.5) on the union of the boundaries:
        >>> jensen_shannon_divergence([(0, 2, 2)], [(0, 1, 1), (1, 2, 1)])
        0.0
        >>> jensen_shannon_divergence([(0, 1, 5)], [(1, 2, 5)])  # disjoint supports
        1.0
        >>> jensen_shannon_divergence([(0, 1, 5)], [(0, 1, 0)])
        nan
    """
    for name, v in (("train_nan", train_nan), ("serve_nan", serve_nan)):
        if not math.isfinite(float(v)) or float(v) < 0:
            raise ValueError(f"{name} must be a finite count >= 0, got {v!r}")
    h1, p1, inf1 = _strip_point_and_infinite(_check_buckets(train_buckets, "train_buckets"))
    h2, p2, inf2 = _strip_point_and_infinite(_check_buckets(serve_buckets, "serve_buckets"))
    nan1, nan2 = float(train_nan), float(serve_nan)
    b1, b2 = _boundaries(h1), _boundaries(h2)
    if b1 != b2:
        union = sorted(b1 | b2)
        h1, h2 = _rebucket(union, h1), _rebucket(union, h2)
        nan1 = nan2 = 0.0  # RebucketHistogram does not carry num_nan over (see step 2)
    if len(h1) != len(h2):
        raise ValueError("histograms with the same boundaries must have the same buckets")
    c1 = [c for _, _, c in h1]
    c2 = [c for _, _, c in h2]
    for v in sorted({*p1, *p2}):
        c1.append(p1.get(v, 0.0))
        c2.append(p2.get(v, 0.0))
    if inf1 != 0:
        c1.append(inf1)
        c2.append(0.0)
    if inf2 != 0:
        c1.append(0.0)
        c2.append(inf2)
    if nan1 > 0 or nan2 > 0:
        c1 += [0.0, nan1]
        c2 += [nan2, 0.0]
    t1, t2 = sum(c1), sum(c2)
    if t1 == 0 or t2 == 0:
        return NAN
    p = [c / t1 for c in c1]
    q = [c / t2 for c in c2]
    m = [(a + b) / 2 for a, b in zip(p, q, strict=True)]
    return min((_kl2(p, m) + _kl2(q, m)) / 2, 1.0)


def kolmogorov_smirnov(
    train_cdf_points: np.ndarray, train_cdf: np.ndarray, serve_cdf: np.ndarray
) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic ``max |F_train(x) - F_serve(x)|`` over given points.

    The CDFs are evaluated by the caller at the same points (tskew uses the training
    percentiles), so this is the KS statistic restricted to that grid: a lower bound of the
    exact two-sample statistic, equal to it when the grid holds every jump of both CDFs.

    Args:
        train_cdf_points: the points ``x_i``.
        train_cdf: ``F_train(x_i)``.
        serve_cdf: ``F_serve(x_i)``.

    Returns:
        ``(statistic, x)`` with ``x`` the first point where the maximum is attained;
        ``(nan, nan)`` for an empty grid or when a CDF value is NaN (no serving rows).

    Example:
        >>> kolmogorov_smirnov(np.array([1.0, 2.0, 3.0]), np.array([0.2, 0.6, 1.0]),
        ...                    np.array([0.1, 0.3, 1.0]))
        (0.3, 2.0)
    """
    x = np.asarray(train_cdf_points, dtype=np.float64)
    ft = np.asarray(train_cdf, dtype=np.float64)
    fs = np.asarray(serve_cdf, dtype=np.float64)
    if not (x.ndim == ft.ndim == fs.ndim == 1) or not (x.size == ft.size == fs.size):
        raise ValueError("points, train_cdf and serve_cdf must be 1-D of the same length")
    if x.size == 0 or np.isnan(ft).any() or np.isnan(fs).any():
        return NAN, NAN
    d = np.abs(ft - fs)
    i = int(np.argmax(d))
    return float(d[i]), float(x[i])


def wasserstein_normalized(
    points: np.ndarray, train_cdf: np.ndarray, serve_cdf: np.ndarray, train_std: float
) -> float:
    """1-Wasserstein distance ``∫|F_t - F_s| dx`` on a grid, divided by the training std.

    The CDFs are taken as piecewise constant (right-continuous): the value at ``x_i`` holds on
    ``[x_i, x_{i+1})``, so the integral is ``sum_i |F_t(x_i) - F_s(x_i)| * (x_{i+1} - x_i)``.
    Mass outside ``[x_0, x_{n-1}]`` is not seen (tskew's grid spans the training min to max).
    Dividing by the training standard deviation makes the value unit-free ("how many standard
    deviations the mass moved").

    Args:
        points: sorted finite grid ``x_0 <= ... <= x_{n-1}``.
        train_cdf: ``F_train(x_i)``.
        serve_cdf: ``F_serve(x_i)``.
        train_std: standard deviation of the training data.

    Returns:
        The normalised distance; ``nan`` for an empty grid or NaN CDF values (no serving rows);
        for a zero or NaN ``train_std``: 0.0 when both CDFs are equal, else ``nan``.

    Example:
        >>> # |0.5-0.25| * 1 + |1-0.75| * 1 = 0.5, divided by std 2
        >>> wasserstein_normalized(np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 1.0]),
        ...                        np.array([0.25, 0.75, 1.0]), 2.0)
        0.25
    """
    x = np.asarray(points, dtype=np.float64)
    ft = np.asarray(train_cdf, dtype=np.float64)
    fs = np.asarray(serve_cdf, dtype=np.float64)
    if not (x.ndim == ft.ndim == fs.ndim == 1) or not (x.size == ft.size == fs.size):
        raise ValueError("points, train_cdf and serve_cdf must be 1-D of the same length")
    if x.size == 0 or np.isnan(ft).any() or np.isnan(fs).any():
        return NAN
    if not np.all(np.isfinite(x)) or np.any(np.diff(x) < 0):
        raise ValueError("points must be finite and sorted")
    distance = float(np.sum(np.abs(ft[:-1] - fs[:-1]) * np.diff(x)))
    std = float(train_std)
    if math.isnan(std) or std == 0:
        return 0.0 if np.array_equal(ft, fs) else NAN
    if std < 0 or math.isinf(std):
        raise ValueError(f"train_std must be >= 0 and finite, got {train_std!r}")
    return distance / std


# --------------------------------------------------------------------------------------------
# shares and rates


def share_outside(count_below: int, count_above: int, total: int) -> float:
    """Share of serving values outside the training range ``[min, max]``.

    Args:
        count_below: serving values below the training minimum.
        count_above: serving values above the training maximum.
        total: serving values counted (the denominator; tskew uses the non-missing ones).

    Returns:
        ``(count_below + count_above) / total``; ``nan`` when ``total`` is 0.

    Example:
        >>> share_outside(1, 3, 16)
        0.25
        >>> share_outside(0, 0, 0)
        nan
    """
    if min(count_below, count_above, total) < 0:
        raise ValueError("counts must be >= 0")
    if count_below + count_above > total:
        raise ValueError(f"{count_below} + {count_above} values outside of only {total}")
    if total == 0:
        return NAN
    return (count_below + count_above) / total


def missing_rate_change(
    train_missing: int, train_total: int, serve_missing: int, serve_total: int
) -> float:
    """Absolute change of the missing rate between training and serving.

    ``|serve_missing / serve_total - train_missing / train_total|``.

    Returns:
        The absolute difference of the two rates, in [0, 1]; ``nan`` when either total is 0.

    Example:
        >>> missing_rate_change(1, 4, 3, 4)
        0.5
        >>> missing_rate_change(1, 10, 0, 0)
        nan
    """
    if min(train_missing, train_total, serve_missing, serve_total) < 0:
        raise ValueError("counts must be >= 0")
    if train_missing > train_total or serve_missing > serve_total:
        raise ValueError("more missing values than rows")
    if train_total == 0 or serve_total == 0:
        return NAN
    return abs(serve_missing / serve_total - train_missing / train_total)
