"""A pass rate with its 95 % interval, small enough for a table cell: the leaderboard's whisker column.

Two agents whose intervals overlap are not told apart by their point estimates; drawing the interval next
to the number is what lets a reader see that. The track is the whole 0..1 range, so whiskers in one
column share an axis and compare by eye. No rate (nothing graded, e.g. every cell an infra failure)
draws an empty track, never a zero.
"""

from __future__ import annotations

from markupsafe import Markup

from .badge import pass_color
from .color import INK, LIGHT_GREY
from .markup import Attr, document, el
from .scale import LinearScale, percent

PAD = 4.0
"""Space at both ends so the end caps and the dot are not cut, px."""


def interval_text(value: float | None, low: float | None, high: float | None) -> str:
    """``62.5 % (95 % CI 40.1-80.3 %)``; ``62.5 %`` without an interval; ``no graded cells`` for None."""
    if value is None:
        return "no graded cells"
    if low is None or high is None:
        return percent(value)
    return f"{percent(value)} (95 % CI {low * 100:.1f}-{percent(high)})"


def whisker(
    value: float | None, low: float | None, high: float | None, *, width: int = 120, height: int = 14
) -> Markup:
    """A 0..1 track, a bar and dot at ``value``, and the interval ``low..high`` with end caps.

    Values outside 0..1 are drawn at the nearest end (the title keeps the true numbers).
    """
    label = interval_text(value, low, high)
    mid = height / 2
    x = LinearScale(0.0, 1.0, PAD, width - PAD)
    track = el(
        "rect", class_="track", x=PAD, y=mid - 2, width=width - 2 * PAD, height=4, rx=2, fill=LIGHT_GREY
    )
    if value is None:
        return document(width, height, label, track, class_="cab-whisker")
    color = pass_color(value)
    parts = [track]
    parts.append(el("rect", class_="bar", x=PAD, y=mid - 2, width=x(value) - PAD, height=4, rx=2, fill=color))
    if low is not None and high is not None:
        cap = max(2.0, height * 0.3)
        line: dict[str, Attr] = {"stroke": INK, "stroke_width": 1.5}
        parts.append(el("line", class_="ci", x1=x(low), x2=x(high), y1=mid, y2=mid, **line))
        for name, end in (("ci-low", low), ("ci-high", high)):
            parts.append(el("line", class_=name, x1=x(end), x2=x(end), y1=mid - cap, y2=mid + cap, **line))
    parts.append(el("circle", class_="value", cx=x(value), cy=mid, r=3, fill=color, stroke=INK))
    return document(width, height, label, *parts, class_="cab-whisker")
