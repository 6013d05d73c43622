"""``build_site`` over a real SQLite store: every page is written once, a rebuild of the same results
writes nothing, a new attempt rewrites its own page (and the aggregate pages) only, cells that left
the build lose their files, and bad input changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cab_core.errors import CabError
from cab_core.schema import Artifact, ArtifactName, CellResult, FailureClass
from cab_core.store import ResultStore
from cab_site import paths
from cab_site.build import MANIFEST, build_site
from cab_site.model import TaskInfo
from tests.cab_core.store.factories import make_result

pytestmark = pytest.mark.unit

HEADER = b'{"version": 2, "width": 80, "height": 24}\n'
HOSTILE = "</script><script>alert(1)</script><img src=x onerror=alert(2)>{{ 7*7 }}"


def grid(sweep: str = "s1", attempt: int = 1) -> list[CellResult]:
    out = []
    for tui in ("aider", "opencode"):
        for model in ("m/a", "m:b"):
            for task in ("polyglot/one", "integrity/two"):
                for run in (1, 2):
                    passed = int(tui == "aider" or run == 1)
                    out.append(
                        make_result(
                            sweep_id=sweep, tui=tui, model=model, task_id=task, run=run, passed=passed
                        )
                    )
    return out


@pytest.fixture
def store(tmp_path: Path) -> ResultStore:
    s = ResultStore(f"sqlite:///{tmp_path / 'cab.db'}")
    s.create_schema()
    for r in grid():
        s.upsert_result(r)
    return s


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_first_build_writes_every_page_and_a_rebuild_writes_nothing(
    store: ResultStore, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    first = build_site(store, ["s1"], out)
    assert first.cells == 16 and first.pages_unchanged == 0
    written = files_of(out)
    for r in grid():
        assert paths.cell_page(r.identity.cell_id) in written
        assert paths.cell_badge(r.identity.cell_id) in written
    assert {
        "index.html",
        "task/polyglot/one.html",
        "badge/aider/m/a.svg",
        "badge/opencode/m~3Ab.svg",
    } <= written
    assert first.pages_written == len(written) - 1  # everything but the manifest
    again = build_site(store, ["s1"], out)
    assert (again.pages_written, again.pages_unchanged) == (0, 16 + 16 + 4 + 2 + 1)  # + badges, tasks, index
    assert files_of(out) == written


def test_a_new_attempt_rewrites_its_page_and_the_aggregates_only(store: ResultStore, tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(store, ["s1"], out)
    target = make_result(sweep_id="s1", tui="opencode", model="m/a", task_id="polyglot/one", run=2, attempt=2)
    page = out / paths.cell_page(target.identity.cell_id)
    before = {p: (out / p).stat().st_mtime_ns for p in files_of(out)}
    store.upsert_result(target)  # run 2 failed before; its second attempt passes
    report = build_site(store, ["s1"], out)
    changed = {p for p in files_of(out) if (out / p).stat().st_mtime_ns != before.get(p)} - {MANIFEST}
    cell_id = target.identity.cell_id
    # its page and badge, and what aggregates it: the leaderboard, its task's page, its pair's badge;
    # its neighbours link to it without its outcome, so their pages stay as they were
    assert changed == {
        paths.cell_page(cell_id),
        paths.cell_badge(cell_id),
        "index.html",
        "task/polyglot/one.html",
        "badge/opencode/m/a.svg",
    }
    assert "attempt 2" in page.read_text()
    assert report.pages_unchanged == 39 - 5


def test_cells_that_leave_the_build_lose_their_files(store: ResultStore, tmp_path: Path) -> None:
    for r in grid("s2"):
        store.upsert_result(r)
    out = tmp_path / "site"
    build_site(store, ["s1", "s2"], out)
    s2_page = out / paths.cell_page(grid("s2")[0].identity.cell_id)
    assert s2_page.exists()
    build_site(store, ["s1"], out)
    assert not s2_page.exists()
    assert all(not f.startswith("cell/s2/") for f in files_of(out))
    assert set(json.loads((out / MANIFEST).read_text())["files"]) == files_of(out) - {MANIFEST}


@pytest.mark.parametrize(
    ("sweeps", "prepare", "message"),
    [
        (["nope"], None, "no results for sweep 'nope'"),
        ([], None, "name at least one sweep id"),
        (["s1"], "stranger", "is not empty and holds no cab site"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    store: ResultStore, tmp_path: Path, sweeps: list[str], prepare: str | None, message: str
) -> None:
    out = tmp_path / "site"
    if prepare:
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    with pytest.raises(CabError, match=message) as err:
        build_site(store, sweeps, out)
    assert "\n" not in str(err.value)
    assert not out.exists() or files_of(out) == {"notes.txt"}


def test_agent_content_reaches_the_page_as_text_never_as_markup(store: ResultStore, tmp_path: Path) -> None:
    hostile = make_result(
        sweep_id="s1",
        tui="aider",
        model="m/a",
        task_id="polyglot/one",
        attempt=2,
        failure_class=FailureClass.agent,
        reason=HOSTILE,
    )
    hostile = hostile.model_copy(
        update={
            "agent_output_tail": HOSTILE,
            "artifacts": [
                Artifact.of(ArtifactName.diff, f"+{HOSTILE}\n".encode(), original_bytes=40, truncated=False),
                Artifact.of(
                    ArtifactName.terminal,
                    HEADER + f'[0.1, "o", {json.dumps(HOSTILE)}]\n'.encode(),
                    original_bytes=90,
                    truncated=False,
                ),
            ],
        }
    )
    store.upsert_result(hostile)
    out = tmp_path / "site"
    build_site(
        store,
        ["s1"],
        out,
        tasks={"polyglot/one": TaskInfo("polyglot/one", "polyglot", "rust", f"Fix it. {HOSTILE}", "valid")},
    )
    for rel in (paths.cell_page(hostile.identity.cell_id), paths.task_page("polyglot/one")):
        html = (out / rel).read_text()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "{{ 7*7 }}" in html  # shown as written, never evaluated
    cell_html = (out / paths.cell_page(hostile.identity.cell_id)).read_text()
    # behind the escaping, every page forbids inline and foreign script
    for page in out.rglob("*.html"):
        head = page.read_text().split("</head>", 1)[0]
        assert "Content-Security-Policy" in head and "script-src 'self' 'wasm-unsafe-eval';" in head, page
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in cell_html  # the output tail, escaped
    embedded = cell_html.split('id="cab-cast">', 1)[1].split("</script>", 1)[0]
    assert "<" not in embedded and json.loads(embedded).endswith(json.dumps(HOSTILE) + "]\n")


def test_a_tampered_artifact_is_named_on_its_page_and_the_build_goes_on(
    store: ResultStore, tmp_path: Path
) -> None:
    from sqlalchemy import update

    from cab_core.store.tables import artifacts as artifacts_table

    cell = make_result(sweep_id="s1", tui="aider", model="m/a", task_id="polyglot/one", attempt=2)
    diff = Artifact.of(ArtifactName.diff, b"+honest\n", original_bytes=8, truncated=False)
    store.upsert_result(cell.model_copy(update={"artifacts": [diff]}))
    with store.transaction("tamper") as conn:
        conn.execute(update(artifacts_table).values(sha256="0" * 64))
    out = tmp_path / "site"
    report = build_site(store, ["s1"], out)
    assert report.cells == 16
    html = (out / paths.cell_page(cell.identity.cell_id)).read_text()
    assert "data-artifact-problem" in html and "+honest" not in html
