"""Badges: self-contained SVG (GitHub's image proxy allows nothing else), sized from the text, escaped,
coloured by pass rate."""

from __future__ import annotations

import pytest

from cab_site.svg import badge, pass_color
from cab_site.svg.text import fit, text_width
from tests.cab_site.svg.svgtree import HOSTILE, HOSTILE_AS_TEXT, find_all, parse, tags, texts

pytestmark = pytest.mark.unit


def width(label: str, message: str) -> float:
    return float(parse(badge(label, message, "green")).get("width") or "nan")


def test_badge_is_well_formed_and_accessible() -> None:
    root = parse(badge("pass rate", "62.5 %", pass_color(0.625)))
    assert root.get("aria-label") == "pass rate: 62.5 %"
    assert texts(root) == ["pass rate: 62.5 %"]
    assert root.get("height") == "20"
    shown = texts(root, "text")
    assert shown.count("pass rate") == 2 and shown.count("62.5 %") == 2  # text and its shadow


def test_width_is_padding_plus_estimated_text_width() -> None:
    # "i" is 562/2048 em, 3.02 px at 11 px -> 3; "m" is 1992/2048 em, 10.70 px -> 11; 5 px each side
    assert width("i", "m") == (3 + 10) + (11 + 10)


def test_width_grows_with_the_text() -> None:
    assert width("pass", "1 %") < width("pass rate", "1 %") < width("pass rate", "100.0 %")
    assert width("x", "iiii") < width("x", "WWWW")


def test_an_empty_label_gives_a_one_part_badge() -> None:
    root = parse(badge("", "v1", "blue"))
    assert len(find_all(root, "path")) == 1
    assert root.get("aria-label") == "v1"


def test_nothing_outside_the_file_is_referenced() -> None:
    out = str(badge("pass rate", "62.5 %", "#4c1"))
    for banned in ("href", "url(", "@import", "<script", "<style", "font-face", "<image", " id="):
        assert banned not in out


def test_hostile_labels_are_escaped() -> None:
    root = parse(badge(HOSTILE, HOSTILE, "red"))
    assert "script" not in tags(root)
    assert texts(root) == [f"{HOSTILE_AS_TEXT}: {HOSTILE_AS_TEXT}"]


@pytest.mark.parametrize("color", ["red; x", '#fff" onload="x', "#12345", "chartreuse"])
def test_unknown_colours_are_refused(color: str) -> None:
    with pytest.raises(ValueError, match="unknown badge colour"):
        badge("a", "b", color)


@pytest.mark.parametrize(
    ("rate", "color"),
    [
        (None, "#9f9f9f"),
        (0.0, "#e05d44"),
        (-0.5, "#e05d44"),
        (0.5, "#dfb317"),
        (1.0, "#44cc11"),
        (2.0, "#44cc11"),
        # halfway red -> yellow: (224+223)/2, (93+179)/2, (68+23)/2 = 223.5, 136, 45.5 -> 224, 136, 46
        (0.25, "#e0882e"),
        # halfway yellow -> green: (223+68)/2, (179+204)/2, (23+17)/2 = 145.5, 191.5, 20 -> 146, 192, 20
        (0.75, "#92c014"),
    ],
)
def test_pass_colour_runs_red_yellow_green(rate: float | None, color: str) -> None:
    assert pass_color(rate) == color


@pytest.mark.parametrize(
    ("text", "px"),
    [("", 0.0), ("0", 1302 * 11 / 2048), ("il", 2 * 562 * 11 / 2048), ("W@", (2025 + 2048) * 11 / 2048)],
)
def test_text_width_table(text: str, px: float) -> None:
    assert text_width(text) == pytest.approx(px)
    assert text_width(text, 22) == pytest.approx(2 * px)


def test_wide_and_combining_characters() -> None:
    assert text_width("\u6f22") == 11.0  # a CJK ideograph takes a full em
    assert text_width("e\u0301") == text_width("e")  # a combining accent takes no room


def test_fit_cuts_with_an_ellipsis() -> None:
    assert fit("short", 100) == "short"
    cut = fit("a long label that does not fit", 60)
    assert cut.endswith("\u2026") and text_width(cut) <= 60
    assert "a long label that does not fit".startswith(cut[:-1])
