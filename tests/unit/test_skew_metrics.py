"""Skew metrics: hand-computed cases, edge cases, and golden values from TFDV 1.16.1.

The golden file ``tests/data/tfdv_golden.json`` is written by ``benchmarks/tfdv_golden.py`` in
the TFDV venv (``benchmarks/tfdv_env.sh``): it holds TFDV's own statistics (rank histograms,
STANDARD histograms with ``num_nan``) and the skew measurements ``tfdv.validate_statistics``
reported for them. Feeding the same inputs to tskew must reproduce TFDV's values to
``GOLDEN_TOL`` (1e-9 absolute; they agree bit for bit on this machine).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from tskew.skew.metrics import (
    buckets_from_edges,
    categorical_jensen_shannon_divergence,
    jensen_shannon_divergence,
    kolmogorov_smirnov,
    linf_distance,
    missing_rate_change,
    population_stability_index,
    share_outside,
    unseen_share,
    wasserstein_normalized,
)

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "tfdv_golden.json"
GOLDEN_TOL = 1e-9
INF = math.inf
LOG2_3 = math.log2(3)


def isnan(x: float) -> bool:
    return isinstance(x, float) and math.isnan(x)


# ------------------------------------------------------------------------------------------
# L-infinity


class TestLinf:
    def test_hand_case(self):
        # train shares a .6 b .3 c .1; serve a .5 b .5 -> diffs .1, -.2, .1 -> 0.2 at 'b'
        value, key = linf_distance({"a": 6, "b": 3, "c": 1}, {"a": 5, "b": 5})
        assert value == pytest.approx(0.2, abs=1e-15)
        assert key == "b"

    def test_tie_goes_to_last_key_like_tfdv(self):
        # .5/.5 vs .75/.25: |diff| .25 for both; TFDV's map walk with >= keeps the last key
        assert linf_distance({"a": 2, "b": 2}, {"a": 3, "b": 1}) == (0.25, "b")

    def test_byte_wise_key_order(self):
        # "B" (0x42) sorts before "a" (0x61): the tie goes to "a"
        assert linf_distance({"a": 1}, {"B": 1}) == (1.0, "a")

    def test_disjoint_categories_give_the_largest_share(self):
        # shares x .75 y .25 vs z 1.0: max share over both sides = 1.0, at z
        assert linf_distance({"x": 3, "y": 1}, {"z": 1}) == (1.0, "z")
        # x .6 y .4 vs z .5 w .5: max share .6 at x
        assert linf_distance({"x": 3, "y": 2}, {"z": 1, "w": 1}) == (0.6, "x")

    def test_identical_distributions_give_zero(self):
        value, _ = linf_distance({"a": 1, "b": 3}, {"a": 10, "b": 30})
        assert value == 0.0

    def test_integer_keys(self):
        # 1: .5, 10: .5, 2: -1 -> (1.0, 2)
        assert linf_distance({1: 1, 10: 1}, {2: 2}) == (1.0, 2)

    def test_empty_gives_nan(self):
        value, key = linf_distance({"a": 1}, {})
        assert isnan(value) and key is None
        value, key = linf_distance({}, {"a": 1})
        assert isnan(value) and key is None
        value, _ = linf_distance({"a": 1}, {"a": 0})
        assert isnan(value)

    def test_negative_count_rejected(self):
        with pytest.raises(ValueError):
            linf_distance({"a": -1}, {"a": 1})


class TestCategoricalJsd:
    def test_hand_case(self):
        # p = (.5, .5), q = (1, 0), m = (.75, .25):
        # KL(p||m) = .5 log2(2/3) + .5 log2 2 = 1 - .5 log2 3; KL(q||m) = log2(4/3) = 2 - log2 3
        # JSD = (3 - 1.5 log2 3) / 2 = 1.5 - .75 log2 3
        value = categorical_jensen_shannon_divergence({"a": 1, "b": 1}, {"a": 7})
        assert value == pytest.approx(1.5 - 0.75 * LOG2_3, abs=1e-15)

    def test_identical_disjoint_empty(self):
        assert categorical_jensen_shannon_divergence({"a": 1, "b": 2}, {"a": 2, "b": 4}) == 0.0
        assert categorical_jensen_shannon_divergence({"a": 1}, {"b": 2}) == 1.0
        assert isnan(categorical_jensen_shannon_divergence({"a": 1}, {}))


class TestUnseenShare:
    def test_hand_case(self):
        # serving 6 a + 2 c + 2 d; c and d unseen -> 4/10
        assert unseen_share({"a", "b"}, {"a": 6, "c": 2, "d": 2}) == 0.4
        assert unseen_share(["a", "b"], {"a": 6, "c": 2, "d": 2}) == 0.4
        assert unseen_share({"a": 3}, {"a": 6}) == 0.0

    def test_empty_gives_nan(self):
        assert isnan(unseen_share({"a"}, {}))
        assert unseen_share(set(), {"a": 1}) == 1.0


# ------------------------------------------------------------------------------------------
# PSI


class TestPsi:
    def test_hand_case(self):
        # shares (.5, .5) -> (.25, .75): -.25 ln .5 + .25 ln 1.5 = .25 ln 3
        value = population_stability_index(np.array([2, 2]), np.array([1, 3]))
        assert value == pytest.approx(0.25 * math.log(3), abs=1e-15)

    def test_symmetric_in_its_arguments(self):
        a, b = np.array([5, 3, 2]), np.array([1, 1, 8])
        assert population_stability_index(a, b) == pytest.approx(population_stability_index(b, a))

    def test_empty_bin_floored_at_epsilon(self):
        # t = (1, 0 -> 1e-4), s = (.5, .5): (.5 - 1) ln .5 + (.5 - 1e-4) ln(.5 / 1e-4)
        expected = -0.5 * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
        value = population_stability_index(np.array([1, 0]), np.array([1, 1]))
        assert value == pytest.approx(expected, rel=1e-14)
        # a larger floor gives a smaller value
        assert population_stability_index(np.array([1, 0]), np.array([1, 1]), epsilon=0.01) < value

    def test_bin_empty_on_both_sides_contributes_nothing(self):
        assert population_stability_index(np.array([1, 0, 3]), np.array([2, 0, 6])) == 0.0

    def test_identical_gives_zero_and_empty_gives_nan(self):
        assert population_stability_index(np.array([3, 1]), np.array([30, 10])) == 0.0
        assert isnan(population_stability_index(np.array([3, 1]), np.array([0, 0])))
        assert isnan(population_stability_index(np.array([]), np.array([])))

    def test_invalid(self):
        with pytest.raises(ValueError):
            population_stability_index(np.array([1, 2]), np.array([1]))
        with pytest.raises(ValueError):
            population_stability_index(np.array([1, -2]), np.array([1, 1]))
        with pytest.raises(ValueError):
            population_stability_index(np.array([1]), np.array([1]), epsilon=0.0)


# ------------------------------------------------------------------------------------------
# Jensen-Shannon divergence on histograms (TFDV's algorithm)

HALF_SPLIT = 1.5 - 0.75 * LOG2_3  # JSD of (.5, .5) vs (1, 0), see TestCategoricalJsd


class TestJsd:
    def test_identical_buckets_give_zero(self):
        b = [(0.0, 1.0, 3), (1.0, 2.0, 5)]
        assert jensen_shannon_divergence(b, [(lo, hi, 2 * c) for lo, hi, c in b]) == 0.0

    def test_disjoint_supports_give_one(self):
        assert jensen_shannon_divergence([(0, 1, 5)], [(1, 2, 5)]) == 1.0

    def test_rebucketing_spreads_uniformly(self):
        # boundaries {0,2} vs {0,1}: union (0,1,2); train [0,2):4 -> [0,1):2 [1,2):2 = (.5, .5);
        # serve [0,1):4 -> (1, 0)
        value = jensen_shannon_divergence([(0, 2, 4)], [(0, 1, 4)])
        assert value == pytest.approx(HALF_SPLIT, abs=1e-15)
        # three-way split: [0,3):3 onto (0,1,2,3) is (1,1,1), as fine as serving's buckets
        fine = [(0, 1, 1), (1, 2, 1), (2, 3, 1)]
        assert jensen_shannon_divergence([(0, 3, 3)], fine) == 0.0

    def test_point_mass_bucket(self):
        # train: point 3 x10; serve: point 3 x6 and [2,4) x4. Buckets after alignment:
        # [2,4): (0, 4), point 3: (10, 6) -> p = (0, 1), q = (.4, .6), m = (.2, .8)
        # KL(p||m) = log2 1.25; KL(q||m) = .4 log2 2 + .6 log2 .75
        expected = (math.log2(1.25) + 0.4 + 0.6 * math.log2(0.75)) / 2
        value = jensen_shannon_divergence([(3, 3, 10)], [(3, 3, 6), (2, 4, 4)])
        assert value == pytest.approx(expected, abs=1e-15)
        assert jensen_shannon_divergence([(3, 3, 10)], [(3, 3, 1)]) == 0.0

    def test_infinite_mass_never_matches(self):
        # TFDV appends training's infinite mass and serving's as separate buckets:
        # c1 = (3, 1, 0), c2 = (3, 0, 1) -> p = (.75, .25, 0), q = (.75, 0, .25),
        # m = (.75, .125, .125), KL = .25 log2 2 each -> JSD .25 for identical data
        b = [(0.0, 1.0, 3), (INF, INF, 1)]
        assert jensen_shannon_divergence(b, b) == 0.25
        # +inf and -inf and any bucket with an infinite bound are one mass
        other = [(-INF, -INF, 0.5), (0.0, 1.0, 3), (1.0, INF, 0.5)]
        assert jensen_shannon_divergence(b, other) == 0.25

    def test_nan_with_the_same_boundaries_never_matches(self):
        # same boundaries: NaN buckets appended as (0, nan_t) vs (nan_s, 0):
        # c1 = (4, 0, 0), c2 = (4, 4, 0) -> (1, 0, 0) vs (.5, .5, 0) -> HALF_SPLIT
        value = jensen_shannon_divergence([(0, 1, 4)], [(0, 1, 4)], 0, 4)
        assert value == pytest.approx(HALF_SPLIT, abs=1e-15)
        # identical data with NaN: (2, 0, 2) vs (2, 2, 0) -> (.5, 0, .5) vs (.5, .5, 0):
        # m = (.5, .25, .25): KL = .5 log2 2 each -> .5
        assert jensen_shannon_divergence([(0, 1, 2)], [(0, 1, 2)], 2, 2) == 0.5
        # only NaN on both sides: (0, 3) vs (3, 0) -> 1
        assert jensen_shannon_divergence([], [], 3, 3) == 1.0

    def test_nan_is_dropped_when_rebucketed(self):
        # different boundaries -> RebucketHistogram builds new protos without num_nan
        with_nan = jensen_shannon_divergence([(0, 2, 4)], [(0, 1, 4)], 5, 1)
        assert with_nan == jensen_shannon_divergence([(0, 2, 4)], [(0, 1, 4)])

    def test_capped_at_one_and_empty_gives_nan(self):
        assert jensen_shannon_divergence([(0, 1, 1e300)], [(2, 3, 1e-300)]) <= 1.0
        assert isnan(jensen_shannon_divergence([(0, 1, 5)], []))
        assert isnan(jensen_shannon_divergence([(0, 1, 5)], [(0, 1, 0)]))
        assert isnan(jensen_shannon_divergence([], [(0, 1, 5)]))

    def test_invalid_buckets(self):
        with pytest.raises(ValueError):
            jensen_shannon_divergence([(1, 0, 1)], [(0, 1, 1)])
        with pytest.raises(ValueError):
            jensen_shannon_divergence([(0, 2, 1), (1, 3, 1)], [(0, 1, 1)])
        with pytest.raises(ValueError):
            jensen_shannon_divergence([(0, 1, -1)], [(0, 1, 1)])
        with pytest.raises(ValueError):
            jensen_shannon_divergence([(0, 1, 1)], [(0, 1, 1)], train_nan=-1)

    def test_buckets_from_edges(self):
        edges = [0.0, 1.0, 2.0]
        got = buckets_from_edges(edges, [3, 4], below=1, above=2, low=-1.0, high=5.0, pos_inf=1)
        assert got == [
            (-1.0, 0.0, 1.0),
            (0.0, 1.0, 3.0),
            (1.0, 2.0, 4.0),
            (2.0, 5.0, 2.0),
            (INF, INF, 1.0),
        ]
        assert buckets_from_edges(edges, [3, 4], neg_inf=2)[0] == (-INF, -INF, 2.0)
        with pytest.raises(ValueError):
            buckets_from_edges(edges, [1, 2, 3])
        # serving binned on training's edges with one value below: [-1,0): 1 of 4 values
        # train (0,1):2 (1,2):2 -> union (-1,0,1,2): (0, .5, .5) vs (.25, .25, .5)
        serve = buckets_from_edges(edges, [1, 2], below=1, low=-1.0)
        value = jensen_shannon_divergence(buckets_from_edges(edges, [2, 2]), serve)
        m = (0.125, 0.375, 0.5)
        expected = (
            0.5 * math.log2(0.5 / m[1])
            + 0.25 * math.log2(0.25 / m[0])
            + 0.25 * math.log2(0.25 / m[1])
        ) / 2
        assert value == pytest.approx(expected, abs=1e-15)


# ------------------------------------------------------------------------------------------
# KS and Wasserstein on a grid


class TestKs:
    def test_hand_case(self):
        x = np.array([1.0, 2.0, 3.0, 4.0])
        ft = np.array([0.25, 0.5, 0.75, 1.0])
        fs = np.array([0.0, 0.1, 0.5, 1.0])
        # |diffs| = .25 .4 .25 0 -> (0.4, 2.0)
        value, at = kolmogorov_smirnov(x, ft, fs)
        assert value == pytest.approx(0.4) and at == 2.0

    def test_first_point_of_a_tie_and_identical(self):
        x = np.array([1.0, 2.0])
        assert kolmogorov_smirnov(x, np.array([0.5, 1.0]), np.array([0.0, 0.5])) == (0.5, 1.0)
        assert kolmogorov_smirnov(x, np.array([0.5, 1.0]), np.array([0.5, 1.0])) == (0.0, 1.0)

    def test_empty_and_nan(self):
        value, at = kolmogorov_smirnov(np.array([]), np.array([]), np.array([]))
        assert isnan(value) and isnan(at)
        value, at = kolmogorov_smirnov(np.array([1.0]), np.array([1.0]), np.array([np.nan]))
        assert isnan(value) and isnan(at)
        with pytest.raises(ValueError):
            kolmogorov_smirnov(np.array([1.0]), np.array([1.0, 1.0]), np.array([1.0]))


class TestWasserstein:
    def test_hand_case(self):
        # |.5 - 0| * (1 - 0) + |1 - .5| * (3 - 1) = 1.5; / std .5 = 3
        x = np.array([0.0, 1.0, 3.0])
        got = wasserstein_normalized(x, np.array([0.5, 1.0, 1.0]), np.array([0.0, 0.5, 1.0]), 0.5)
        assert got == 3.0

    def test_matches_the_exact_distance_of_two_samples(self):
        # samples {0, 1} and {1, 2}: W1 = 1; CDFs on the grid of all jumps (0, 1, 2)
        x = np.array([0.0, 1.0, 2.0])
        got = wasserstein_normalized(x, np.array([0.5, 1.0, 1.0]), np.array([0.0, 0.5, 1.0]), 1.0)
        assert got == 1.0

    def test_degenerate_std(self):
        x, f = np.array([1.0, 2.0]), np.array([0.5, 1.0])
        assert wasserstein_normalized(x, f, f, 0.0) == 0.0
        assert wasserstein_normalized(x, f, f, math.nan) == 0.0
        assert isnan(wasserstein_normalized(x, f, np.array([0.0, 1.0]), 0.0))
        assert wasserstein_normalized(x, f, f, 2.0) == 0.0

    def test_empty_nan_and_invalid(self):
        assert isnan(wasserstein_normalized(np.array([]), np.array([]), np.array([]), 1.0))
        nan_cdf = np.array([np.nan, np.nan])
        assert isnan(wasserstein_normalized(np.array([1.0, 2.0]), np.array([0.5, 1]), nan_cdf, 1))
        with pytest.raises(ValueError):
            wasserstein_normalized(np.array([2.0, 1.0]), np.array([0.5, 1]), np.array([0.5, 1]), 1)


# ------------------------------------------------------------------------------------------
# shares and rates


def test_share_outside():
    assert share_outside(1, 3, 16) == 0.25
    assert share_outside(0, 0, 5) == 0.0
    assert isnan(share_outside(0, 0, 0))
    with pytest.raises(ValueError):
        share_outside(3, 3, 5)


def test_missing_rate_change():
    # 1/4 -> 3/4
    assert missing_rate_change(1, 4, 3, 4) == 0.5
    assert missing_rate_change(3, 4, 1, 4) == 0.5
    assert missing_rate_change(1, 10, 2, 20) == 0.0
    assert isnan(missing_rate_change(1, 4, 0, 0))
    assert isnan(missing_rate_change(0, 0, 1, 4))
    with pytest.raises(ValueError):
        missing_rate_change(5, 4, 0, 4)


# ------------------------------------------------------------------------------------------
# golden values from TFDV 1.16.1


def _golden_features():
    golden = json.loads(GOLDEN.read_text())
    for case, body in golden["cases"].items():
        for feature, data in body["features"].items():
            yield pytest.param(data, id=f"{case}-{feature}")


def _buckets(histogram: dict) -> list[tuple[float, float, float]]:
    return [(float(lo), float(hi), float(c)) for lo, hi, c in histogram["buckets"]]


def test_golden_file_covers_the_edge_cases():
    cases = json.loads(GOLDEN.read_text())["cases"]
    assert {
        "categorical_drift",
        "categorical_identical",
        "categorical_disjoint",
        "numeric_drift",
        "numeric_nan_inf_drift",
        "numeric_identical",
        "numeric_identical_nan_inf",
        "point_mass",
        "arrow_nan_same_range",
        "arrow_nan_identical",
        "arrow_nan_drift",
    } <= set(cases)
    fare = cases["arrow_nan_same_range"]["features"]["fare"]
    assert fare["train"]["standard"]["num_nan"] == 2 and fare["serve"]["standard"]["num_nan"] == 5
    point = cases["point_mass"]["features"]["fare"]["train"]["standard"]["buckets"]
    assert len(point) == 1 and point[0][:2] == [3.0, 3.0]  # one zero-width bucket (count ~100)


@pytest.mark.parametrize("data", list(_golden_features()))
def test_matches_tfdv(data):
    train, serve, tfdv = data["train"], data["serve"], data["tfdv"]
    if train["kind"] == "categorical":
        value, key = linf_distance(train["counts"], serve["counts"])
        assert value == pytest.approx(tfdv["l_infty"], abs=GOLDEN_TOL)
        if "l_infty_value" in tfdv:  # TFDV names the category only when it reports an anomaly
            assert key == tfdv["l_infty_value"]
        jsd = categorical_jensen_shannon_divergence(train["counts"], serve["counts"])
    else:
        t, s = train["standard"], serve["standard"]
        jsd = jensen_shannon_divergence(_buckets(t), _buckets(s), t["num_nan"], s["num_nan"])
    assert jsd == pytest.approx(tfdv["jensen_shannon_divergence"], abs=GOLDEN_TOL)
