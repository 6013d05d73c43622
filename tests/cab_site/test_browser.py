"""The site in a real browser: the demo sweep's leaderboard and cell pages show the store's numbers,
sort and filter, play their recording to its end, and hostile agent output stays text.

Every expected number is computed here from the stored records (``ResultStore.latest_by_cell``),
never through ``cab_core.aggregate``, so a bug in the aggregation or the templates shows up as a
mismatch. The demo tests share one run of the demo sweep per session (``demo_site``, about two
minutes); the hostile-content test builds a one-cell site from a hand-made record and needs no Docker.
The ``page`` fixture fails any test whose page logged a console error, raised, opened a dialog or
asked another host for anything.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cab_core.schema import Artifact, ArtifactName, CellResult, FailureClass
from cab_core.store import ResultStore
from cab_site import paths
from cab_site.build import build_site
from cab_site.serve import ServerHandle
from cab_site.vendor import PLAYER, PLAYER_CSS, PLAYER_JS, ensure
from tests.cab_cli.test_cli import cab
from tests.cab_core.store.factories import make_result
from tests.cab_site.browser import shot
from tests.conftest import require

if TYPE_CHECKING:
    from playwright.sync_api import Page

PLAY_TIMEOUT_MS = 60_000

ROWS_JS = """(cat) => {
  const table = Array.from(document.querySelectorAll('table.board')).find(t => t.dataset.category === cat);
  return Array.from(table.tBodies[0].rows).map(tr => ({
    tui: tr.dataset.tui, model: tr.dataset.model,
    rate: tr.querySelector('span.rate').dataset.passRate,
    rate_text: tr.querySelector('span.rate').innerText.trim(),
    count: tr.querySelector('span.count').innerText.trim(),
  }));
}"""
"""The rows of one category's leaderboard table, in page order."""


@dataclass
class Tally:
    """One (TUI, model)'s cells as the store has them: infra cells are counted apart, never graded."""

    passed: int = 0
    graded: int = 0
    infra: int = 0


def tally(results: list[CellResult], category: str | None = None) -> dict[tuple[str, str], Tally]:
    """Per (TUI, model), straight from the records (optionally of one task category only)."""
    out: dict[tuple[str, str], Tally] = {}
    for r in results:
        ident = r.identity
        if category is not None and ident.task_id.split("/", 1)[0] != category:
            continue
        t = out.setdefault((ident.tui, ident.model), Tally())
        if r.failure.failure_class == FailureClass.infra:
            t.infra += 1
            continue
        t.graded += 1
        t.passed += 1 if r.axes is not None and r.axes.pass_rate.passed else 0
    return out


def check_rows(page: Page, category: str, expected: dict[tuple[str, str], Tally]) -> None:
    rows = page.evaluate(ROWS_JS, category)
    assert sorted((r["tui"], r["model"]) for r in rows) == sorted(expected), category
    for r in rows:
        t = expected[(r["tui"], r["model"])]
        where = f"{category}: {r['tui']} × {r['model']}"
        assert r["count"] == f"{t.passed}/{t.graded}", where
        if t.graded:
            assert float(r["rate"]) == pytest.approx(t.passed / t.graded, abs=1e-12), where
            assert r["rate_text"] == f"{t.passed / t.graded * 100:.1f} %", where
        else:
            assert (r["rate"], r["rate_text"]) == ("", "–"), where


def visible_boards(page: Page) -> list[str]:
    boards = page.locator("table.board").all()
    return [str(b.get_attribute("data-category")) for b in boards if b.is_visible()]


def rates(page: Page, category: str) -> list[float]:
    """The pass rates of a table's rows in page order; no grade sorts as -1, as the page does."""
    return [float(r["rate"]) if r["rate"] else -1.0 for r in page.evaluate(ROWS_JS, category)]


def check_sorting(page: Page) -> None:
    heading = page.locator('table.board[data-category="all"] th', has_text="Pass rate")
    before = rates(page, "all")
    assert len(set(before)) >= 2, "the demo should give (TUI, model) rows of different pass rates"
    heading.click()
    assert heading.get_attribute("aria-sort") == "descending"
    assert rates(page, "all") == sorted(before, reverse=True)
    heading.click()
    assert heading.get_attribute("aria-sort") == "ascending"
    assert rates(page, "all") == sorted(before)


