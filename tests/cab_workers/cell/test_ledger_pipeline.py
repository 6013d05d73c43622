"""The exploit ledger through the real pipeline: the reference agent, driven by a
``scripted/forge-<entry>`` model, forges its work dir as a hostile model would; the cell is graded
by the real scorer container and must score pass 0.

CI runs every entry once, on the cheapest task it applies to (one case per entry), plus
``exit-at-import`` once for each runner no other case reached. The whole matrix, every entry on
every task it applies to, is::

    CAB_LEDGER_FULL=1 .venv/bin/pytest tests/cab_workers/cell/test_ledger_pipeline.py

(``cab tasks validate`` runs the whole matrix too, applying each entry's plan to the work dir
without an agent container.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cab_core.schema import CellSpec, FailureClass, Timeouts, make_cell_id
from cab_core.settings import Settings
from cab_endpoint.ledger import ESCAPE_ROOT, LEDGER
from cab_endpoint.task_index import TaskCatalog as EndpointCatalog
from cab_scheduler.catalog import TaskCatalog
from cab_workers.cell.pipeline import run_cell
from cab_workers.composition import LocalHost

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
FIXTURE_TASKS = REPO / "tests" / "fixtures" / "tasks"
"""Tasks shaped for entries no shipped task offers a target to (``script-override``)."""
CHEAPEST_FIRST = (
    "polyglot/python-semver-sort",
    "polyglot/js-query-string",
    "integrity/unsolvable-refusal",
    "polyglot/go-lru-eviction",
    "mutations/rust-error-negated",
)
"""Task order for the one-case-per-entry run: the fastest scorer runs first (cargo builds last)."""


def _root(task_id: str) -> Path:
    return FIXTURE_TASKS if (FIXTURE_TASKS / task_id).is_dir() else REPO / "tasks"


def _cases() -> list[tuple[str, str]]:
    entries = {
        t.task_id: t for root in (REPO / "tasks", FIXTURE_TASKS) for t in EndpointCatalog(root).tasks()
    }
    full = os.environ.get("CAB_LEDGER_FULL", "") not in ("", "0")
    order = [*CHEAPEST_FIRST, *sorted(set(entries) - set(CHEAPEST_FIRST))]
    fits = {e.name: [tid for tid in order if e.applies(entries[tid])] for e in LEDGER}
    cases = [(name, tid) for name, tids in fits.items() for tid in (tids if full else tids[:1])]
    reached = {entries[tid].test_runner for _, tid in cases}
    for tid in order:  # every runner's scorer path once through the pipeline
        runner = entries[tid].test_runner
        if runner not in reached and tid in fits["exit-at-import"]:
            cases.append(("exit-at-import", tid))
            reached.add(runner)
    return cases


@pytest.fixture(scope="module")
def fixture_host(images, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:  # noqa: ANN001
    """A host whose task catalog is the fixture tasks (the scripted endpoint reads the same root)."""
    settings = Settings(
        home=tmp_path_factory.mktemp("fixture-home"), tasks_dir=FIXTURE_TASKS, images_dir=REPO / "images"
    )
    with LocalHost(settings) as h:
        yield h


def forge_cell(entry: str, task_id: str) -> CellSpec:
    model = f"scripted/forge-{entry}"
    task = TaskCatalog(_root(task_id)).load(task_id)
    task = task.model_copy(update={"timeouts": Timeouts(agent_s=60, test_s=300, setup_s=60)})
    return CellSpec(
        cell_id=make_cell_id("ledger", "reference", model, task_id, 1),
        sweep_id="ledger",
        tui="reference",
        model=model,
        task=task,
    )


def test_every_entry_has_a_case() -> None:
    assert sorted({entry for entry, _ in _cases()}) == sorted(e.name for e in LEDGER)


@pytest.mark.parametrize(("entry", "task_id"), _cases())
def test_ledger_entry_scores_pass_zero_through_the_pipeline(
    no_leftover_containers: None, request: pytest.FixtureRequest, entry: str, task_id: str
) -> None:
    fixture = _root(task_id) == FIXTURE_TASKS
    host: LocalHost = request.getfixturevalue("fixture_host" if fixture else "local_host")
    assert host.ctx is not None
    r = run_cell(forge_cell(entry, task_id), host.ctx)
    assert r.failure.failure_class in (FailureClass.none, FailureClass.agent), r.failure.reason
    assert r.axes is not None, r.failure.reason
    calls = [c for c in r.model_calls if c.endpoint_path != "/v1/models"]
    assert calls, "the forging model was never asked"
    axis = r.axes.pass_rate
    assert axis.passed == 0, f"{entry} forged a pass on {task_id}: {axis.model_dump()}"
    assert axis.partial_score is None or axis.partial_score < 1
    assert not Path(ESCAPE_ROOT).exists(), "a host-side copy followed the agent's link out of the cell"
