"""The statistics a leaderboard compares agents by, as pure functions: a Wilson interval for a pass rate,
a seeded percentile bootstrap for a mean, and the two rerun estimators (pass@k, pass^k).

Why these: a pass rate over a few dozen cells is a proportion near 0 or 1 more often than not, where the
normal ("Wald") interval collapses or leaves [0, 1]; Wilson does neither. A mean composite has no closed
form interval, so it is bootstrapped over tasks with a fixed seed: the same results always print the same
interval. pass@k (Chen et al. 2021, "Evaluating Large Language Models Trained on Code") is the chance that
at least one of k reruns passes; pass^k (tau-bench, Yao et al. 2024) the chance that all k do: the first
rewards a lucky agent, the second a consistent one.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

Z_95 = 1.959963984540054
"""The two-sided 95 % quantile of the standard normal distribution."""


@dataclass(frozen=True)
class Interval:
    """A closed interval [low, high], e.g. a 95 % confidence interval."""

    low: float
    high: float


def wilson(successes: int, n: int, z: float = Z_95) -> Interval | None:
    """Wilson score interval for ``successes`` out of ``n``; None when ``n`` is 0 (nothing to estimate)."""
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n], got {successes} of {n}")
    if n == 0:
        return None
    p = successes / n
    z2 = z * z
    scale = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / scale
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / scale
    # at 0 or n successes the interval ends exactly at 0 or 1; rounding must not leave p outside it
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(low, high)


def quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of already sorted values, linear between order statistics (numpy's default)."""
    if not ordered:
        raise ValueError("quantile of no values")
    h = (len(ordered) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (h - lo) * (ordered[hi] - ordered[lo])


def bootstrap_mean(
    values: Sequence[float], *, resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> Interval | None:
    """Percentile bootstrap interval of the mean of ``values``: ``resamples`` draws with replacement from
    ``random.Random(seed)``, so the same values and seed give the same interval. None for no values; a
    single value (or all equal) gives the degenerate interval (v, v) without resampling."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if not values:
        return None
    first = values[0]
    if all(v == first for v in values):
        return Interval(first, first)
    rng = random.Random(seed)
    n = len(values)
    pool = list(values)
    # one draw of every resample at once: the same stream as ``resamples`` calls of k=n, less overhead
    draws = rng.choices(pool, k=n * resamples)
    means = sorted(sum(draws[i : i + n]) / n for i in range(0, n * resamples, n))
    tail = (1 - level) / 2
    return Interval(quantile(means, tail), quantile(means, 1 - tail))


def _check_counts(n: int, c: int, k: int) -> None:
    if not 0 <= c <= n:
        raise ValueError(f"passes must be in [0, n], got c={c}, n={n}")
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, n], got k={k}, n={n}")


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of the chance that at least one of ``k`` reruns passes, from ``c`` passes in
    ``n`` reruns: 1 - C(n-c, k) / C(n, k)."""
    _check_counts(n, c, k)
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """Unbiased estimate of the chance that all ``k`` reruns pass (tau-bench's pass^k): C(c, k) / C(n, k)."""
    _check_counts(n, c, k)
    return math.comb(c, k) / math.comb(n, k)


def median(values: Sequence[float]) -> float | None:
    """The median, or None for no values."""
    return statistics.median(values) if values else None
