"""The exploit ledger through the real pipeline: the reference agent, driven by a
``scripted/forge-<entry>`` model, forges its work dir as a hostile model would; the cell is graded
by the real scorer container and must score pass 0.

CI runs every entry once, on the cheapest task it applies to (one case per entry). The whole
matrix, every entry on every task it applies to, is::

    CAB_LEDGER_FULL=1 .venv/bin/pytest tests/cab_workers/test_ledger_pipeline.py

(``cab tasks validate`` runs the whole matrix too, applying each entry's plan to the work dir
without an agent container.)
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from cab_core.schema import CellSpec, FailureClass, Timeouts, make_cell_id
from cab_scheduler.catalog import TaskCatalog
from cab_workers.endpoint.catalog import TaskCatalog as EndpointCatalog
from cab_workers.endpoint.ledger import ESCAPE_ROOT, LEDGER
from cab_workers.local import LocalHost
from cab_workers.pipeline import run_cell

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
CHEAPEST_FIRST = (
    "polyglot/python-semver-sort",
    "polyglot/js-query-string",
    "integrity/unsolvable-refusal",
    "polyglot/go-lru-eviction",
    "polyglot/rust-lifetime-fix",
)
"""Task order for the one-case-per-entry run: the fastest scorer runs first (cargo builds last)."""


def _cases() -> list[tuple[str, str]]:
    entries = {t.task_id: t for t in EndpointCatalog(REPO / "tasks").tasks()}
    full = os.environ.get("CAB_LEDGER_FULL", "") not in ("", "0")
    order = [*CHEAPEST_FIRST, *sorted(set(entries) - set(CHEAPEST_FIRST))]
    cases = []
    for exploit in LEDGER:
        fits = [tid for tid in order if tid in entries and exploit.applies(entries[tid])]
        cases += [(exploit.name, tid) for tid in (fits if full else fits[:1])]
    return cases


def forge_cell(entry: str, task_id: str) -> CellSpec:
    model = f"scripted/forge-{entry}"
    task = TaskCatalog(REPO / "tasks").load(task_id)
    task = task.model_copy(update={"timeouts": Timeouts(agent_s=60, test_s=300, setup_s=60)})
    return CellSpec(
        cell_id=make_cell_id("ledger", "reference", model, task_id, 1),
        sweep_id="ledger",
        tui="reference",
        model=model,
        task=task,
    )


@pytest.mark.parametrize(("entry", "task_id"), _cases())
def test_ledger_entry_scores_pass_zero_through_the_pipeline(
    no_leftover_containers: None, local_host: LocalHost, entry: str, task_id: str
) -> None:
    assert local_host.ctx is not None
    ctx = dataclasses.replace(local_host.ctx)
    r = run_cell(forge_cell(entry, task_id), ctx)
    assert r.failure.failure_class in (FailureClass.none, FailureClass.agent), r.failure.reason
    assert r.axes is not None, r.failure.reason
    calls = [c for c in r.model_calls if c.endpoint_path != "/v1/models"]
    assert calls, "the forging model was never asked"
    axis = r.axes.pass_rate
    assert axis.passed == 0, f"{entry} forged a pass on {task_id}: {axis.model_dump()}"
    assert axis.partial_score is None or axis.partial_score < 1
    assert not Path(ESCAPE_ROOT).exists(), "a host-side copy followed the agent's link out of the cell"
