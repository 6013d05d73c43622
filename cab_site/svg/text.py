"""How wide a label will be, without a font: badges and chart margins are sized before any browser runs.

SVG has no layout engine, so a badge must know its text width when it is written. The table gives the
advance width of each printable ASCII character in 11 px Verdana (font units of a 2048-unit em, as the
font's metrics give them, grouped by equal width); DejaVu Sans, which Debian renders in Verdana's place,
is within a few per cent. Characters outside the table are estimated: East Asian wide characters take a
full em, combining marks none, everything else an average letter. Badges also set ``textLength``, so a
browser with another font stretches the text to the estimate instead of overflowing the box.
"""

from __future__ import annotations

import unicodedata

REFERENCE_PX = 11.0
"""The font size the table is for; other sizes scale linearly."""

_EM_UNITS = 2048
_GROUPS: dict[int, str] = {
    546: "'",
    562: "il",
    693: "j",
    720: " f",
    745: ",.",
    807: "t",
    825: "!",
    861: "-",
    862: "I",
    874: "r",
    903: "J",
    911: "()[]/\\|:;",
    1008: '"',
    1053: "z",
    1067: "cs",
    1117: "?",
    1145: "L",
    1178: "F",
    1183: "kvxy",
    1219: "e",
    1231: "o",
    1235: "a",
    1249: "TY",
    1251: "P",
    1270: "{}",
    1276: "bdgpq",
    1294: "E",
    1296: "hnu",
    1302: "0123456789$*_`",
    1401: "AV",
    1403: "SXZ",
    1405: "B",
    1423: "K",
    1425: "R",
    1433: "C",
    1492: "&",
    1499: "U",
    1532: "N",
    1540: "H",
    1581: "D",
    1587: "G",
    1612: "OQ",
    1675: "w",
    1676: "#+<=>^~",
    1726: "M",
    1992: "m",
    2025: "W",
    2048: "@",
    2213: "%",
}
WIDTHS_11PX: dict[str, float] = {
    char: units * REFERENCE_PX / _EM_UNITS for units, chars in _GROUPS.items() for char in chars
}
"""Advance width in px of each printable ASCII character at 11 px."""

_AVERAGE_PX = 1302 * REFERENCE_PX / _EM_UNITS
_WIDE_PX = REFERENCE_PX


def char_width(char: str, font_size: float = REFERENCE_PX) -> float:
    """The estimated advance width of one character at ``font_size`` px."""
    known = WIDTHS_11PX.get(char)
    if known is None:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            known = 0.0
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            known = _WIDE_PX
        else:
            known = _AVERAGE_PX
    return known * font_size / REFERENCE_PX


def text_width(text: str, font_size: float = REFERENCE_PX) -> float:
    """The estimated width of ``text`` in px at ``font_size`` px."""
    return sum(char_width(c, font_size) for c in text)


def fit(text: str, max_px: float, font_size: float = REFERENCE_PX) -> str:
    """``text`` cut (with an ellipsis) to fit in ``max_px``; the full text belongs in a tooltip."""
    if text_width(text, font_size) <= max_px:
        return text
    budget = max_px - char_width("\u2026", font_size)
    used = 0.0
    for index, char in enumerate(text):
        used += char_width(char, font_size)
        if used > budget:
            return text[:index] + "\u2026"
    return text
