"""The SVG package's public names: a name added or dropped is a decision this list records."""

from __future__ import annotations

import pytest

import cab_site.svg as svg

pytestmark = pytest.mark.unit

EXPORTED = {
    "badge", "pass_color",
    "whisker", "interval_text",
    "ParetoPoint", "frontier", "unknown_cost", "pareto_chart",
    "HeatCell", "heatmap",
    "WaterfallSpan", "waterfall",
}  # fmt: skip


def test_the_public_names_are_pinned() -> None:
    assert set(svg.__all__) == EXPORTED
    assert len(svg.__all__) == len(EXPORTED)


def test_every_public_name_is_importable_from_the_package() -> None:
    assert [name for name in svg.__all__ if not hasattr(svg, name)] == []