def check_leaderboard(page: Page, url: str, results: list[CellResult]) -> None:
    """Summary, rows, sorting and the category filter of the leaderboard at ``url``."""
    page.goto(url)
    infra = sum(1 for r in results if r.failure.failure_class == FailureClass.infra)
    for attr, value in (("cells", len(results)), ("graded", len(results) - infra), ("infra", infra)):
        assert page.get_attribute(f"[data-{attr}]", f"data-{attr}") == str(value), attr
    assert page.inner_text("[data-cells]") == f"{len(results)} cells"
    categories = sorted({r.identity.task_id.split("/", 1)[0] for r in results})
    options = page.eval_on_selector_all("#category-filter option", "os => os.map(o => o.value)")
    assert options == ["all", *categories]
    assert visible_boards(page) == ["all"]
    check_rows(page, "all", tally(results))
    check_sorting(page)
    for category in categories:
        page.select_option("#category-filter", category)
        assert visible_boards(page) == [category]
        check_rows(page, category, tally(results, category))
    page.select_option("#category-filter", "all")
    assert visible_boards(page) == ["all"]


@pytest.fixture(scope="module")
def demo_built(demo_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site of the demo sweep, built by ``cab site build`` as a user would."""
    out = tmp_path_factory.mktemp("demo-built") / "site"
    done = cab("site", "build", "demo", "-o", str(out), home=demo_site)
    assert done.returncode == 0, f"cab site build failed:\n{done.stdout}\n{done.stderr}"
    assert (out / "index.html").is_file()
    return out


def demo_results(home: Path) -> list[CellResult]:
    with ResultStore(f"sqlite:///{home / 'cab.db'}") as store:
        return list(store.latest_by_cell("demo").values())


@pytest.mark.docker
@pytest.mark.slow
def test_leaderboard_of_the_demo_matches_the_store(demo_site: Path, demo_built: Path, page: Page) -> None:
    results = demo_results(demo_site)
    assert len(results) == 40  # 5 models x 8 tasks x 1 run (examples/demo.yaml)
    with ServerHandle(demo_built) as server:
        check_leaderboard(page, server.url + paths.INDEX, results)
        heading = page.locator('table.board[data-category="all"] th', has_text="Pass rate")
        heading.click()  # best first, for the picture
        assert heading.get_attribute("aria-sort") == "descending"
        shot(page, "leaderboard")
    check_leaderboard(page, (demo_built / paths.INDEX).as_uri(), results)


# --- cell pages -----------------------------------------------------------------------------------


def added_lines(diff: Artifact) -> list[str]:
    return [
        line
        for line in diff.text().splitlines()
        if line.startswith("+") and not line.startswith("+++") and line[1:].strip()
    ]


def expected_pass_and_composite(result: CellResult) -> tuple[str, str]:
    """The Pass and Composite values as the page writes them (``cab_site.present.scores``)."""
    assert result.axes is not None
    pr, comp = result.axes.pass_rate, result.axes.composite
    partial = "" if pr.partial_score is None else f" (partial {pr.partial_score:.2f})"
    missing = f" (missing: {', '.join(comp.missing)})" if comp.missing else ""
    return f"{pr.passed:.3f}{partial}", f"{comp.composite:.3f}{missing}"


def play_to_end(page: Page) -> None:
    """Start the player the way a reader does (its start overlay or its play button) and wait for its end."""
    page.wait_for_selector('#cab-player[data-state="ready"]', state="attached", timeout=15_000)
    start = page.locator("#cab-player .ap-overlay-start")
    if start.count():
        start.first.click()
    else:
        page.locator("#cab-player .ap-playback-button").click()
    page.wait_for_selector('#cab-player[data-state="ended"]', state="attached", timeout=PLAY_TIMEOUT_MS)


def pick_cell(store: ResultStore, results: list[CellResult], model: str) -> tuple[CellResult, Artifact]:
    """The first graded cell of ``model`` with a stored recording and a diff that adds a line."""
    for r in sorted(results, key=lambda r: r.identity.cell_id):
        if r.identity.model != model or r.failure.failure_class == FailureClass.infra or r.axes is None:
            continue
        stored = {a.name: a for a in store.artifacts(r.identity.cell_id, r.identity.attempt)}
        diff = stored.get(ArtifactName.diff)
        if ArtifactName.terminal in stored and diff is not None and added_lines(diff):
            return r, diff
    pytest.fail(f"no graded {model} cell of the demo has a stored recording and a diff that adds a line")


def check_cell_page(page: Page, result: CellResult, diff: Artifact) -> None:
    ident = result.identity
    assert page.evaluate("document.title") == f"{ident.tui} × {ident.model} · {ident.task_id}"
    passed, composite = expected_pass_and_composite(result)
    assert page.inner_text('dd[data-axis="Pass"]') == passed
    assert page.inner_text('dd[data-axis="Composite"]') == composite
    failures = page.locator("p.failure[data-failure-class]")
    if result.failure.failure_class == FailureClass.none:
        assert failures.count() == 0
    else:
        assert failures.get_attribute("data-failure-class") == result.failure.failure_class.value
    shown = [line.rstrip() for line in page.inner_text("#diff pre.diff").splitlines()]
    assert added_lines(diff)[0].rstrip() in shown
    play_to_end(page)
    assert page.inner_text("#cab-player .ap-term").strip(), "the player ended on an empty screen"


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize(("model", "via"), [("scripted/oracle", "served"), ("scripted/sloppy", "file")])
def test_cell_page_plays_its_recording_and_shows_the_stored_numbers(
    demo_site: Path, demo_built: Path, page: Page, model: str, via: str
) -> None:
    with ResultStore(f"sqlite:///{demo_site / 'cab.db'}") as store:
        result, diff = pick_cell(store, list(store.latest_by_cell("demo").values()), model)
    here = paths.cell_page(result.identity.cell_id)
    if via == "file":
        page.goto((demo_built / here).as_uri())
        check_cell_page(page, result, diff)
        return
    with ServerHandle(demo_built) as server:
        page.goto(server.url + here)
        check_cell_page(page, result, diff)
        shot(page, "cell-terminal", selector="#terminal")
        page.set_viewport_size({"width": 1280, "height": 1300})
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, "cell-page", full_page=False)


# --- hostile content ------------------------------------------------------------------------------

HOSTILE = (
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '"><svg onload=alert(3)>',
    "{{ 7*7 }}",
)
HOSTILE_LINE = " ".join(HOSTILE)
HOSTILE_DIFF = "\n".join(
    ["diff --git a/src/lib.rs b/src/lib.rs", "--- a/src/lib.rs", "+++ b/src/lib.rs", "@@ -1 +1,4 @@", "-x"]
    + [f"+{h}" for h in HOSTILE]
)
HOSTILE_CAST = "\n".join(
    json.dumps(line)
    for line in (
        {"version": 2, "width": 100, "height": 8, "timestamp": 0},
        *([0.1 * (i + 1), "o", f"{h}\r\n"] for i, h in enumerate(HOSTILE)),
        [0.6, "o", "the end\r\n"],
    )
)


def hostile_result() -> CellResult:
    """A failed cell whose every agent-written field carries the hostile strings."""
    base = make_result(
        sweep_id="hostile",
        tui="reference",
        model="scripted/oracle",
        passed=0,
        failure_class=FailureClass.agent,
    )
    record = base.model_dump(by_alias=True)
    record["failure"]["reason"] = HOSTILE_LINE
    record["agent_output_tail"] = HOSTILE_LINE
    record["axes"]["pass_rate"].update(stdout_tail=HOSTILE_LINE, stderr_tail=HOSTILE_LINE)
    record["spans"][0].update(name=HOSTILE_LINE, error=HOSTILE_LINE, attrs={"note": HOSTILE_LINE})
    record["model_calls"][0]["error"] = HOSTILE_LINE
    record["artifacts"] = [
        Artifact.of(name, body.encode(), original_bytes=len(body.encode()), truncated=False)
        for name, body in ((ArtifactName.diff, HOSTILE_DIFF), (ArtifactName.terminal, HOSTILE_CAST))
    ]
    return CellResult.model_validate(record)


@pytest.fixture(scope="module")
def vendor_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The pinned player, named as the pages link it (what ``cab site build`` passes in)."""
    require(shutil.which("npm") is not None, "npm (Node.js), to fetch the pinned player")
    found = ensure(PLAYER, tmp_path_factory.mktemp("cab-home") / "vendor")
    return {"asciinema-player.min.js": found[PLAYER_JS], "asciinema-player.css": found[PLAYER_CSS]}


SECTIONS = (
    "p.failure[data-failure-class]",
    "#tests",
    "#output",
    "#spans",
    "#calls",
    "#diff",
    "#cab-player .ap-term",
)
"""Where each hostile string must show as text on the cell page (the player's screen once ended)."""


def check_hostile_cell_page(page: Page, result: CellResult) -> None:
    ident = result.identity
    assert page.evaluate("document.title") == f"{ident.tui} × {ident.model} · {ident.task_id}"
    passed, composite = expected_pass_and_composite(result)
    assert (page.inner_text('dd[data-axis="Pass"]'), page.inner_text('dd[data-axis="Composite"]')) == (
        passed,
        composite,
    )
    assert page.get_attribute("p.failure[data-failure-class]", "data-failure-class") == "agent"
    play_to_end(page)
    for section in SECTIONS:
        text = page.inner_text(section)
        for hostile in HOSTILE:
            assert hostile in text, f"{hostile!r} is not shown as text in {section}"
    injected = "img[src=x], svg[onload], script:not([src]):not([type='application/json'])"
    assert page.locator(injected).count() == 0


@pytest.mark.slow
def test_hostile_agent_content_stays_text(page: Page, tmp_path: Path, vendor_files: dict[str, Path]) -> None:
    result = hostile_result()
    with ResultStore(f"sqlite:///{tmp_path / 'cab.db'}") as store:
        store.create_schema()
        store.upsert_result(result)
        build_site(store, ["hostile"], tmp_path / "site", vendor=vendor_files)
    site = tmp_path / "site"
    page.goto((site / paths.cell_page(result.identity.cell_id)).as_uri())
    check_hostile_cell_page(page, result)
    page.goto((site / paths.INDEX).as_uri())
    check_rows(page, "all", {("reference", "scripted/oracle"): Tally(passed=0, graded=1)})
    for other in sorted(site.rglob("*.html")):  # the task page too: no page may run the content
        page.goto(other.as_uri())
        assert page.locator("img[src=x], svg[onload]").count() == 0, other


# --- the ledger's page-markup entry, through the real pipeline -----------------------------------

FORGE_SWEEP = """\
sweep_id: forge-page
tuis: [reference]
models: [scripted/forge-page-markup]
tasks: [polyglot/python-semver-sort]
endpoint: scripted
timeouts: {agent_s: 30, test_s: 120, setup_s: 60}
"""


@pytest.mark.docker
@pytest.mark.slow
def test_an_agent_writing_markup_cannot_forge_its_cell_page(
    images: dict[str, str],  # noqa: ARG001 - the cab images must be built
    tmp_path: Path,
    page: Page,
) -> None:
    """The ledger entry ``page-markup`` (script, event handlers and a fake pass in file names and
    contents) runs as a real cell; its page shows the stored fail, runs nothing, and shows the markup
    as text."""
    from cab_endpoint.ledger.markup import PAGE_MARKUP

    home = tmp_path / "home"
    sweep = tmp_path / "forge.yaml"
    sweep.write_text(FORGE_SWEEP)
    assert cab("run", str(sweep), home=home).returncode == 0
    with ResultStore(f"sqlite:///{home / 'cab.db'}") as store:
        (result,) = store.latest_by_cell("forge-page").values()
        diff = next(a for a in store.artifacts(result.identity.cell_id, 1) if a.name == ArtifactName.diff)
    assert result.axes is not None and result.axes.pass_rate.passed == 0
    assert "<img src=x onerror=alert(3)>.md" in result.axes.blast_radius.added
    assert "</script><script>" in diff.text()
    done = cab("site", "build", "forge-page", "-o", str(tmp_path / "site"), home=home)
    assert done.returncode == 0, done.stderr
    page.goto((tmp_path / "site" / paths.cell_page(result.identity.cell_id)).as_uri())
    assert (
        page.evaluate("document.title")
        == f"reference × scripted/forge-page-markup · {result.identity.task_id}"
    )
    assert page.inner_text('dd[data-axis="Pass"]').startswith("0.000")
    shown = page.inner_text("#diff pre.diff")
    assert "<img src=x onerror=alert(3)>.md" in shown and PAGE_MARKUP.splitlines()[0] in shown
    assert page.locator("main img[src='x'], main svg[onload], main h1:has-text('pass 1.000')").count() == 0
    page.goto((tmp_path / "site" / "index.html").as_uri())
    assert page.inner_text("span.rate") == "0.0 %"
