"""The escaping element builder every picture goes through: hostile text stays text, numbers stay short,
links stay links."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from cab_site.svg.markup import document, el, num, safe_href, xml_text
from tests.cab_site.svg.svgtree import HOSTILE, HOSTILE_AS_TEXT, parse, tags, texts

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (1.0, "1"), (2.5, "2.5"), (1 / 3, "0.33"), (-0.001, "0"), (-1.256, "-1.26"), (120, "120")],
)
def test_numbers_are_written_short(value: float, text: str) -> None:
    assert num(value) == text


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_numbers_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        num(value)


def test_attribute_names_and_values() -> None:
    out = el("text", "hi", class_="a b", text_anchor="end", x=1.5, y=None)
    assert out == Markup('<text class="a b" text-anchor="end" x="1.5">hi</text>')
    assert el("rect", width=3) == Markup('<rect width="3"/>')


def test_hostile_text_and_attributes_are_escaped() -> None:
    out = el("text", HOSTILE, **{"data_label": HOSTILE})
    assert "<script>" not in out
    assert out.count("<") == 2  # the element's own tags only
    root = parse(document(10, 10, HOSTILE, out))
    assert "script" not in tags(root)
    assert texts(root) == [HOSTILE_AS_TEXT]
    text = root.find("{http://www.w3.org/2000/svg}text")
    assert text is not None and text.text == HOSTILE_AS_TEXT
    assert text.get("data-label") == HOSTILE_AS_TEXT
    assert root.get("aria-label") == HOSTILE_AS_TEXT


def test_markup_children_are_kept_and_string_children_escaped() -> None:
    inner = el("tspan", "a")
    assert el("text", inner, "<b>") == Markup("<text><tspan>a</tspan>&lt;b&gt;</text>")


def test_characters_xml_cannot_carry_are_replaced() -> None:
    assert xml_text("a\x00b\x1bc\td\ne\ufffef") == "a\ufffdb\ufffdc\td\ne\ufffdf"
    assert xml_text("emoji \U0001f600 ok") == "emoji \U0001f600 ok"


@pytest.mark.parametrize(
    "href", ["cells/a.html", "../b.html#x", "/abs", "https://example.org/x?a=1&b=2", "http://h"]
)
def test_safe_links_pass(href: str) -> None:
    assert safe_href(href) == href


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "vbscript:x"]
)
def test_script_links_are_refused(href: str) -> None:
    with pytest.raises(ValueError, match="refusing link"):
        safe_href(href)


def test_document_is_accessible_and_sized() -> None:
    root = parse(document(100, 20.5, "a label"))
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("100", "20.5", "0 0 100 20.5")
    assert root.get("role") == "img"
    assert root.get("aria-label") == "a label"
    assert texts(root) == ["a label"]
