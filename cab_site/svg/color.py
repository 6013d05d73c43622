"""The colours of the pictures, in one place so a pass rate reads the same on a badge, a whisker and a cell.

A rate runs red (0) through yellow (0.5) to green (1), interpolated in RGB between shields.io's red,
yellow and bright green, which keep white badge text readable. Unknown is grey. Span kinds get fixed
colours; a kind this table does not know gets a stable colour from a hash of its name, so the same kind
looks the same on every page and every build.
"""

from __future__ import annotations

import re
import zlib

GREY = "#9f9f9f"
"""No value (nothing graded)."""
LIGHT_GREY = "#d4d4d4"
"""An empty heatmap cell or track."""
INK = "#333333"
"""Lines and text drawn over colour."""
ERROR_RED = "#b00020"
"""Error marks."""

_STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (0.0, (0xE0, 0x5D, 0x44)),
    (0.5, (0xDF, 0xB3, 0x17)),
    (1.0, (0x44, 0xCC, 0x11)),
)
_KIND_COLORS = {
    "task_setup": "#8c6bb1",
    "endpoint": "#74c476",
    "container": "#6baed6",
    "adapter_run": "#3182bd",
    "tool_call": "#fd8d3c",
    "model_call": "#31a354",
    "scoring": "#e6550d",
    "cleanup": "#969696",
}
_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
_NAMED = {
    "brightgreen": "#44cc11",
    "green": "#97ca00",
    "yellowgreen": "#a4a61d",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "lightgrey": GREY,
    "grey": "#555555",
}
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def ramp(value: float) -> str:
    """The colour of a rate in 0..1 (clamped), red through yellow to green, as ``#rrggbb``."""
    value = min(1.0, max(0.0, value))
    for (lo, lo_rgb), (hi, hi_rgb) in zip(_STOPS, _STOPS[1:], strict=False):
        if value <= hi:
            t = (value - lo) / (hi - lo)
            rgb = (round(a + (b - a) * t) for a, b in zip(lo_rgb, hi_rgb, strict=True))
            return "#" + "".join(f"{c:02x}" for c in rgb)
    raise AssertionError("unreachable: the last stop is 1.0")


def kind_color(kind: str) -> str:
    """The colour of a span kind: fixed for cab's kinds, stable by name for any other."""
    return _KIND_COLORS.get(kind) or _PALETTE[zlib.crc32(kind.encode()) % len(_PALETTE)]


def css_color(color: str) -> str:
    """``#rgb``/``#rrggbb``, or a shields.io colour name (``brightgreen`` ... ``lightgrey``), as hex."""
    if _HEX.fullmatch(color):
        return color.lower()
    named = _NAMED.get(color.lower())
    if named is None:
        raise ValueError(f"unknown badge colour {color!r}: use #rrggbb or one of {', '.join(_NAMED)}")
    return named
