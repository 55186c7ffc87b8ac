"""ExactMoments is exact, and bit-identical whatever the order, batching and merging.

Ground truth is `fractions.Fraction` (or plain Python ints for large arrays):
the accumulator's state must equal the exact sums, and every result must be
the exact value rounded once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tskew.analyzers import exact
from tskew.analyzers.exact import ExactMoments

MAX = 1.7976931348623157e308
TINY = 5e-324  # smallest subnormal
SPECIAL = [
    0.0,
    -0.0,
    TINY,
    -TINY,
    2.2250738585072014e-308,  # smallest normal
    2.225073858507201e-308,  # largest subnormal
    1e-300,
    -1e-300,
    1e300,
    -1e300,
    1e308,
    -1e308,
    MAX,
    -MAX,
    0.1,
    1e16,
    1.0,
    2.0**53 + 2,
    float("nan"),
    float("inf"),
    float("-inf"),
]
any_float = st.one_of(
    st.floats(),  # everything, subnormals and non-finite included
    st.sampled_from(SPECIAL),
    st.floats(-1e6, 1e6),
    st.integers(-(2**20), 2**20).map(float),  # integral blocks take a fast path
)
float_lists = st.lists(any_float, max_size=120)
finite_lists = st.lists(
    st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(SPECIAL[:-3])),
    max_size=120,
)
INT64_EDGES = [-(2**63), -(2**63) + 1, 2**63 - 1, 0, -1, 2**53 + 1, -(2**53) - 1, 2**20, -(2**20)]
int64_lists = st.lists(
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from(INT64_EDGES), st.integers(-9, 9)),
    max_size=120,
)
uint64_lists = st.lists(
    st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 1, 2**63, 2**64 - 1])),
    max_size=120,
)
MODES = ("real", "tiny", "python")


@contextmanager
def mode(name: str) -> Iterator[None]:
    """Run the real code paths ("real"), tiny blocks so that few values cross
    every block, lane and flush boundary ("tiny"), or the pure-Python path."""
    if name == "tiny":
        small = {"_BLOCK": 8, "_FLUSH_BLOCKS": 2, "_INT_BLOCK": 8, "_SMALL_BLOCK": 8}
        with patch.multiple(exact, **small, _FEW=0, _LANES_MAX_SPAN=3):
            yield
    elif name == "python":
        with patch.object(exact, "_FEW", 1 << 30):
            yield
    else:
        yield


def acc_of(values, dtype=np.float64) -> ExactMoments:
    return ExactMoments().add(np.array(values, dtype=dtype))


def state(acc: ExactMoments) -> tuple[Fraction, Fraction]:
    """The exact sum and sum of squares held by ``acc``."""
    obj = acc.to_json()
    return (
        Fraction(int(obj["s1"], 16), 2**exact._SCALE),
        Fraction(int(obj["s2"], 16), 2 ** (2 * exact._SCALE)),
    )


def to_float(q: Fraction) -> float:
    """``q`` correctly rounded to float64, overflowing to +-inf."""
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


def bits(acc: ExactMoments) -> tuple[str, ...]:
    return tuple(float.hex(f()) for f in (acc.total, acc.mean, acc.variance))


def same_float(a: float, b: float) -> bool:
    return float.hex(a) == float.hex(b)


def check_against_oracle(acc: ExactMoments, values: list) -> None:
    """Counts, exact state and every result of ``acc`` against Fraction arithmetic."""
    nan = sum(1 for v in values if v != v)
    pos = sum(1 for v in values if v == math.inf)
    neg = sum(1 for v in values if v == -math.inf)
    finite = [Fraction(v) for v in values if v == v and abs(v) != math.inf]
    n = len(finite)
    s1 = sum(finite, Fraction(0))
    s2 = sum((v * v for v in finite), Fraction(0))
    assert (acc.count, acc.nan_count, acc.posinf_count, acc.neginf_count) == (n, nan, pos, neg)
    assert state(acc) == (s1, s2)

    inf = math.nan if pos and neg else math.inf if pos else -math.inf if neg else None
    total = inf if inf is not None else to_float(s1)
    mean = inf if inf is not None else to_float(s1 / n) if n else math.nan
    var = math.nan if inf is not None or not n else to_float((n * s2 - s1 * s1) / (n * n))
    assert same_float(acc.total(), total)
    assert same_float(acc.mean(), mean)
    assert same_float(acc.variance(), var)
    if inf is None:  # independent check of the rounding: fsum is correctly rounded too
        try:
            fsum = math.fsum(float(v) for v in finite)
        except OverflowError:  # fsum's intermediate overflow
            return
        assert same_float(acc.total() + 0.0, fsum + 0.0)  # fsum keeps -0.0 for all -0.0


# ------------------------------------------------------------------ exactness
@settings(max_examples=150, deadline=None)
@given(values=float_lists, how=st.sampled_from(MODES))
def test_floats_match_fraction_oracle(values, how):
    with mode(how):
        acc = acc_of(values)
    check_against_oracle(acc, values)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(width=32), max_size=100),
    width=st.sampled_from([16, 32]),
    how=st.sampled_from(MODES),
)
def test_narrow_floats_equal_their_float64_values(values, width, how):
    with np.errstate(over="ignore"):  # float32 values beyond float16 become +-inf: fine
        narrow = np.array(values, dtype=np.float32).astype(f"float{width}")
    with mode(how):
        acc = ExactMoments().add(narrow)
    check_against_oracle(acc, narrow.astype(np.float64).tolist())
    assert acc == ExactMoments().add(narrow.astype(np.float64))


@settings(max_examples=100, deadline=None)
@given(values=int64_lists, how=st.sampled_from(MODES))
def test_int64_is_exact_up_to_the_extremes(values, how):
    with mode(how):
        acc = acc_of(values, np.int64)
    n = len(values)
    s1, s2 = sum(values), sum(v * v for v in values)
    assert acc.count == n and state(acc) == (s1, s2)
    assert same_float(acc.total(), float(s1))
    assert same_float(acc.mean(), float(Fraction(s1, n)) if n else math.nan)
    if n:
        assert same_float(acc.variance(), float(Fraction(n * s2 - s1 * s1, n * n)))


@settings(max_examples=60, deadline=None)
@given(values=uint64_lists, how=st.sampled_from(MODES))
def test_uint64_is_exact_up_to_2_pow_64(values, how):
    with mode(how):
        acc = acc_of(values, np.uint64)
    assert acc.count == len(values)
    assert state(acc) == (sum(values), sum(v * v for v in values))


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32, np.int64, np.uint64]
)
def test_every_integer_dtype(dtype):
    info = np.iinfo(dtype)
    values = [int(info.min), int(info.max), 0, 1, int(info.max) // 3] * 7
    acc = acc_of(values, dtype)
    assert state(acc) == (sum(values), sum(v * v for v in values))
    if dtype != np.uint64:  # the same values through another dtype: the same state
        assert acc == acc_of(values, np.int64)


def test_bool_counts_trues():
    acc = acc_of([True, False, True, True])
    assert acc == acc_of([1, 0, 1, 1], np.int64) == acc_of([1.0, 0.0, 1.0, 1.0])
    assert (acc.count, acc.total(), acc.mean(), acc.variance()) == (4, 3.0, 0.75, 0.1875)


def test_large_arrays_with_real_block_sizes():
    """Several full blocks, NaNs, integral stretches and a wide exponent range, against
    Python ints (every float64 is an integer multiple of 2**-1074)."""
    rng = np.random.default_rng(7)
    n = 120_000
    x = rng.normal(size=n) * 10.0 ** rng.integers(-40, 40, n)
    x[rng.random(n) < 0.01] = np.nan
    x[40_000:75_000] = rng.integers(-1000, 1000, 35_000)  # one whole integral block
    wild = rng.integers(0, 2**64, 20_000, dtype=np.uint64).view(np.float64)
    x = np.concatenate([x, wild])  # random bit patterns: every exponent, NaN payloads, infs

    def scaled(v: float) -> int:
        num, den = v.as_integer_ratio()
        return num * (2**1074 // den)

    finite = [scaled(v) for v in x.tolist() if math.isfinite(v)]
    acc = ExactMoments().add(x)
    assert acc.count == len(finite)
    assert acc.nan_count == int(np.isnan(x).sum())
    assert acc.posinf_count + acc.neginf_count == int(np.isinf(x).sum())
    assert state(acc) == (
        Fraction(sum(finite), 2**1074),
        Fraction(sum(v * v for v in finite), 2**2148),
    )
    assert same_float(acc.total(), to_float(Fraction(sum(finite), 2**1074)))
    # order and batching (batches across block boundaries) do not matter
    shuffled = rng.permutation(x)
    batched = ExactMoments()
    for part in np.array_split(shuffled, [1, 32_767, 32_769, 100_003]):
        batched.add(part)
    assert batched == acc and bits(batched) == bits(acc)


def test_large_int64_arrays():
    rng = np.random.default_rng(8)
    v = rng.integers(-(2**63), 2**63 - 1, 300_000, dtype=np.int64, endpoint=True)
    values = v.tolist()
    acc = ExactMoments().add(v)
    assert state(acc) == (sum(values), sum(i * i for i in values))
    assert ExactMoments().add(v[::-1]) == acc


# ------------------------------------------------------------------ invariance
@settings(max_examples=120, deadline=None)
@given(values=float_lists, data=st.data())
def test_order_batching_and_merging_do_not_change_a_bit(values, data):
    reference = acc_of(values)
    shuffled = data.draw(st.permutations(values))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(values)), max_size=6)))
    with mode(data.draw(st.sampled_from(MODES))):
        parts = np.split(np.array(shuffled, dtype=np.float64), cuts)
        folded = ExactMoments()
        for part in parts:
            folded.add(part)  # a combiner's add_input
        accs = [ExactMoments().add(part) for part in parts]
    merged = ExactMoments.merge_all(accs[::-1])  # merge_accumulators, any order
    pairwise = ExactMoments()
    for acc in accs:
        pairwise = acc.merge(pairwise)
    for acc in (folded, merged, pairwise):
        assert acc == reference
        assert acc.to_json() == reference.to_json()
        assert bits(acc) == bits(reference)


@settings(max_examples=60, deadline=None)
@given(values=int64_lists, data=st.data())
def test_int_batching_invariance(values, data):
    reference = acc_of(values, np.int64)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(values)), max_size=5)))
    parts = np.split(np.array(data.draw(st.permutations(values)), dtype=np.int64), cuts)
    assert ExactMoments.merge_all(ExactMoments().add(p) for p in parts) == reference


@settings(max_examples=80, deadline=None)
@given(a=float_lists, b=float_lists)
def test_merge_equals_add_of_concatenation_and_leaves_inputs_alone(a, b):
    acc_a, acc_b = acc_of(a), acc_of(b)
    before = (acc_a.to_json(), acc_b.to_json())
    merged = acc_a.merge(acc_b)
    assert merged == acc_of(a + b)
    assert merged is not acc_a and merged is not acc_b
    assert (acc_a.to_json(), acc_b.to_json()) == before


@settings(max_examples=80, deadline=None)
@given(values=float_lists)
def test_json_round_trip_is_exact(values):
    acc = acc_of(values)
    text = json.dumps(acc.to_json(), allow_nan=False)  # strictly JSON-safe
    back = ExactMoments.from_json(json.loads(text))
    assert back == acc and back.to_json() == acc.to_json()
    assert bits(back) == bits(acc)
    assert back.merge(acc) == acc_of(values + values)


# ------------------------------------------------------------------ known values
def test_tft_published_mean_and_variance_with_nans():
    values = np.arange(1, 101, dtype=np.float64)
    with_nans = np.insert(values, [0, 10, 50, 100], np.nan)
    for arr in (with_nans, with_nans.astype(np.float32), np.arange(1, 101)):
        acc = ExactMoments().add(arr)
        assert acc.mean() == 50.5
        assert acc.variance() == 833.25
    assert ExactMoments().add(with_nans).nan_count == 4


@pytest.mark.parametrize("value", [3.7, 1e300, TINY, -MAX, 0.1, 0.0, -0.0, 2.0**60])
def test_constant_values_have_zero_variance(value):
    acc = ExactMoments().add(np.full(1000, value))
    assert acc.variance() == 0.0 and not math.copysign(1.0, acc.variance()) < 0
    assert acc.mean() == value


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.just(0.0), st.floats(1e-100, 1e100), st.floats(-1e100, -1e-100)),
        min_size=1,
        max_size=64,
    ),
    how=st.sampled_from(MODES),
)
def test_mean_is_fsum_over_n_when_n_is_a_power_of_two(values, how):
    n = 1 << (len(values).bit_length() - 1)  # dividing by 2**k is exact: no double rounding
    with mode(how):
        acc = acc_of(values[:n])
    assert acc.mean() == math.fsum(values[:n]) / n


@pytest.mark.parametrize(
    "values, mean",
    [
        ([0.1, 0.2, 0.3], 0.2),
        ([1.0, 2.0, 4.0], 7 / 3),
        ([1e16, 1.0, -1e16], 1 / 3),  # float adds would lose the 1.0
        ([0.1] * 10, 0.1),
        ([1e308, 1e308], 1e308),  # the sum overflows, the mean does not
    ],
)
def test_simple_means(values, mean):
    assert acc_of(values).mean() == mean


# ------------------------------------------------------------------ edge cases
@pytest.mark.parametrize(
    "values, total, mean, var",
    [
        ([1.0, math.inf], math.inf, math.inf, math.nan),
        ([1.0, -math.inf], -math.inf, -math.inf, math.nan),
        ([1.0, math.inf, -math.inf], math.nan, math.nan, math.nan),
        ([math.inf], math.inf, math.inf, math.nan),  # no finite value: the mean is still inf
        ([math.nan], 0.0, math.nan, math.nan),
        ([], 0.0, math.nan, math.nan),
        ([MAX, MAX], math.inf, MAX, 0.0),
        ([1e308, -1e308], 0.0, 0.0, math.inf),  # variance 1e616 overflows
        ([TINY, TINY, TINY], 3 * TINY, TINY, 0.0),
        ([TINY, 0.0], TINY, 0.0, 0.0),  # mean 2**-1075 ties to even (0); var underflows
        ([3 * TINY, 0.0], 3 * TINY, 2 * TINY, 0.0),  # mean 1.5 * TINY ties to even
    ],
)
def test_infinities_empties_and_extremes(values, total, mean, var):
    acc = acc_of(values)
    assert same_float(acc.total(), total)
    assert same_float(acc.mean(), mean)
    assert same_float(acc.variance(), var)


@pytest.mark.parametrize(
    "dtype", [np.float16, np.float32, np.float64, np.int64, np.int8, np.uint64, np.bool_]
)
def test_empty_arrays(dtype):
    acc = ExactMoments().add(np.array([], dtype=dtype))
    assert acc == ExactMoments() and acc.count == 0
    assert acc.total() == 0.0 and math.isnan(acc.mean()) and math.isnan(acc.variance())


def test_signed_zeros_are_finite_zeros():
    acc = acc_of([-0.0, 0.0, -0.0])
    assert acc.count == 3 and acc == acc_of([0.0, 0.0, 0.0])
    assert same_float(acc.total(), 0.0) and same_float(acc.mean(), 0.0)


def test_add_returns_self_and_accepts_views_and_byte_orders():
    acc = ExactMoments()
    x = np.linspace(-3, 7, 1001)
    assert acc.add(x[::3]) is acc
    assert acc == ExactMoments().add(x[::3].copy())
    assert ExactMoments().add(x.astype(">f8")) == ExactMoments().add(x)
    assert ExactMoments().add(np.arange(50, dtype=">i8")) == ExactMoments().add(np.arange(50))


@pytest.mark.parametrize(
    "values", [np.array([1 + 2j]), np.array(["a"]), np.array([1.0], dtype=object)]
)
def test_rejects_values_it_cannot_sum_exactly(values):
    with pytest.raises(TypeError, match="ExactMoments cannot sum"):
        ExactMoments().add(values)


def test_exact_sum_of_integers_is_an_int():
    acc = ExactMoments().add(np.array([2**62, 2**62, 2**62], dtype=np.int64))
    assert acc.exact_sum() == 3 * 2**62
    assert acc_of([0.5, 1.0]).exact_sum() == 1.5


def test_equality_is_on_the_full_state():
    assert acc_of([1.0, math.nan]) != acc_of([1.0])
    assert acc_of([1.0, math.inf]) != acc_of([1.0, -math.inf])
    assert acc_of([1.0, 2.0]) != acc_of([1.5, 1.5])  # same sum and count, other squares
    assert acc_of([1.0]) != {"count": 1}


def test_threads_adding_at_once_get_the_same_state():
    """Buffers are per thread: concurrent adds (threaded Beam runners) do not interfere."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(9)
    batches = [rng.normal(size=70_000) * 10.0 ** rng.integers(-5, 5) for _ in range(8)]
    expected = [ExactMoments().add(b) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda b: ExactMoments().add(b), batches))
    assert got == expected
