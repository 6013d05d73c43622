"""SVG elements as escaped markup: the one door through which text and numbers enter the pictures.

Labels reach these pictures from places cab does not control (model names, task names, span names, error
messages), so no builder in this package writes a tag by hand: ``el`` escapes every attribute value and
text child (markupsafe), and replaces the characters XML 1.0 forbids even when escaped (a NUL or an ESC
from a terminal would make a standalone ``.svg`` file unreadable). Numbers are written short (two
decimals at most) so a 2,000-cell heatmap stays small. Links go through ``safe_href``: relative paths
and http(s) only, never ``javascript:``.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from urllib.parse import urlsplit

from markupsafe import Markup, escape

SVG_NS = "http://www.w3.org/2000/svg"
FONT_FAMILY = "Verdana,DejaVu Sans,Geneva,sans-serif"
"""The family the width table in ``text.py`` estimates; DejaVu Sans is what Debian renders instead."""

_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SAFE_SCHEMES = ("", "http", "https")

Attr = str | int | float | None
"""An attribute value; ``None`` leaves the attribute out."""


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 cannot carry replaced by U+FFFD (escaping is ``el``'s job)."""
    return _XML_INVALID.sub("\ufffd", str(text))


def num(value: float) -> str:
    """A coordinate or size: at most two decimals, no trailing zeros, never ``-0``, ``nan`` or ``inf``."""
    if not math.isfinite(value):
        raise ValueError(f"cannot draw the non-finite number {value!r}")
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _attr_value(value: str | int | float) -> str:
    if isinstance(value, bool):
        raise TypeError("write a boolean attribute as a string")
    if isinstance(value, int | float):
        return num(value)
    return xml_text(value)


def el(name: str, *children: Markup | str, **attrs: Attr) -> Markup:
    """``<name attrs>children</name>`` (or ``<name attrs/>``), everything escaped.

    Keyword names map to attribute names: a trailing ``_`` is dropped (``class_``) and ``_`` becomes ``-``
    (``text_anchor``, ``aria_label``). Plain ``str`` children are text and escaped; ``Markup`` children
    are elements built by ``el`` and kept as they are.
    """
    parts = ["<", name]
    for key, value in attrs.items():
        if value is not None:
            # plain str concatenation with one escape per value: Markup.format is ~10x slower, and a
            # 10,000-cell site draws a waterfall per page
            parts += [" ", _attr_name(key), '="', escape(_attr_value(value)), '"']
    if not children:
        parts.append("/>")
        return Markup("".join(parts))  # noqa: S704 - every value above went through escape()
    parts.append(">")
    parts += (c if isinstance(c, Markup) else escape(xml_text(c)) for c in children)
    parts += ["</", name, ">"]
    return Markup("".join(parts))  # noqa: S704 - every value above went through escape()


@lru_cache(maxsize=256)
def _attr_name(key: str) -> str:
    return key.rstrip("_").replace("_", "-")


def title(text: str) -> Markup:
    """The tooltip of the enclosing element (and its accessible name)."""
    return el("title", text)


def safe_href(href: str) -> str:
    """``href`` when it is relative or http(s); anything else (``javascript:``, ``data:``) is refused."""
    scheme = urlsplit(href.strip()).scheme.lower()
    if scheme not in _SAFE_SCHEMES:
        raise ValueError(f"refusing link {href!r}: only relative paths and http(s) URLs are drawn")
    return href


def link(href: str | None, *children: Markup) -> Markup:
    """``children`` inside ``<a href>`` when there is a link, else inside a plain group."""
    if href is None:
        return el("g", *children)
    return el("a", *children, href=safe_href(href))


def document(width: float, height: float, label: str, *body: Markup, **attrs: Attr) -> Markup:
    """A standalone ``<svg>`` root: sized, accessible (``role=img``, ``aria-label``, ``<title>``)."""
    return el(
        "svg",
        title(label),
        *body,
        xmlns=SVG_NS,
        width=width,
        height=height,
        viewBox=f"0 0 {num(width)} {num(height)}",
        role="img",
        aria_label=label,
        font_family=FONT_FAMILY,
        **attrs,
    )


def empty_picture(width: float, height: float, message: str, **attrs: Attr) -> Markup:
    """A picture with nothing to draw but ``message``, centred: pages keep their layout."""
    text = el(
        "text",
        message,
        x=width / 2,
        y=height / 2,
        text_anchor="middle",
        dominant_baseline="middle",
        font_size=11,
        fill="#666",
    )
    return document(width, height, message, text, **attrs)
