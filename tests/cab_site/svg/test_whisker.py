"""The leaderboard's whisker: the interval's ends sit where their values say on a shared 0..1 track."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from cab_site.svg import interval_text, whisker
from tests.cab_site.svg.svgtree import find_all, parse, texts

pytestmark = pytest.mark.unit

# default width 120, 4 px kept free at each end: 0 at x=4, 1 at x=116, so x = 4 + 112 * value


def x_of(out: Markup, class_: str, attr: str) -> float:
    root = parse(out)
    (found,) = [e for tag in ("line", "circle", "rect") for e in find_all(root, tag, class_)]
    return float(found.get(attr) or "nan")


@pytest.mark.parametrize(
    ("value", "low", "high", "x_value", "x_low", "x_high"),
    [
        (0.5, 0.25, 0.75, 60.0, 32.0, 88.0),
        (0.0, 0.0, 0.125, 4.0, 4.0, 18.0),
        (1.0, 0.875, 1.0, 116.0, 102.0, 116.0),
        (1.5, -0.5, 2.0, 116.0, 4.0, 116.0),  # outside 0..1: drawn at the ends
    ],
)
def test_interval_ends_are_proportional_to_their_values(
    value: float, low: float, high: float, x_value: float, x_low: float, x_high: float
) -> None:
    out = whisker(value, low, high)
    assert x_of(out, "value", "cx") == pytest.approx(x_value)
    assert x_of(out, "ci-low", "x1") == pytest.approx(x_low)
    assert x_of(out, "ci-high", "x1") == pytest.approx(x_high)
    assert x_of(out, "ci", "x1") == pytest.approx(x_low)
    assert x_of(out, "ci", "x2") == pytest.approx(x_high)
    assert x_of(out, "bar", "width") == pytest.approx(x_value - 4)


def test_width_and_height_are_honoured() -> None:
    root = parse(whisker(0.5, 0.25, 0.75, width=220, height=20))
    assert (root.get("width"), root.get("height")) == ("220", "20")
    (dot,) = find_all(root, "circle", "value")
    assert (dot.get("cx"), dot.get("cy")) == ("110", "10")  # 4 + 212 * 0.5, half the height


def test_title_gives_the_numbers() -> None:
    root = parse(whisker(0.625, 0.401, 0.803))
    assert texts(root) == ["62.5 % (95 % CI 40.1-80.3 %)"]
    assert root.get("aria-label") == "62.5 % (95 % CI 40.1-80.3 %)"


def test_no_rate_draws_an_empty_track() -> None:
    root = parse(whisker(None, None, None))
    assert texts(root) == ["no graded cells"]
    assert len(find_all(root, "rect", "track")) == 1
    assert find_all(root, "circle") == [] and find_all(root, "line") == []


def test_a_rate_without_interval_has_no_caps() -> None:
    root = parse(whisker(0.5, None, None))
    assert find_all(root, "line") == []
    assert len(find_all(root, "circle", "value")) == 1
    assert texts(root) == ["50.0 %"]


@pytest.mark.parametrize(
    ("value", "low", "high", "text"),
    [
        (None, None, None, "no graded cells"),
        (1.0, None, None, "100.0 %"),
        (0.0, 0.0, 0.2066, "0.0 % (95 % CI 0.0-20.7 %)"),
        (0.625, 0.4011, 0.8034, "62.5 % (95 % CI 40.1-80.3 %)"),
    ],
)
def test_interval_text(value: float | None, low: float | None, high: float | None, text: str) -> None:
    assert interval_text(value, low, high) == text
