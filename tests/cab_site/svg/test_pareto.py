"""The Pareto view: the frontier is exactly the undominated agents; unknown costs are drawn apart, never
on the frontier; the cost axis goes logarithmic past two decades; points link and explain themselves."""

from __future__ import annotations

import random

import pytest

from cab_site.svg import ParetoPoint, frontier, pareto_chart, unknown_cost
from tests.cab_site.svg.svgtree import HOSTILE, HOSTILE_AS_TEXT, NS, find_all, parse, tags, texts

pytestmark = pytest.mark.unit


def pt(label: str, cost: float | None, rate: float, href: str | None = None) -> ParetoPoint:
    return ParetoPoint(label, cost, rate, None, None, href)


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([], []),
        ([("a", 1.0, 0.5)], ["a"]),
        # b is cheaper and better than a
        ([("a", 2.0, 0.4), ("b", 1.0, 0.6)], ["b"]),
        # a trade-off: both stay, cheapest first
        ([("a", 2.0, 0.8), ("b", 1.0, 0.6)], ["b", "a"]),
        # same cost, better rate dominates; same rate, cheaper dominates
        ([("a", 1.0, 0.5), ("b", 1.0, 0.7), ("c", 0.5, 0.7)], ["c"]),
        # equal points do not dominate each other
        ([("a", 1.0, 0.5), ("b", 1.0, 0.5)], ["a", "b"]),
        # a staircase with a dominated point under it and a free one at the bottom
        (
            [("p", 0.0, 0.1), ("q", 0.1, 0.3), ("r", 0.2, 0.25), ("s", 1.0, 0.9), ("t", 5.0, 0.9)],
            ["p", "q", "s"],
        ),
        # unknown cost: neither on the frontier nor dominating anything
        ([("a", None, 1.0), ("b", 3.0, 0.2)], ["b"]),
        ([("a", None, 1.0)], []),
    ],
)
def test_frontier(points: list[tuple[str, float | None, float]], expected: list[str]) -> None:
    assert [p.label for p in frontier([pt(*p) for p in points])] == expected


def dominated(p: ParetoPoint, points: list[ParetoPoint]) -> bool:
    """The definition, written out: some other point is no worse on both and better on one."""
    return any(
        q.cost is not None
        and p.cost is not None
        and q.cost <= p.cost
        and q.rate >= p.rate
        and (q.cost < p.cost or q.rate > p.rate)
        for q in points
    )


def test_frontier_matches_the_definition_on_many_random_sets() -> None:
    rng = random.Random(15)
    for _ in range(300):
        points = [
            pt(str(i), rng.choice([None, rng.randint(0, 6) / 2]), rng.randint(0, 4) / 4)
            for i in range(rng.randint(0, 9))
        ]
        expected = {p.label for p in points if p.cost is not None and not dominated(p, points)}
        found = frontier(points)
        assert {p.label for p in found} == expected
        costs = [p.cost or 0.0 for p in found]
        assert costs == sorted(costs)


def test_unknown_cost_lists_them_in_order() -> None:
    points = [pt("a", None, 0.1), pt("b", 1.0, 0.2), pt("c", None, 0.3)]
    assert [p.label for p in unknown_cost(points)] == ["a", "c"]


POINTS = [
    ParetoPoint("aider / gpt-4o", 0.42, 0.625, 0.401, 0.803, "cells/aider.html"),
    ParetoPoint("claude / sonnet", 1.2, 0.8, 0.6, 0.9, "cells/claude.html"),
    ParetoPoint("codex / o3", 0.05, 0.3, 0.1, 0.5, None),
    ParetoPoint("goose / x", 0.9, 0.5, 0.3, 0.7, None),
    ParetoPoint("opencode / unpriced", None, 0.55, 0.35, 0.72, "cells/open.html"),
]


def test_chart_draws_every_point_links_and_tooltips() -> None:
    root = parse(pareto_chart(POINTS))
    assert len(find_all(root, "circle", "dot")) == 5
    assert len(find_all(root, "g", "frontier")) == 3  # codex, aider, claude
    links = [a.get("href") for a in root.iter(f"{NS}a")]
    assert sorted(links) == ["cells/aider.html", "cells/claude.html", "cells/open.html"]
    tips = texts(root)
    assert any(t.startswith("aider / gpt-4o\npass rate 62.5 % (95 % CI 40.1-80.3 %)") for t in tips)
    assert len(find_all(root, "path", "ci")) == 5
    assert len(find_all(root, "path", "frontier-line")) == 1


def test_points_without_cost_go_to_their_own_strip() -> None:
    root = parse(pareto_chart(POINTS))
    (strip,) = find_all(root, "g", "cost-unknown")
    assert "cost unknown" in texts(strip, "text")
    assert [t.split("\n")[0] for t in texts(strip)] == ["opencode / unpriced"]


def test_y_is_the_rate_and_whiskers_span_the_interval() -> None:
    # default 400 high, 16 px margin on top and 44 below: rate r at y = 356 - 340 r
    root = parse(pareto_chart([ParetoPoint("a", 1.0, 0.5, 0.25, 1.0, None)]))
    (dot,) = find_all(root, "circle", "dot")
    assert float(dot.get("cy") or "nan") == pytest.approx(186.0)
    (ci,) = find_all(root, "path", "ci")
    assert (ci.get("d") or "").split("M")[1].split("V") == [dot.get("cx") + " 16", "271"]


@pytest.mark.parametrize(
    ("costs", "scale"),
    [
        ([0.01, 0.5, 0.2], "linear"),
        ([0.001, 0.5, 2.0], "log"),
        ([0.0, 0.0], "linear"),
        ([3.0], "linear"),
        ([0.0, 0.001, 2.0], "linear"),
    ],
)
def test_cost_axis_scale(costs: list[float], scale: str) -> None:
    root = parse(pareto_chart([pt(str(i), c, 0.5) for i, c in enumerate(costs)]))
    assert root.get("data-x-scale") == scale
    assert len(find_all(root, "circle", "dot")) == len(costs)


def test_log_axis_has_a_tick_per_decade() -> None:
    root = parse(pareto_chart([pt("a", 0.002, 0.2), pt("b", 3.0, 0.9)]))
    (axis,) = find_all(root, "g", "x-axis")
    assert texts(axis, "text") == ["0.001", "0.01", "0.1", "1", "10"]


def test_only_unknown_costs_still_draws() -> None:
    root = parse(pareto_chart([pt("a", None, 0.4), pt("b", None, 0.6)]))
    assert len(find_all(root, "circle", "dot")) == 2
    assert find_all(root, "g", "frontier") == []


def test_no_points() -> None:
    root = parse(pareto_chart([]))
    assert texts(root) == ["no agents to compare"]


def test_hostile_labels_and_links() -> None:
    root = parse(pareto_chart([pt(HOSTILE, 1.0, 0.5, 'a.html?x="1"&y=<2>')], x_label=HOSTILE))
    assert "script" not in tags(root)
    assert any(t.startswith(HOSTILE_AS_TEXT) for t in texts(root))
    assert [a.get("href") for a in root.iter(f"{NS}a")] == ['a.html?x="1"&y=<2>']
    with pytest.raises(ValueError, match="refusing link"):
        pareto_chart([pt("a", 1.0, 0.5, "javascript:alert(1)")])
