"""The task x agent heatmap: a box per present cell at its row and column, each a link with its tooltip,
infra failures marked, missing pairs blank, and a 100 x 20 sweep still a page wide."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from cab_site.svg import HeatCell, heatmap
from tests.cab_site.svg.svgtree import HOSTILE, HOSTILE_AS_TEXT, NS, find_all, parse, tags, texts

pytestmark = pytest.mark.unit

ROWS = ["fix-typo", "add-flag", "port-lib"]
COLS = ["aider / gpt-4o", "claude / sonnet"]
CELLS = {
    ("fix-typo", "aider / gpt-4o"): HeatCell(1.0, "fix-typo, aider: 3 of 3", "c/1.html"),
    ("fix-typo", "claude / sonnet"): HeatCell(0.0, "fix-typo, claude: 0 of 3", "c/2.html"),
    ("add-flag", "aider / gpt-4o"): HeatCell(None, "add-flag, aider: infra", "c/3.html", infra=True),
    ("add-flag", "claude / sonnet"): HeatCell(0.5, "add-flag, claude: 1 of 2", None),
    ("port-lib", "claude / sonnet"): HeatCell(None, "port-lib, claude: not graded", "c/5.html"),
}  # ("port-lib", "aider / gpt-4o") was never planned


def cell_boxes(root: ET.Element) -> dict[str, ET.Element]:
    """Each cell's box by its tooltip (the title is the first child of the box's link or group)."""
    found = {}
    for group in root.iter():
        children = list(group)
        if children and children[0].tag == f"{NS}title" and len(children) > 1:
            box = children[1]
            if "cell" in (box.get("class") or "").split():
                found[children[0].text or ""] = box
    return found


def test_one_box_per_present_cell_with_its_link() -> None:
    root = parse(heatmap(ROWS, COLS, CELLS))
    assert len(find_all(root, "rect", "cell")) == 5
    links = {a.findtext(f"{NS}title"): a.get("href") for a in root.iter(f"{NS}a")}
    assert links == {c.label: c.href for c in CELLS.values() if c.href is not None}
    assert set(cell_boxes(root)) == {c.label for c in CELLS.values()}


def test_boxes_sit_at_their_row_and_column() -> None:
    boxes = cell_boxes(parse(heatmap(ROWS, COLS, CELLS)))
    x = {label: float(box.get("x") or "nan") for label, box in boxes.items()}
    y = {label: float(box.get("y") or "nan") for label, box in boxes.items()}
    left, right = x["fix-typo, aider: 3 of 3"], x["fix-typo, claude: 0 of 3"]
    assert x["add-flag, aider: infra"] == left and x["port-lib, claude: not graded"] == right > left
    row0, row1, row2 = (
        y["fix-typo, claude: 0 of 3"],
        y["add-flag, claude: 1 of 2"],
        y["port-lib, claude: not graded"],
    )
    assert row1 - row0 == row2 - row1 > 0


def test_colour_by_value_grey_when_nothing_graded() -> None:
    boxes = cell_boxes(parse(heatmap(ROWS, COLS, CELLS)))
    fills = {label: box.get("fill") for label, box in boxes.items()}
    assert fills["fix-typo, aider: 3 of 3"] == "#44cc11"
    assert fills["fix-typo, claude: 0 of 3"] == "#e05d44"
    assert fills["add-flag, claude: 1 of 2"] == "#dfb317"
    assert fills["port-lib, claude: not graded"] == fills["add-flag, aider: infra"] == "#d4d4d4"


def test_infra_cells_carry_a_marker() -> None:
    root = parse(heatmap(ROWS, COLS, CELLS))
    (mark,) = find_all(root, "path", "infra")
    (link,) = [a for a in root.iter(f"{NS}a") if mark in list(a)]
    assert link.get("href") == "c/3.html"


def test_labels_rotated_columns_and_full_text_in_tooltips() -> None:
    long_col = "a-very-long-tui-name / provider/a-model-name-that-goes-on-and-on-and-on"
    root = parse(heatmap(ROWS, [long_col], {}))
    (labels,) = find_all(root, "g", "labels")
    rotated = [t for t in labels.iter(f"{NS}text") if "rotate(-45)" in (t.get("transform") or "")]
    assert len(rotated) == 1
    assert "".join(rotated[0].itertext()).endswith("\u2026")  # cut to fit ...
    assert long_col in texts(root)  # ... and whole in its tooltip
    assert find_all(root, "rect", "cell") == []


def test_a_large_sweep_stays_a_page_wide() -> None:
    rows = [f"task-{i:03d}-with-a-name" for i in range(100)]
    cols = [f"tui-{j} / provider/model-{j}" for j in range(20)]
    cells = {(r, c): HeatCell((i * j % 5) / 4, f"{r} {c}", f"cells/{i}-{j}.html") for i, r in enumerate(rows)
             for j, c in enumerate(cols)}  # fmt: skip
    root = parse(heatmap(rows, cols, cells))
    assert len(find_all(root, "rect", "cell")) == 2000
    assert len({a.get("href") for a in root.iter(f"{NS}a")}) == 2000
    assert float(root.get("width") or "inf") < 1100
    assert float(root.get("height") or "inf") < 1500


def test_hostile_labels_are_escaped() -> None:
    out = heatmap([HOSTILE], [HOSTILE], {(HOSTILE, HOSTILE): HeatCell(0.5, HOSTILE, "c/&<x>.html")})
    root = parse(out)
    assert "script" not in tags(root)
    assert texts(root).count(HOSTILE_AS_TEXT) == 3  # row, column and cell tooltips
    assert [a.get("href") for a in root.iter(f"{NS}a")] == ["c/&<x>.html"]


def test_nothing_to_show() -> None:
    assert texts(parse(heatmap([], COLS, {}))) == ["no cells to show"]
