"""`cab run`'s resume rule (``sweep_runner.plan``) with task versions: a final result of another task
version does not count; one that recorded no version (older results) does."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_core.schema import SweepSpec
from cab_core.store import ResultStore
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import expand
from cab_workers.sweep_runner import plan
from tests.cab_core.store.factories import make_result

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PY, JS = "polyglot/python-semver-sort", "polyglot/js-query-string"


def test_a_final_cell_of_another_task_version_runs_again(tmp_path: Path) -> None:
    spec = SweepSpec(sweep_id="res", tuis=["reference"], models=["scripted/oracle"], tasks=[PY, JS])
    cells = {c.task.task_id: c for c in expand(spec, TaskCatalog(REPO / "tasks"), ["reference"])}
    extra = SweepSpec(sweep_id="res", tuis=["reference"], models=["scripted/noop"], tasks=[PY])
    (legacy,) = expand(extra, TaskCatalog(REPO / "tasks"), ["reference"])
    with ResultStore(f"sqlite:///{tmp_path / 'cab.db'}") as store:
        store.create_schema()
        for cell, ran in ((cells[PY], cells[PY].task_hash), (cells[JS], "e" * 64), (legacy, "")):
            r = make_result(sweep_id="res", tui="reference", model=cell.model, task_id=cell.task.task_id)
            store.upsert_result(
                r.model_copy(update={"identity": r.identity.model_copy(update={"task_hash": ran})})
            )
        done = plan([*cells.values(), legacy], store)
    assert done.skipped == sorted([cells[PY].cell_id, legacy.cell_id])
    assert done.retasked == [cells[JS].cell_id]
    assert done.to_run == [(cells[JS], 2)]
