"""Cost against pass rate, with the agents no other agent beats on both: the leaderboard's Pareto view.

A leaderboard sorted by pass rate hides that the second agent may cost a tenth of the first. The frontier
is the set of (TUI, model) pairs for which no other pair is at least as cheap and at least as good, and
strictly one of the two; everything under it is a worse buy at any budget. An agent whose cost is unknown
(no price for its model) cannot be placed on the cost axis, so it is neither on nor off the frontier: it
is drawn apart, in a strip labelled "cost unknown", instead of being silently dropped or put at zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from .axis import x_axis, y_axis
from .markup import document, el, empty_picture, link, num, title
from .scale import LinearScale, LogScale, choose_scale, compact, percent
from .text import fit, text_width
from .whisker import interval_text

LEFT, RIGHT, TOP, BOTTOM = 56.0, 16.0, 16.0, 44.0
"""Margins around the plot, px: room for the y tick labels, and for the x ticks and axis title."""
STRIP_W, STRIP_GAP = 84.0, 14.0
"""The cost-unknown strip at the right, and the gap before it, px."""
ON_FRONTIER, OFF_FRONTIER, WHISKER, FRONTIER_LINE = "#1f77b4", "#9ecae1", "#777777", "#1f77b4"


@dataclass(frozen=True)
class ParetoPoint:
    """One (TUI, model) pair on the chart."""

    label: str
    """What the tooltip and the frontier label say, e.g. ``aider / gpt-4o``."""
    cost: float | None
    """Cost per solved task (or whatever the x axis measures); ``None`` when unknown."""
    rate: float
    """Pass rate, 0..1."""
    low: float | None
    """Lower end of the rate's 95 % interval."""
    high: float | None
    """Upper end of the rate's 95 % interval."""
    href: str | None
    """The page the point links to (relative), if any."""


def frontier(points: Sequence[ParetoPoint]) -> list[ParetoPoint]:
    """The points no other point dominates (cost <= and rate >=, one of them strictly), cheapest first.

    Points with an unknown cost take no part (see ``unknown_cost``). Equal points do not dominate each
    other, so both stay.
    """
    known = sorted((p for p in points if p.cost is not None), key=lambda p: (p.cost or 0.0, -p.rate))
    found: list[ParetoPoint] = []
    best_cheaper = float("-inf")
    index = 0
    while index < len(known):
        cost = known[index].cost
        group = [p for p in known[index:] if p.cost == cost]
        top = group[0].rate
        if top > best_cheaper:
            found.extend(p for p in group if p.rate == top)
            best_cheaper = top
        index += len(group)
    return found


def unknown_cost(points: Sequence[ParetoPoint]) -> list[ParetoPoint]:
    """The points without a cost, in their given order: listed apart from the frontier."""
    return [p for p in points if p.cost is None]


@dataclass(frozen=True)
class _Frame:
    """Where the plot and the cost-unknown strip are, px."""

    x: LinearScale | LogScale
    y: LinearScale
    strip: tuple[float, float] | None

    @classmethod
    def make(cls, points: Sequence[ParetoPoint], width: int, height: int) -> _Frame:
        costs = [p.cost for p in points if p.cost is not None]
        has_unknown = len(costs) < len(points)
        plot_right = width - RIGHT - ((STRIP_W + STRIP_GAP) if has_unknown else 0.0)
        if not costs:
            plot_right = LEFT
        strip = (plot_right + STRIP_GAP, width - RIGHT) if has_unknown else None
        y = LinearScale(0.0, 1.0, height - BOTTOM, TOP, count=4)
        return cls(choose_scale(costs, LEFT, plot_right), y, strip)


def _tooltip(point: ParetoPoint, x_label: str, on: bool) -> str:
    cost = "unknown" if point.cost is None else f"{point.cost:.4g}"
    lines = [
        point.label,
        f"pass rate {interval_text(point.rate, point.low, point.high)}",
        f"{x_label}: {cost}",
    ]
    if on:
        lines.append("on the cost/pass-rate frontier")
    return "\n".join(lines)


