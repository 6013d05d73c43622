"""Tasks against (TUI, model): which agent solves which task, at a glance, each cell a link to its page.

Averages hide structure: two agents at 50 % may fail disjoint halves of the tasks, or the same half. The
grid shows it. Colour is the cell's pass rate over reruns (red 0 .. green 1); grey means nothing was
graded; a cross marks infrastructure failures, which are not the agent's and must not read as red. Sizes
shrink with the counts so a 100-task x 20-column sweep stays a page wide and a few screens tall; every
label is cut to fit and given whole in the tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from .color import INK, LIGHT_GREY, ramp
from .markup import Attr, document, el, empty_picture, link, num, title
from .text import fit, text_width

MAX_ROW_LABEL, MAX_COL_LABEL = 220.0, 180.0
"""Widest row (task) and column (TUI / model) label, px, before it is cut."""
PAD = 6.0
LEGEND_H = 26.0
MISSING_FILL = "#ffffff"


@dataclass(frozen=True)
class HeatCell:
    """One (task, column) cell."""

    value: float | None
    """Pass rate 0..1 over the cell's reruns; ``None`` when nothing was graded."""
    label: str
    """The tooltip, e.g. ``fix-typo / aider / gpt-4o: 2 of 3 passed``."""
    href: str | None
    """The cell page (relative), if any."""
    infra: bool = False
    """An infrastructure failure happened in this cell (marked, not coloured as a fail)."""


@dataclass(frozen=True)
class _Grid:
    """Cell size, font and where the grid starts, px."""

    cell_w: float
    cell_h: float
    font: float
    left: float
    top: float

    @classmethod
    def make(cls, rows: Sequence[str], cols: Sequence[str]) -> _Grid:
        cell_w = float(min(36, max(12, round(560 / len(cols)))))
        cell_h = float(min(20, max(10, round(1200 / len(rows)))))
        font = min(11.0, max(8.0, cell_h - 3))
        row_w = max(text_width(fit(r, MAX_ROW_LABEL, font), font) for r in rows)
        col_w = max(text_width(fit(c, MAX_COL_LABEL, font), font) for c in cols)
        return cls(cell_w, cell_h, font, PAD + row_w + 6, PAD + col_w * math.sqrt(0.5) + 8)


def _fill(cell: HeatCell) -> str:
    return LIGHT_GREY if cell.value is None else ramp(cell.value)


def _cell(cell: HeatCell, x: float, y: float, grid: _Grid) -> Markup:
    """The coloured box, its tooltip, its infra cross, inside its link."""
    w, h = grid.cell_w, grid.cell_h
    box = el("rect", class_="cell", x=x, y=y, width=w - 1, height=h - 1, fill=_fill(cell))
    if not cell.infra:
        return link(cell.href, title(cell.label), box)
    m = min(w, h) * 0.25
    d = f"M{num(x + m)} {num(y + m)}L{num(x + w - 1 - m)} {num(y + h - 1 - m)}"
    d += f"M{num(x + w - 1 - m)} {num(y + m)}L{num(x + m)} {num(y + h - 1 - m)}"
    cross = el("path", class_="infra", d=d, stroke=INK, stroke_width=1.5)
    return link(cell.href, title(cell.label), box, cross)


def _labels(rows: Sequence[str], cols: Sequence[str], grid: _Grid) -> Markup:
    """Task names right-aligned left of the grid; column names rotated 45 degrees above it."""
    common: dict[str, Attr] = {"font_size": grid.font, "fill": "#333333"}
    parts = []
    for i, row in enumerate(rows):
        y = grid.top + (i + 0.5) * grid.cell_h + grid.font * 0.35
        text = el(
            "text",
            title(row),
            fit(row, MAX_ROW_LABEL, grid.font),
            x=grid.left - 6,
            y=y,
            text_anchor="end",
            **common,
        )
        parts.append(text)
    for j, col in enumerate(cols):
        x = grid.left + (j + 0.5) * grid.cell_w
        turn = f"translate({num(x)} {num(grid.top - 4)}) rotate(-45)"
        parts.append(el("text", title(col), fit(col, MAX_COL_LABEL, grid.font), transform=turn, **common))
    return el("g", *parts, class_="labels")


def _legend(y: float, x: float) -> Markup:
    """0 %, 50 %, 100 %, nothing graded, infra failure."""
    keys = [(ramp(0.0), "0 %", False), (ramp(0.5), "50 %", False), (ramp(1.0), "100 %", False)]
    keys += [(LIGHT_GREY, "nothing graded", False), (LIGHT_GREY, "infra failure", True)]
    parts = []
    for fill, text, cross in keys:
        parts.append(el("rect", x=x, y=y, width=10, height=10, fill=fill))
        if cross:
            d = f"M{num(x + 2)} {num(y + 2)}l6 6m0 -6l-6 6"
            parts.append(el("path", d=d, stroke=INK, stroke_width=1.5))
        parts.append(el("text", text, x=x + 14, y=y + 9, font_size=10, fill="#555555"))
        x += 14 + text_width(text, 10) + 14
    return el("g", *parts, class_="legend")


def heatmap(rows: Sequence[str], cols: Sequence[str], cells: Mapping[tuple[str, str], HeatCell]) -> Markup:
    """A rows x cols grid (rows = tasks, cols = TUI / model labels) of ``cells[(row, col)]``.

    A pair missing from ``cells`` is left blank (no run planned there); every present cell is a box with
    a tooltip, linked to its ``href``.
    """
    if not rows or not cols:
        return empty_picture(320, 40, "no cells to show", class_="cab-heatmap")
    grid = _Grid.make(rows, cols)
    overhang = max(0.0, grid.top - PAD - 8 - grid.cell_w / 2)  # the last rotated label's reach
    width = grid.left + len(cols) * grid.cell_w + overhang + PAD
    grid_bottom = grid.top + len(rows) * grid.cell_h
    width = max(width, 420.0)  # room for the legend
    boxes = [
        el(
            "rect",
            x=grid.left,
            y=grid.top,
            width=len(cols) * grid.cell_w - 1,
            height=len(rows) * grid.cell_h - 1,
            fill=MISSING_FILL,
            stroke="#eeeeee",
        )
    ]
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            cell = cells.get((row, col))
            if cell is not None:
                boxes.append(_cell(cell, grid.left + j * grid.cell_w, grid.top + i * grid.cell_h, grid))
    name = f"pass rate per task ({len(rows)}) and agent ({len(cols)})"
    return document(
        width,
        grid_bottom + LEGEND_H,
        name,
        _labels(rows, cols, grid),
        el("g", *boxes, class_="cells"),
        _legend(grid_bottom + 10, PAD),
        class_="cab-heatmap",
    )
