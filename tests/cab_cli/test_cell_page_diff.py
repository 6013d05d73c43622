"""The "Agent diff" section of ``cab show``: the head of the stored diff, as plain text whose escape
sequences and markup are shown, never obeyed; read from the store's artifacts by the real command."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from cab_cli.render import render_cell
from cab_core.schema import Artifact, ArtifactName, CellResult
from cab_core.store import ResultStore
from tests.cab_cli.test_cli import cab
from tests.cab_core.store.factories import make_result

pytestmark = pytest.mark.unit

HOSTILE = (
    "--- a/x.py\n+++ b/x.py\n@@ -1,100 +1,100 @@\n"
    "+\x1b]0;owned\x07\x1b[2J[bold red]not markup[/]\n" + "".join(f"+line {i}\n" for i in range(2, 101))
)


def with_diff(result: CellResult, text: str, *, truncated: bool = False) -> CellResult:
    body = text.encode()
    size = len(body) * 2 if truncated else len(body)
    diff = Artifact.of(ArtifactName.diff, body, original_bytes=size, truncated=truncated)
    return result.model_copy(update={"artifacts": [diff]})


def printed(renderable: object) -> str:
    out = io.StringIO()
    Console(file=out, width=160, color_system=None, force_terminal=False).print(renderable)
    return out.getvalue()


def section(page: str) -> str:
    return page.split("Agent diff\n", 1)[1].split("\nRun it yourself", 1)[0]


def test_the_head_of_the_diff_is_shown_escaped() -> None:
    shown = section(printed(render_cell(with_diff(make_result(), HOSTILE))))
    lines = shown.strip("\n").splitlines()
    assert lines[:3] == ["--- a/x.py", "+++ b/x.py", "@@ -1,100 +1,100 @@"]
    assert lines[3] == "+\\x1b]0;owned\\x07\\x1b[2J[bold red]not markup[/]"
    assert lines[59] == "+line 57" and "+line 58" not in shown
    assert lines[60] == "(43 more lines; the results site shows what was kept)"
    assert "\x1b" not in shown and "\x07" not in shown


@pytest.mark.parametrize(
    ("result", "want"),
    [
        (make_result(), "No diff was kept for this attempt."),
        (with_diff(make_result(), ""), "The agent changed nothing."),
        (
            with_diff(make_result(), "+a\n", truncated=True),
            "(0 more lines; the stored diff was cut at 3 of 6 bytes; the results site shows what was kept)",
        ),
    ],
)
def test_what_the_section_says_without_a_whole_diff(result: CellResult, want: str) -> None:
    assert want in section(printed(render_cell(result)))


def test_cab_show_reads_the_diff_from_the_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = with_diff(make_result(), HOSTILE)
    with ResultStore(f"sqlite:///{home / 'cab.db'}") as store:
        store.create_schema()
        store.upsert_result(result)
    done = cab("show", result.identity.cell_id, home=home)
    assert done.returncode == 0, done.stderr
    assert "Agent diff" in done.stdout and "+line 57\n" in done.stdout
    assert "\\x1b]0;owned" in done.stdout and "\x1b]0;owned" not in done.stdout
