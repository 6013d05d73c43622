"""Axes: log only past two decades, linear from zero otherwise, and ticks at round numbers."""

from __future__ import annotations

import pytest

from cab_site.svg.scale import (
    LinearScale,
    LogScale,
    choose_scale,
    compact,
    nice_ceiling,
    nice_step,
    wants_log,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("values", "log"),
    [
        ([], False),
        ([0.0, 0.0], False),  # all zero
        ([0.3], False),  # one value
        ([0.01, 0.5], False),  # 1.7 decades
        ([0.01, 1.0], False),  # exactly 2 decades: not more
        ([0.01, 1.01], True),
        ([0.002, 0.4, 3.0], True),  # 3.2 decades
        ([0.0, 0.01, 100.0], False),  # a zero cannot sit on a log axis
    ],
)
def test_log_only_past_two_decades(values: list[float], log: bool) -> None:
    assert wants_log(values) is log
    assert choose_scale(values, 0, 100).kind == ("log" if log else "linear")


@pytest.mark.parametrize(
    ("values", "lo", "hi"),
    [
        ([], 0.0, 1.0),
        ([0.0, 0.0], 0.0, 1.0),
        ([0.3], 0.0, 0.3),
        ([0.02, 0.42, 1.2], 0.0, 1.5),  # 1.8 decades; 1.2 / 5 = 0.24 -> step 0.5
        ([0.002, 0.4, 3.0], 0.001, 10.0),  # whole decades around the values
        ([0.001, 0.5, 1000.0], 0.001, 1000.0),  # values on decades stay the ends
    ],
)
def test_domains(values: list[float], lo: float, hi: float) -> None:
    scale = choose_scale(values, 0, 100)
    assert (scale.lo, scale.hi) == (pytest.approx(lo), pytest.approx(hi))


def test_linear_maps_and_clamps() -> None:
    x = LinearScale(0.0, 2.0, 10.0, 110.0)
    assert [x(v) for v in (-1.0, 0.0, 0.5, 2.0, 3.0)] == [10.0, 10.0, 35.0, 110.0, 110.0]
    y = LinearScale(0.0, 1.0, 300.0, 100.0)  # upward
    assert [y(v) for v in (0.0, 0.25, 1.0)] == [300.0, 250.0, 100.0]
    assert LinearScale(0.0, 0.0, 5.0, 10.0)(3.0) == 5.0  # empty domain: no division by zero


def test_log_maps_decades_evenly() -> None:
    x = LogScale(0.001, 10.0, 0.0, 400.0)
    assert [x(v) for v in (0.001, 0.01, 0.1, 1.0, 10.0)] == pytest.approx([0, 100, 200, 300, 400])
    assert x(0.0) == 0.0 and x(1e6) == 400.0
    assert x.ticks() == pytest.approx([0.001, 0.01, 0.1, 1.0, 10.0])


@pytest.mark.parametrize(
    ("lo", "hi", "ticks"),
    [
        (0.0, 1.5, [0.0, 0.5, 1.0, 1.5]),
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (0.0, 5400.0, [0.0, 2000.0, 4000.0]),
        (0.0, 30.0, [0.0, 10.0, 20.0, 30.0]),  # 30 / 5 = 6 -> the next nice step, 10
    ],
)
def test_linear_ticks(lo: float, hi: float, ticks: list[float]) -> None:
    assert LinearScale(lo, hi, 0, 1).ticks() == pytest.approx(ticks)


@pytest.mark.parametrize(
    ("span", "step"), [(1.0, 0.2), (1.5, 0.5), (7.0, 2.0), (30.0, 10.0), (0.0, 1.0), (100.0, 20.0)]
)
def test_nice_step(span: float, step: float) -> None:
    assert nice_step(span) == pytest.approx(step)


@pytest.mark.parametrize(("value", "ceiling"), [(0.0, 1.0), (0.3, 0.3), (1.2, 1.5), (7.0, 8.0), (73.0, 80.0)])
def test_nice_ceiling(value: float, ceiling: float) -> None:
    assert nice_ceiling(value) == pytest.approx(ceiling)


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.0, "0"), (0.005, "0.005"), (0.25, "0.25"), (2.5, "2.5"), (40.0, "40"), (1200.0, "1.2k"), (3e6, "3M")],
)
def test_compact_labels(value: float, text: str) -> None:
    assert compact(value) == text
