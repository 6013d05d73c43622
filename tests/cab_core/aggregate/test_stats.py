"""The estimators against values worked out by hand (the arithmetic is in the comments)."""

from __future__ import annotations

import pytest

import cab_core.aggregate as aggregate_pkg
from cab_core.aggregate import (
    Interval,
    bootstrap_mean,
    median,
    pass_at_k,
    pass_hat_k,
    quantile,
    wilson,
)

pytestmark = pytest.mark.unit


def test_public_api_is_pinned() -> None:
    assert sorted(aggregate_pkg.__all__) == sorted(
        [
            "GROUP_FIELDS",
            "Z_95",
            "CellFacts",
            "GroupStats",
            "Interval",
            "aggregate",
            "bootstrap_mean",
            "check_by",
            "facts",
            "latest",
            "median",
            "pass_at_k",
            "pass_hat_k",
            "quantile",
            "total_tokens",
            "wilson",
        ]
    )
    assert all(hasattr(aggregate_pkg, name) for name in aggregate_pkg.__all__)


# z = 1.959964, z^2 = 3.841459. centre = (p + z^2/2n) / (1 + z^2/n);
# half = z * sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n).
WILSON = {
    # p=.7: scale 1.384146, centre .892073/1.384146=.644493, half 1.959964*sqrt(.021+.009604)/1.384146=.247715
    "7_of_10": (7, 10, (0.3968, 0.8922)),
    # p=.5: scale 1.038415, centre .5, half 1.959964*sqrt(.0025+.000096)/1.038415=.096169
    "50_of_100": (50, 100, (0.4038, 0.5962)),
    # p=.5: scale 1.480182, half 1.959964*sqrt(.03125+.015006)/1.480182=.284784
    "4_of_8": (4, 8, (0.2152, 0.7848)),
    # p=0: centre = half = .192073/1.384146 = .138767, so the low end is 0 exactly
    "0_of_10": (0, 10, (0.0, 0.2775)),
    "10_of_10": (10, 10, (0.7225, 1.0)),
    # p=1, n=1: scale 4.841459, centre 2.920729/4.841459=.603274, half 1.920729/4.841459=.396725
    "1_of_1": (1, 1, (0.2065, 1.0)),
}


@pytest.mark.parametrize("case", sorted(WILSON))
def test_wilson_interval(case: str) -> None:
    successes, n, (low, high) = WILSON[case]
    got = wilson(successes, n)
    assert got is not None
    assert (round(got.low, 4), round(got.high, 4)) == (low, high)
    assert 0.0 <= got.low <= successes / n <= got.high <= 1.0


def test_wilson_of_nothing_is_none_and_bad_counts_raise() -> None:
    assert wilson(0, 0) is None
    with pytest.raises(ValueError, match="successes"):
        wilson(3, 2)
    with pytest.raises(ValueError, match="successes"):
        wilson(-1, 2)


PASS_AT_K = {
    # 1 - C(n-c, k) / C(n, k)
    "n5_c2_k2": (5, 2, 2, 0.7),  # 1 - C(3,2)/C(5,2) = 1 - 3/10
    "n5_c2_k1": (5, 2, 1, 0.4),  # 1 - 3/5: pass@1 is the plain rate
    "n5_c0_k3": (5, 0, 3, 0.0),  # nothing passed, nothing can
    "n5_c4_k2": (5, 4, 2, 1.0),  # C(1,2) = 0: any two reruns include a pass
    "n10_c3_k5": (10, 3, 5, 11 / 12),  # 1 - C(7,5)/C(10,5) = 1 - 21/252
}
PASS_HAT_K = {
    # C(c, k) / C(n, k)
    "n5_c2_k2": (5, 2, 2, 0.1),  # C(2,2)/C(5,2) = 1/10
    "n5_c2_k1": (5, 2, 1, 0.4),  # 2/5: pass^1 is the plain rate too
    "n5_c2_k3": (5, 2, 3, 0.0),  # C(2,3) = 0
    "n5_c5_k5": (5, 5, 5, 1.0),
    "n10_c3_k2": (10, 3, 2, 1 / 15),  # C(3,2)/C(10,2) = 3/45
}


@pytest.mark.parametrize("case", sorted(PASS_AT_K))
def test_pass_at_k(case: str) -> None:
    n, c, k, want = PASS_AT_K[case]
    assert pass_at_k(n, c, k) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("case", sorted(PASS_HAT_K))
def test_pass_hat_k(case: str) -> None:
    n, c, k, want = PASS_HAT_K[case]
    assert pass_hat_k(n, c, k) == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(5, 2, 0), (5, 2, 6), (5, 6, 2), (5, -1, 1)])
@pytest.mark.parametrize("estimator", [pass_at_k, pass_hat_k])
def test_rerun_estimators_reject_impossible_counts(estimator: object, n: int, c: int, k: int) -> None:
    assert callable(estimator)
    with pytest.raises(ValueError):
        estimator(n, c, k)


def test_bootstrap_of_nothing_one_value_or_equal_values() -> None:
    assert bootstrap_mean([]) is None
    assert bootstrap_mean([0.4]) == Interval(0.4, 0.4)
    assert bootstrap_mean([0.5, 0.5, 0.5]) == Interval(0.5, 0.5)


def test_bootstrap_is_deterministic_per_seed_and_contains_the_mean() -> None:
    values = [0.0, 1.0, 0.5, 0.25, 0.75, 0.1, 0.9]
    first = bootstrap_mean(values, seed=7)
    assert first is not None
    assert bootstrap_mean(values, seed=7) == first
    assert bootstrap_mean(list(values), seed=7) == first  # same values, fresh list
    assert bootstrap_mean(values, seed=8) != first
    mean = sum(values) / len(values)
    assert min(values) <= first.low < mean < first.high <= max(values)
    narrow = bootstrap_mean(values, seed=7, level=0.5)
    assert narrow is not None and first.low < narrow.low < mean < narrow.high < first.high


def test_bootstrap_of_a_coin_spans_it() -> None:
    # resampling [0, 1] twice gives a mean of 0, .5 or 1 with chance 1/4, 1/2, 1/4: about 500 of 2000
    # resamples are 0 and 500 are 1, so the 2.5 % and 97.5 % quantiles are 0 and 1
    assert bootstrap_mean([0.0, 1.0]) == Interval(0.0, 1.0)


def test_bootstrap_rejects_a_level_outside_0_1() -> None:
    with pytest.raises(ValueError, match="level"):
        bootstrap_mean([0.1, 0.2], level=1.0)


@pytest.mark.parametrize(
    ("q", "want"), [(0.0, 1.0), (0.25, 1.75), (0.5, 2.5), (1.0, 4.0)]
)  # h = 3q between order statistics 1, 2, 3, 4
def test_quantile_interpolates_between_order_statistics(q: float, want: float) -> None:
    assert quantile([1.0, 2.0, 3.0, 4.0], q) == pytest.approx(want)


def test_median() -> None:
    assert median([]) is None
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 4.0]) == 2.5
