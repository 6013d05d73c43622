"""A cell's trace spans on one time axis: where the minutes of a run went, as on the seed pages.

The table of spans says how long each phase took; the waterfall shows what overlapped, what waited and
which phase failed. One row per span in the order given (the caller orders them, parents before
children), indented by depth; bars share a time axis from 0 to the last end; colour is the span kind;
a failed span has a red outline and a red dot after its bar. The tooltip gives exact milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from .axis import x_axis
from .color import ERROR_RED, kind_color
from .markup import Attr, document, el, empty_picture, title
from .scale import LinearScale
from .text import fit, text_width

ROW_H, BAR_H, AXIS_H, PAD, INDENT = 18.0, 12.0, 22.0, 8.0, 12.0
"""Row and bar height, space for the tick labels on top, outer padding, indent per depth level, px."""
LEGEND_H = 18.0
FONT = 11.0


@dataclass(frozen=True)
class WaterfallSpan:
    """One span as the waterfall draws it."""

    name: str
    """The span's name (shown at the left, cut to fit; whole in the tooltip)."""
    kind: str
    """The colour: ``task_setup``, ``container``, ``adapter_run``, ``tool_call``, ``scoring``, ..."""
    start_ms: float
    """Start, ms after the first span started."""
    duration_ms: float
    depth: int
    """Nesting level, 0 for a root span."""
    error: str | None
    """The span's error message when it failed."""


def ms_text(ms: float) -> str:
    """Exact milliseconds for a tooltip: ``1234.5 ms`` (up to three decimals)."""
    text = f"{ms:.3f}".rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text} ms"


def tick_text(ms: float, in_seconds: bool) -> str:
    """An axis label: ``250 ms``, or ``1.5 s`` on an axis two seconds long or more."""
    if in_seconds:
        return f"{ms / 1000:g} s"
    return f"{ms:g} ms"


def _tooltip(span: WaterfallSpan) -> str:
    lines = [
        f"{span.name} ({span.kind})",
        f"start {ms_text(span.start_ms)}, duration {ms_text(span.duration_ms)}",
    ]
    if span.error is not None:
        lines.append(f"error: {span.error}")
    return "\n".join(lines)


def _row(span: WaterfallSpan, index: int, x: LinearScale, label_w: float) -> Markup:
    """The span's stripe, name, bar, error mark and tooltip."""
    top = AXIS_H + index * ROW_H
    indent = min(span.depth, 8) * INDENT
    parts = [title(_tooltip(span))]
    name = fit(span.name, label_w - indent - PAD * 2, FONT)
    parts.append(el("text", name, x=PAD + indent, y=top + ROW_H / 2 + 4, font_size=FONT, fill="#333333"))
    start, end = max(0.0, span.start_ms), max(0.0, span.start_ms + span.duration_ms)
    bar_x = x(start)
    bar_w = max(1.0, x(end) - bar_x)
    bar: dict[str, Attr] = {
        "x": bar_x,
        "y": top + (ROW_H - BAR_H) / 2,
        "width": bar_w,
        "height": BAR_H,
        "rx": 2,
    }
    if span.error is None:
        parts.append(el("rect", class_="bar", fill=kind_color(span.kind), **bar))
    else:
        parts.append(
            el(
                "rect",
                class_="bar error",
                fill=kind_color(span.kind),
                stroke=ERROR_RED,
                stroke_width=2,
                **bar,
            )
        )
        parts.append(
            el(
                "circle",
                class_="error-mark",
                cx=min(bar_x + bar_w + 6, x.end + 4),
                cy=top + ROW_H / 2,
                r=3.5,
                fill=ERROR_RED,
            )
        )
    return el("g", *parts, class_="span")


def _legend(kinds: Sequence[str], y: float, width: float) -> tuple[Markup, float]:
    """A swatch per kind, wrapped to ``width``; the markup and its height."""
    parts = []
    x, line = PAD, 0
    for kind in kinds:
        item_w = 14 + text_width(kind, 10) + 14
        if x + item_w > width - PAD and x > PAD:
            x, line = PAD, line + 1
        row_y = y + line * LEGEND_H
        parts.append(el("rect", x=x, y=row_y, width=10, height=10, rx=2, fill=kind_color(kind)))
        parts.append(el("text", kind, x=x + 14, y=row_y + 9, font_size=10, fill="#555555"))
        x += item_w
    return el("g", *parts, class_="legend"), (line + 1) * LEGEND_H


def waterfall(spans: Sequence[WaterfallSpan], *, width: int = 720) -> Markup:
    """One row per span on a shared time axis from 0 to the latest end, coloured by kind."""
    if not spans:
        return empty_picture(width, 40, "no spans recorded", class_="cab-waterfall")
    widest = max(text_width(s.name, FONT) + min(s.depth, 8) * INDENT for s in spans) + 2 * PAD
    label_w = min(max(widest, 80.0), width * 0.4)
    last_end = max(max(0.0, s.start_ms + s.duration_ms) for s in spans)
    x = LinearScale(0.0, last_end or 1.0, label_w, width - PAD)
    rows_bottom = AXIS_H + len(spans) * ROW_H
    axis = x_axis(
        x, y=AXIS_H, grid_to=rows_bottom, label=lambda v: tick_text(v, last_end >= 2000), above=True
    )
    kinds = list(dict.fromkeys(s.kind for s in spans))
    legend, legend_h = _legend(kinds, rows_bottom + 8, width)
    rows = [_row(span, i, x, label_w) for i, span in enumerate(spans)]
    stripes = [
        el("rect", x=0, y=AXIS_H + i * ROW_H, width=width, height=ROW_H, fill="#f7f7f7")
        for i in range(1, len(spans), 2)
    ]
    name = f"trace waterfall: {len(spans)} spans over {ms_text(last_end)}"
    height = rows_bottom + 8 + legend_h
    return document(
        width,
        height,
        name,
        el("g", *stripes, class_="stripes"),
        axis,
        el("g", *rows, class_="rows"),
        legend,
        class_="cab-waterfall",
    )
