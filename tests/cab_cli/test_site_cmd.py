"""`cab site build` / `cab site serve` through the real command: where the site is, how to open it,
and bad input as one line that writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cab_core.settings import Settings
from cab_core.store import ResultStore
from cab_site.vendor import PLAYER, ensure
from tests.cab_cli.test_cli import cab, error_line
from tests.cab_core.store.factories import make_result
from tests.conftest import require

pytestmark = pytest.mark.unit


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A CAB_HOME with a two-cell sweep ``s1`` and the pinned player already cached."""
    require(shutil.which("npm") is not None, "npm (Node.js), to fetch the pinned player")
    cached = ensure(PLAYER, Settings().cab_home.vendor)
    home = tmp_path / "home"
    folder = cached[PLAYER.files[0]].parents[len(Path(PLAYER.files[0]).parts) - 1]
    shutil.copytree(folder, home / "vendor" / folder.name)
    store = ResultStore(f"sqlite:///{home / 'cab.db'}")
    store.create_schema()
    for model in ("m/a", "m/b"):
        store.upsert_result(make_result(sweep_id="s1", model=model, passed=int(model == "m/a")))
    store.close()
    return home


def test_build_says_where_the_site_is_and_a_rebuild_writes_nothing(home: Path) -> None:
    done = cab("site", "build", "s1", home=home)
    assert done.returncode == 0, done.stderr
    index = home / "site" / "index.html"
    assert f"file://{index}" in done.stdout and f"cab site serve {home / 'site'}" in done.stdout
    assert "2 cells" in done.stdout and (home / "site" / "assets" / "asciinema-player.min.js").is_file()
    again = cab("site", "build", "s1", home=home)
    assert again.returncode == 0 and "0 files written" in again.stdout


@pytest.mark.parametrize(
    ("args", "prepare", "message"),
    [
        (("site", "build", "nope"), None, "no results for sweep 'nope'"),
        (("site", "build", "s1", "-o", "{out}"), "stranger", "is not empty and holds no cab site"),
        (("site", "serve", "{out}"), None, "holds no site"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    home: Path, tmp_path: Path, args: tuple[str, ...], prepare: str | None, message: str
) -> None:
    out = tmp_path / "out"
    if prepare:
        out.mkdir()
        (out / "mine.txt").write_text("mine")
    done = cab(*(a.format(out=out) for a in args), home=home)
    assert done.returncode == 2
    assert message in error_line(done)
    assert not (home / "site").exists()
    assert not out.exists() or [p.name for p in out.iterdir()] == ["mine.txt"]
