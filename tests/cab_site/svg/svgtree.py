"""Reading the pictures back in the SVG tests: parse as XML (which fails on any malformed output) and
find elements by tag and class without spelling the SVG namespace each time."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markupsafe import Markup

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = "<script>alert(\"x\")</script> & 'quoted' \x1b[31mred\x00"
"""A label as a hostile model name could carry it: a tag, an ampersand, both quotes, control characters."""
HOSTILE_AS_TEXT = HOSTILE.replace("\x1b", "\ufffd").replace("\x00", "\ufffd")
"""The same label as it reads after parsing: intact, with the characters XML cannot carry replaced."""


def parse(markup: Markup) -> ET.Element:
    """The root ``<svg>`` element; raises ``ParseError`` when the markup is not well-formed XML."""
    assert isinstance(markup, Markup)
    root = ET.fromstring(str(markup))
    assert root.tag == f"{NS}svg"
    return root


def find_all(root: ET.Element, tag: str, class_: str | None = None) -> list[ET.Element]:
    """Every ``tag`` element under ``root`` (itself included) whose class list holds ``class_``."""
    return [e for e in root.iter(f"{NS}{tag}") if class_ is None or class_ in (e.get("class") or "").split()]


def texts(root: ET.Element, tag: str = "title") -> list[str]:
    """The text of every ``tag`` element (tooltips by default)."""
    return ["".join(e.itertext()) for e in root.iter(f"{NS}{tag}")]


def tags(root: ET.Element) -> set[str]:
    """Every element name in the tree, namespace stripped."""
    return {e.tag.removeprefix(NS) for e in root.iter()}
