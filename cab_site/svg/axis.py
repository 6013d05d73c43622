"""Tick marks, grid lines and tick labels for the charts, drawn the same way on every chart."""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from .markup import el
from .scale import Scale

GRID = "#e8e8e8"
AXIS = "#888888"
TICK_TEXT = "#555555"
TICK_FONT = 10


def x_axis(
    scale: Scale, *, y: float, grid_to: float, label: Callable[[float], str], above: bool = False
) -> Markup:
    """A horizontal axis line at ``y``, a vertical grid line per tick up (or down) to ``grid_to``, and the
    tick labels below the line (``above``: over it)."""
    ticks = scale.ticks()
    parts = [el("line", class_="axis", x1=scale.start, x2=scale.end, y1=y, y2=y, stroke=AXIS)]
    text_y = y - 5 if above else y + 14
    for tick in ticks:
        x = scale(tick)
        parts.append(el("line", class_="grid", x1=x, x2=x, y1=y, y2=grid_to, stroke=GRID))
        parts.append(
            el("text", label(tick), x=x, y=text_y, text_anchor="middle", font_size=TICK_FONT, fill=TICK_TEXT)
        )
    return el("g", *parts, class_="x-axis")


def y_axis(scale: Scale, *, x: float, grid_to: float, label: Callable[[float], str]) -> Markup:
    """A vertical axis line at ``x``, a horizontal grid line per tick to ``grid_to``, labels left of it."""
    ticks = scale.ticks()
    parts = [el("line", class_="axis", x1=x, x2=x, y1=scale.start, y2=scale.end, stroke=AXIS)]
    for tick in ticks:
        y = scale(tick)
        parts.append(el("line", class_="grid", x1=x, x2=grid_to, y1=y, y2=y, stroke=GRID))
        parts.append(
            el(
                "text",
                label(tick),
                x=x - 5,
                y=y + 3.5,
                text_anchor="end",
                font_size=TICK_FONT,
                fill=TICK_TEXT,
            )
        )
    return el("g", *parts, class_="y-axis")