def _mark(point: ParetoPoint, cx: float, frame: _Frame, x_label: str, on: bool) -> Markup:
    """One point: its CI whisker, its dot, its tooltip, its link."""
    y = frame.y
    cy = y(point.rate)
    parts = [title(_tooltip(point, x_label, on))]
    if point.low is not None and point.high is not None:
        top, bottom = y(point.high), y(point.low)
        d = f"M{num(cx)} {num(top)}V{num(bottom)}M{num(cx - 3)} {num(top)}h6M{num(cx - 3)} {num(bottom)}h6"
        parts.append(el("path", class_="ci", d=d, stroke=WHISKER, fill="none"))
    fill = ON_FRONTIER if on else OFF_FRONTIER
    parts.append(el("circle", class_="dot", cx=cx, cy=cy, r=4.5, fill=fill, stroke="#ffffff"))
    if on:
        text = fit(point.label, 150, 10)
        right = cx + 7 + text_width(text, 10) <= frame.x.end
        at = {"x": cx + 7, "text_anchor": None} if right else {"x": cx - 7, "text_anchor": "end"}
        parts.append(el("text", text, y=max(cy - 6, TOP + 8), font_size=10, fill="#222222", **at))
    group = link(point.href, *parts)
    return el("g", group, class_="point frontier" if on else "point")


def _frontier_line(line: Sequence[ParetoPoint], frame: _Frame) -> Markup:
    """The best pass rate reachable at each cost: a staircase through the frontier to the right edge."""
    if not line:
        return Markup("")
    x, y = frame.x, frame.y
    d = [f"M{num(x(line[0].cost or 0.0))} {num(y(line[0].rate))}"]
    for point in line[1:]:
        d.append(f"H{num(x(point.cost or 0.0))}V{num(y(point.rate))}")
    d.append(f"H{num(x.end)}")
    return el("path", class_="frontier-line", d="".join(d), fill="none", stroke=FRONTIER_LINE)


def _strip(points: Sequence[ParetoPoint], frame: _Frame, height: int, x_label: str) -> Markup:
    """The cost-unknown points, spread across their own strip at their pass rate."""
    if frame.strip is None:
        return Markup("")
    x0, x1 = frame.strip
    top, bottom = frame.y.end, frame.y.start
    parts = [
        el("rect", x=x0, y=top, width=x1 - x0, height=bottom - top, fill="#f4f4f4"),
        el(
            "text",
            "cost unknown",
            x=(x0 + x1) / 2,
            y=height - BOTTOM + 14,
            text_anchor="middle",
            font_size=10,
            fill="#555555",
        ),
    ]
    step = (x1 - x0) / (len(points) + 1)
    parts += [_mark(p, x0 + (i + 1) * step, frame, x_label, False) for i, p in enumerate(points)]
    return el("g", *parts, class_="cost-unknown")


def pareto_chart(
    points: Sequence[ParetoPoint],
    *,
    width: int = 640,
    height: int = 400,
    x_label: str = "cost per solved task (USD)",
) -> Markup:
    """Cost (x; log over more than two decades) against pass rate (y, 0..1), CI whiskers, the frontier.

    Frontier points are dark and labelled; every point has a tooltip and links to ``href`` when given.
    """
    name = f"pass rate against {x_label}"
    if not points:
        return empty_picture(width, height, "no agents to compare", class_="cab-pareto")
    frame = _Frame.make(points, width, height)
    best = frontier(points)
    on = {id(p) for p in best}
    x, y = frame.x, frame.y
    plot_bottom = y.start
    body = [
        y_axis(y, x=LEFT, grid_to=x.end, label=lambda v: percent(v, 0)),
        el(
            "text",
            "pass rate",
            transform=f"translate(14 {num((TOP + plot_bottom) / 2)}) rotate(-90)",
            text_anchor="middle",
            font_size=11,
            fill="#333333",
        ),
    ]
    if x.end > x.start:
        body += [
            x_axis(x, y=plot_bottom, grid_to=TOP, label=compact),
            el(
                "text",
                x_label,
                x=(x.start + x.end) / 2,
                y=height - 8,
                text_anchor="middle",
                font_size=11,
                fill="#333333",
            ),
            _frontier_line(best, frame),
        ]
        body += [_mark(p, x(p.cost), frame, x_label, id(p) in on) for p in points if p.cost is not None]
    body.append(_strip(unknown_cost(points), frame, height, x_label))
    return document(width, height, name, *body, class_="cab-pareto", data_x_scale=x.kind)
