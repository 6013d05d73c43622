"""Shields.io-style badges ("pass rate | 62.5 %") that a README can embed from a stable path.

GitHub serves README images through its proxy as plain SVG: no external fonts, stylesheets or scripts,
and nothing that depends on the page around it. So a badge is self-contained: sizes come from the
estimated text width (``text.py``), ``textLength`` pins the text to that width whatever font renders it,
and the rounded ends are paths rather than a clip path, so the badge has no ``id`` that could collide
when several are inlined in one HTML page.
"""

from __future__ import annotations

from markupsafe import Markup

from .color import GREY, css_color, ramp
from .markup import Attr, document, el, num
from .text import text_width

HEIGHT = 20
PADDING = 5
"""Horizontal space on each side of a text, px."""
LABEL_BG = "#555555"
RADIUS = 3


def pass_color(rate: float | None) -> str:
    """The badge colour of a pass rate: red (0) through yellow (0.5) to green (1); grey for ``None``."""
    return GREY if rate is None else ramp(rate)


def _rounded(x: float, width: float, *, left: bool, right: bool, fill: str) -> Markup:
    """A ``HEIGHT``-tall box from ``x``, with rounded corners on the sides asked for."""
    r = RADIUS
    d = [f"M{num(x + (r if left else 0))} 0", f"H{num(x + width - (r if right else 0))}"]
    d.append(f"a{r} {r} 0 0 1 {r} {r}V{HEIGHT - r}a{r} {r} 0 0 1 -{r} {r}" if right else f"V{HEIGHT}")
    d.append(f"H{num(x + (r if left else 0))}")
    d.append(f"a{r} {r} 0 0 1 -{r} -{r}V{r}a{r} {r} 0 0 1 {r} -{r}Z" if left else f"H{num(x)}V0Z")
    return el("path", d="".join(d), fill=fill)


def _centred_text(text: str, x: float, width: float) -> Markup:
    """White text with a soft shadow, centred on ``x`` and pinned to ``width``."""
    common: dict[str, Attr] = {
        "x": x,
        "text_anchor": "middle",
        "textLength": width or None,
        "lengthAdjust": "spacingAndGlyphs",
    }
    shadow = el("text", text, y=15, fill="#010101", fill_opacity="0.3", aria_hidden="true", **common)
    return shadow + el("text", text, y=14, fill="#ffffff", **common)


def badge(label: str, message: str, color: str) -> Markup:
    """A flat two-part badge: ``label`` on dark grey, ``message`` on ``color`` (hex or a shields name).

    An empty ``label`` gives a one-part badge. The accessible name (``<title>``, ``aria-label``) is
    ``label: message``.
    """
    fill = css_color(color)
    label_text_w = text_width(label)
    message_text_w = text_width(message)
    label_w = round(label_text_w) + 2 * PADDING if label else 0
    message_w = round(message_text_w) + 2 * PADDING
    parts: list[Markup] = []
    if label:
        parts.append(_rounded(0, label_w, left=True, right=False, fill=LABEL_BG))
    parts.append(_rounded(label_w, message_w, left=not label, right=True, fill=fill))
    texts = el(
        "g",
        *([_centred_text(label, label_w / 2, label_text_w)] if label else []),
        _centred_text(message, label_w + message_w / 2, message_text_w),
        font_size=11,
    )
    name = f"{label}: {message}" if label else message
    return document(label_w + message_w, HEIGHT, name, *parts, texts, class_="cab-badge")
