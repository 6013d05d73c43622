"""Task versions in the store, on both backends (``store`` fixture): bundles stored once per hash, the
task hash of every result, and a resubmission after a task changed re-planning only that task's cells."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from cab_core.schema import CellResult, CellSpec, SweepSpec
from cab_core.store import ResultStore, task_bundles
from cab_core.store import planned as plan
from cab_core.store.tables import planned as planned_table
from cab_core.task_bundle import content_hash, pack, unpack
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.status import results_task_mix, task_mix
from cab_scheduler.sweep import bundler, expand
from tests.cab_core.store.factories import make_result

REPO = Path(__file__).resolve().parents[3]
PY, JS = "polyglot/python-semver-sort", "polyglot/js-query-string"


@pytest.fixture
def catalog(tmp_path: Path) -> TaskCatalog:
    """Two real tasks, copied so a test may edit them."""
    for task_id in (PY, JS):
        shutil.copytree(REPO / "tasks" / task_id, tmp_path / "tasks" / task_id, symlinks=True)
    return TaskCatalog(tmp_path / "tasks")


def sweep(sweep_id: str = "tv", models: tuple[str, ...] = ("scripted/oracle", "scripted/noop")) -> SweepSpec:
    return SweepSpec(sweep_id=sweep_id, tuis=["reference"], models=list(models), tasks=[PY, JS])


def submit(store: ResultStore, spec: SweepSpec, catalog: TaskCatalog, **kw: bool) -> plan.PlanDiff:
    """What `cab submit` does with the store: bundles first, then the plan."""
    cells = expand(spec, catalog, ["reference"])
    task_bundles.save(store, [c.task_hash for c in cells], bundler(cells, catalog))
    return plan.record_plan(store, spec, cells, **kw)


def result_of(cell: CellSpec, attempt: int = 1) -> CellResult:
    r = make_result(sweep_id=cell.sweep_id, tui=cell.tui, model=cell.model, task_id=cell.task.task_id)
    ident = r.identity.model_copy(update={"attempt": attempt, "task_hash": cell.task_hash})
    return r.model_copy(update={"identity": ident})


def stored_specs(store: ResultStore, sweep_id: str) -> dict[str, CellSpec]:
    query = select(planned_table.c.cell_id, planned_table.c.spec).where(planned_table.c.sweep_id == sweep_id)
    with store.reading("test") as conn:
        return {r.cell_id: CellSpec.model_validate(r.spec) for r in conn.execute(query)}


def edit(catalog: TaskCatalog, task_id: str) -> None:
    readme = catalog.paths(task_id).workdir / "NOTES.md"
    readme.write_text(readme.read_text() + "edited\n" if readme.exists() else "edited\n")


def test_bundles_are_stored_once_per_hash_and_load_back_verified(
    store: ResultStore, catalog: TaskCatalog, tmp_path: Path
) -> None:
    cells = expand(sweep(), catalog, ["reference"])
    hashes = [c.task_hash for c in cells]
    assert len(set(hashes)) == 2 and all(len(h) == 64 for h in hashes)
    assert {c.task.task_id: c.task_hash for c in cells}[PY] == content_hash(catalog.paths(PY).root)
    assert task_bundles.missing(store, hashes) == set(hashes)
    assert task_bundles.save(store, hashes, bundler(cells, catalog)) == 2
    assert task_bundles.save(store, hashes, bundler(cells, catalog)) == 0, "idempotent"
    assert task_bundles.missing(store, hashes) == set()
    py_hash = content_hash(catalog.paths(PY).root)
    bundle = task_bundles.load(store, py_hash)
    assert bundle is not None and bundle.task_id == PY and bundle.data == pack(catalog.paths(PY).root)[1]
    assert content_hash(unpack(bundle.data, tmp_path / "out" / PY, py_hash)) == py_hash
    assert task_bundles.load(store, "f" * 64) is None
    assert task_bundles.task_ids(store, [py_hash, "f" * 64]) == {py_hash: PY}


def test_a_task_edited_while_submitting_stores_nothing(store: ResultStore, catalog: TaskCatalog) -> None:
    cells = expand(sweep(), catalog, ["reference"])
    edit(catalog, PY)
    with pytest.raises(Exception, match=f"task {PY} changed while the sweep was being submitted"):
        task_bundles.save(store, [c.task_hash for c in cells], bundler(cells, catalog))
    assert task_bundles.missing(store, [c.task_hash for c in cells]) == {c.task_hash for c in cells}


def test_a_changed_task_reruns_only_its_cells_without_replace(
    store: ResultStore, catalog: TaskCatalog
) -> None:
    spec = sweep()
    assert submit(store, spec, catalog).new_sweep
    first = stored_specs(store, "tv")
    for cell in first.values():
        store.upsert_result(result_of(cell))
    plan.set_inactive(store, "tv")  # the dispatcher was done with it
    plan.mark_enqueued(store, list(first))  # as the dispatcher left them

    edit(catalog, PY)
    diff = submit(store, spec, catalog)  # no --replace: a changed task is not a changed sweep
    py_cells = sorted(cid for cid, c in first.items() if c.task.task_id == PY)
    assert diff.retasked == py_cells and diff.retasked_tasks == [PY]
    assert not diff.sweep_changed and not diff.same
    assert "2 cells of changed tasks rerun (polyglot/python-semver-sort); other cells kept" in diff.summary()

    now = stored_specs(store, "tv")
    new_hash = content_hash(catalog.paths(PY).root)
    for cid, cell in now.items():
        if cid in py_cells:
            assert cell.task_hash == new_hash != first[cid].task_hash
        else:
            assert cell == first[cid], "other cells are left as they are"
    states = plan.cell_states(store, "tv")
    assert sorted(cid for cid, s in states.items() if not s.final) == py_cells, (
        "earlier results count no more"
    )
    assert not any(states[cid].enqueued for cid in py_cells), "re-planned: waiting for dispatch"
    assert plan.sweep_state(store, "tv").active  # type: ignore[union-attr]
    assert task_bundles.missing(store, [new_hash]) == set(), "the new version's bundle is stored"
    # both versions of the task are in the store; the earlier results stay as attempt 1
    assert {r.identity.attempt for r in store.iter_results("tv")} == {1}
    assert submit(store, spec, catalog).same, "the same again: nothing more"


def test_a_changed_sweep_is_still_refused_without_replace_even_with_a_changed_task(
    store: ResultStore, catalog: TaskCatalog
) -> None:
    submit(store, sweep(), catalog)
    edit(catalog, JS)
    with pytest.raises(Exception, match="different spec .*cells of changed tasks rerun .*--replace"):
        submit(store, sweep(models=("scripted/oracle",)), catalog)
    assert all(
        c.task_hash != content_hash(catalog.paths(JS).root) for c in stored_specs(store, "tv").values()
    )
    diff = submit(store, sweep(models=("scripted/oracle",)), catalog, replace=True)
    assert len(diff.removed) == 2 and len(diff.retasked) == 1


def test_a_cell_planned_before_tasks_had_hashes_is_left_as_it_is(
    store: ResultStore, catalog: TaskCatalog
) -> None:
    spec = sweep(models=("scripted/oracle",))
    legacy = [c.model_copy(update={"task_hash": ""}) for c in expand(spec, catalog, ["reference"])]
    plan.record_plan(store, spec, legacy)
    assert submit(store, spec, catalog).same
    assert all(c.task_hash == "" for c in stored_specs(store, "tv").values())


def test_results_record_their_task_hash_and_the_mix_is_reported(
    store: ResultStore, catalog: TaskCatalog
) -> None:
    cells = expand(sweep(), catalog, ["reference"])
    for cell in cells:
        store.upsert_result(result_of(cell))
    assert set(store.final_task_hashes("tv").values()) == {c.task_hash for c in cells}
    assert task_mix(plan.task_versions(store, "tv")) == []

    edit(catalog, PY)
    again = {c.cell_id: c for c in expand(sweep(), catalog, ["reference"])}
    oracle_py = next(c for c in cells if c.task.task_id == PY and c.model == "scripted/oracle")
    store.upsert_result(result_of(again[oracle_py.cell_id], attempt=2))

    versions = plan.task_versions(store, "tv")
    mix = task_mix(versions)
    assert len(mix) == 1 and mix[0].task_id == PY
    assert dict(mix[0].versions) == {oracle_py.task_hash: 1, again[oracle_py.cell_id].task_hash: 1}
    assert results_task_mix(store.latest_by_cell("tv").values()) == mix
    assert store.final_task_hashes("tv")[oracle_py.cell_id] == again[oracle_py.cell_id].task_hash
