"""The span waterfall: bars where their times say on one axis, failed spans marked, exact times in the
tooltips, ticks in ms or s."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cab_site.svg import WaterfallSpan, waterfall
from cab_site.svg.color import kind_color
from cab_site.svg.waterfall import ms_text, tick_text
from tests.cab_site.svg.svgtree import HOSTILE, HOSTILE_AS_TEXT, find_all, parse, tags, texts

pytestmark = pytest.mark.unit


def span(name: str, start: float, duration: float, *, kind: str = "container", depth: int = 1,
         error: str | None = None) -> WaterfallSpan:  # fmt: skip
    return WaterfallSpan(name, kind, start, duration, depth, error)


def geometry(root: ET.Element) -> list[tuple[float, float]]:
    return [
        (float(b.get("x") or "nan"), float(b.get("width") or "nan")) for b in find_all(root, "rect", "bar")
    ]


def test_bars_are_placed_on_a_shared_time_axis() -> None:
    spans = [
        span("cell", 0, 4000, kind="adapter_run", depth=0),
        span("setup", 0, 1000),
        span("run", 1000, 2000),
        span("score", 3000, 1000),
    ]
    (a, b, c, d) = geometry(parse(waterfall(spans)))
    left, full = a
    assert left > 0 and left + full == pytest.approx(720 - 8)  # 0 .. last end fills the chart
    assert b == pytest.approx((left, full / 4))
    assert c == pytest.approx((left + full / 4, full / 2))
    assert d == pytest.approx((left + full * 3 / 4, full / 4))


def test_one_row_per_span_coloured_by_kind() -> None:
    spans = [
        span("a", 0, 10, kind="task_setup"),
        span("b", 10, 10, kind="scoring"),
        span("c", 5, 1, kind="odd"),
    ]
    root = parse(waterfall(spans))
    assert len(find_all(root, "g", "span")) == 3
    assert [b.get("fill") for b in find_all(root, "rect", "bar")] == [
        kind_color("task_setup"),
        kind_color("scoring"),
        kind_color("odd"),
    ]
    assert kind_color("odd") == kind_color("odd") != ""  # unknown kinds get a stable colour
    (legend,) = find_all(root, "g", "legend")
    assert texts(legend, "text") == ["task_setup", "scoring", "odd"]


def test_error_spans_are_marked_and_explained() -> None:
    root = parse(waterfall([span("ok", 0, 10), span("scoring", 10, 5, error="pytest timed out")]))
    (bad,) = find_all(root, "rect", "error")
    assert bad.get("stroke") == "#b00020"
    assert len(find_all(root, "circle", "error-mark")) == 1
    assert "scoring (container)\nstart 10 ms, duration 5 ms\nerror: pytest timed out" in texts(root)


def test_tooltips_give_exact_milliseconds() -> None:
    root = parse(waterfall([span("x", 12.25, 1234.5678)]))
    assert "x (container)\nstart 12.25 ms, duration 1234.568 ms" in texts(root)


def test_tiny_spans_stay_visible() -> None:
    (_, tiny) = geometry(parse(waterfall([span("long", 0, 100_000), span("tiny", 50, 0.001)])))
    assert tiny[1] == 1.0


@pytest.mark.parametrize(
    ("last_end", "labels"),
    [
        (1000.0, ["0 ms", "200 ms", "400 ms", "600 ms", "800 ms", "1000 ms"]),
        (1999.0, ["0 ms", "500 ms", "1000 ms", "1500 ms"]),
        (5400.0, ["0 s", "2 s", "4 s"]),
        (30_000.0, ["0 s", "10 s", "20 s", "30 s"]),
    ],
)
def test_ticks_in_ms_then_seconds(last_end: float, labels: list[str]) -> None:
    root = parse(waterfall([span("x", 0, last_end)]))
    (axis,) = find_all(root, "g", "x-axis")
    assert texts(axis, "text") == labels


@pytest.mark.parametrize(
    ("ms", "text"), [(0.0, "0 ms"), (5.0, "5 ms"), (1234.5, "1234.5 ms"), (0.0004, "0 ms")]
)
def test_ms_text(ms: float, text: str) -> None:
    assert ms_text(ms) == text


def test_tick_text() -> None:
    assert (tick_text(250, False), tick_text(1500, True), tick_text(0, True)) == ("250 ms", "1.5 s", "0 s")


def test_hostile_names_are_escaped() -> None:
    root = parse(waterfall([span(HOSTILE, 0, 10, kind=HOSTILE, error=HOSTILE)]))
    assert "script" not in tags(root)
    assert (
        f"{HOSTILE_AS_TEXT} ({HOSTILE_AS_TEXT})\nstart 0 ms, duration 10 ms\nerror: {HOSTILE_AS_TEXT}"
        in texts(root)
    )


def test_no_spans() -> None:
    assert texts(parse(waterfall([]))) == ["no spans recorded"]
