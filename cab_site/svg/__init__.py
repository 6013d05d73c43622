"""SVG pictures for the results site, as escaped markup: pure functions, no I/O, no script.

Each function returns a ``markupsafe.Markup`` holding one standalone ``<svg>`` element, usable inline in a
page (jinja keeps it as is) or written to a ``.svg`` file (badges at stable paths). Every label is escaped
on the way in, because labels come from model names, task names and span errors cab does not control::

    badge.py      badge, pass_color: shields.io-style badges for READMEs
    whisker.py    whisker, interval_text: a pass rate and its 95 % interval in a table cell
    pareto.py     ParetoPoint, frontier, unknown_cost, pareto_chart: cost against pass rate
    heatmap.py    HeatCell, heatmap: tasks x (TUI, model), each cell a link
    waterfall.py  WaterfallSpan, waterfall: a cell's trace spans on a time axis
    markup.py     el (the escaping element builder), safe_href, document
    text.py       estimated text widths (11 px Verdana / DejaVu Sans)
    scale.py      linear / log axes, ticks, number labels
    axis.py       ticks and grid lines as drawn
    color.py      the rate ramp, grey, span-kind colours
"""

from __future__ import annotations

from .badge import badge, pass_color
from .heatmap import HeatCell, heatmap
from .pareto import ParetoPoint, frontier, pareto_chart, unknown_cost
from .waterfall import WaterfallSpan, waterfall
from .whisker import interval_text, whisker

__all__ = [
    "HeatCell",
    "ParetoPoint",
    "WaterfallSpan",
    "badge",
    "frontier",
    "heatmap",
    "interval_text",
    "pareto_chart",
    "pass_color",
    "unknown_cost",
    "waterfall",
    "whisker",
]
