"""The vendored asciinema-player plays an embedded recording to its end from a ``file://`` page.

This is the shape the cell pages use: the pinned bundle and stylesheet copied beside the page, the
recording embedded as a JSON string in a ``<script type="application/json">`` (``<`` escaped, so a
recording that prints ``</script>`` cannot close the tag), handed to ``AsciinemaPlayer.create`` as
``{data: ...}``, and the player's ``ended`` event marking the container with ``data-ended``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cab_site.vendor import LICENSE, PLAYER, PLAYER_CSS, PLAYER_JS, ensure
from tests.cab_site.browser import PageProblems, shot
from tests.conftest import require

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.slow

HOSTILE = "</script><script>alert('cast escaped')</script><img src=x onerror=alert(1)>"
CAST = "\n".join(
    json.dumps(line)
    for line in (
        {"version": 2, "width": 80, "height": 6, "timestamp": 0},
        [0.1, "o", "$ cab says hello\r\n"],
        [0.4, "o", f"{HOSTILE}\r\n"],
        [0.9, "o", "\x1b[32mdone\x1b[0m\r\n"],
    )
)
"""A tiny asciicast v2 (0.9 s; 90 ms at speed 10) whose output tries to break out of the page."""

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>player smoke</title>
<link rel="stylesheet" href="asciinema-player.css"></head>
<body><div id="player"></div>
<script type="application/json" id="cast">{cast_json}</script>
<script src="asciinema-player.min.js"></script>
<script>
  const el = document.getElementById('player');
  const cast = JSON.parse(document.getElementById('cast').textContent);
  const player = AsciinemaPlayer.create({{data: cast}}, el, {{autoPlay: true, speed: 10}});
  player.addEventListener('ended', () => el.setAttribute('data-ended', 'true'));
</script></body></html>
"""


def script_json(value: str) -> str:
    """JSON safe inside a ``<script>`` element: no ``<`` survives, so no ``</script>`` or ``<!--``."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@pytest.fixture(scope="module")
def player_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require(shutil.which("npm") is not None, "npm (Node.js), to fetch the pinned player")
    return ensure(PLAYER, tmp_path_factory.mktemp("vendor"))


def test_the_vendored_player_plays_an_embedded_cast_to_its_end(
    page: Page, page_problems: PageProblems, player_files: dict[str, Path], tmp_path: Path
) -> None:
    assert player_files[LICENSE].is_file()
    shutil.copyfile(player_files[PLAYER_JS], tmp_path / "asciinema-player.min.js")
    shutil.copyfile(player_files[PLAYER_CSS], tmp_path / "asciinema-player.css")
    html = tmp_path / "index.html"
    html.write_text(PAGE.format(cast_json=script_json(CAST)))

    page.goto(html.as_uri())
    page.wait_for_selector("#player[data-ended='true']", state="attached", timeout=15_000)

    terminal = page.locator("#player .ap-term").inner_text()
    assert "$ cab says hello" in terminal and "done" in terminal
    assert "</script><script>alert('cast escaped')</script>" in terminal  # shown as text, never run
    assert page.locator("img[src=x]").count() == 0
    assert page_problems.lines == []
    assert shot(page, "player-smoke").stat().st_size > 1_000


BROKEN = """<!doctype html><html><body>
<script>console.error('logged error');</script>
<script>throw new Error('uncaught error');</script>
<script>
  alert('ran script');
  fetch('https://cdn.example.invalid/lib.js').catch(() => {}).finally(() => { window.cabDone = true; });
</script></body></html>
"""


def test_the_page_fixture_records_every_kind_of_breakage(
    page: Page, page_problems: PageProblems, tmp_path: Path
) -> None:
    html = tmp_path / "broken.html"
    html.write_text(BROKEN)

    page.goto(html.as_uri())
    page.wait_for_function("window.cabDone === true", timeout=15_000)

    found = {line.split(":")[0] for line in page_problems.lines}
    assert {"console error", "page error", "dialog (alert)", "external request"} <= found
    assert any("uncaught error" in line for line in page_problems.lines)
    assert "external request: https://cdn.example.invalid/lib.js" in page_problems.lines
    page_problems.lines.clear()  # seen; the fixture would otherwise fail this test at teardown
