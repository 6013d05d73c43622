"""The host's task cache: a cell gets exactly the task content it was submitted with, or fails."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from cab_core.errors import InfraError, TaskError
from cab_core.paths import CabHome
from cab_core.schema import CellSpec, SweepSpec
from cab_core.store import ResultStore, task_bundles
from cab_core.task_bundle import content_hash, short
from cab_scheduler.catalog import TaskCatalog
from cab_scheduler.sweep import bundler, expand
from cab_workers.host.task_cache import StoreFetch, TaskCache

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
PY = "polyglot/python-semver-sort"
LAPTOP = "polyglot/python-semver-sort-laptop"


def laptop_tasks(root: Path) -> TaskCatalog:
    """The submitter's tasks: one shared with the host, one that exists only here."""
    shutil.copytree(REPO / "tasks" / PY, root / PY)
    shutil.copytree(REPO / "tasks" / PY, root / LAPTOP)
    spec = root / LAPTOP / "task.yaml"
    spec.write_text(spec.read_text().replace("slug: python-semver-sort", "slug: python-semver-sort-laptop"))
    return TaskCatalog(root)


@pytest.fixture
def world(tmp_path: Path) -> tuple[list[CellSpec], ResultStore, TaskCache]:
    """Cells submitted from a laptop (bundles stored), and a host whose tasks folder lacks one task."""
    laptop = laptop_tasks(tmp_path / "laptop")
    spec = SweepSpec(sweep_id="tc", tuis=["reference"], models=["scripted/oracle"], tasks=[PY, LAPTOP])
    cells = expand(spec, laptop, ["reference"])
    store = ResultStore(f"sqlite:///{tmp_path / 'cab.db'}")
    store.create_schema()
    task_bundles.save(store, [c.task_hash for c in cells], bundler(cells, laptop))
    host_tasks = tmp_path / "host-tasks"
    shutil.copytree(REPO / "tasks" / PY, host_tasks / PY)
    fetch = StoreFetch(store.url)
    cache = TaskCache.under(CabHome(tmp_path / "home"), TaskCatalog(host_tasks), fetch)
    yield cells, store, cache
    fetch.close()
    store.close()


def by_task(cells: list[CellSpec]) -> dict[str, CellSpec]:
    return {c.task.task_id: c for c in cells}


def test_a_task_only_the_submitter_has_is_fetched_verified_and_reused(world) -> None:  # noqa: ANN001
    cells, _, cache = world
    cell = by_task(cells)[LAPTOP]
    paths = cache.paths(cell)
    assert paths.root == cache.root / cell.task_hash / LAPTOP
    assert content_hash(paths.root) == cell.task_hash
    assert TaskCatalog(cache.version_root(cell.task_hash)).load(LAPTOP).slug == "python-semver-sort-laptop"
    assert cache.paths(cell) == paths  # present and verified: used as it is
    assert not list((cache.root / ".staging").iterdir()), "nothing left half-unpacked"


def test_a_version_the_host_folder_holds_is_copied_from_it_without_the_store(world, tmp_path: Path) -> None:  # noqa: ANN001
    cells, _, cache = world
    offline = TaskCache(cache.root, cache.local, lambda h: pytest.fail("the store was asked"))
    cell = by_task(cells)[PY]
    assert content_hash(offline.paths(cell).root) == cell.task_hash


def test_a_legacy_cell_uses_the_host_folder(world) -> None:  # noqa: ANN001
    cells, _, cache = world
    legacy = by_task(cells)[PY].model_copy(update={"task_hash": ""})
    assert cache.paths(legacy) == cache.local.paths(PY)


def test_a_tampered_cached_version_is_refused_and_replaced_by_the_verified_one(world) -> None:  # noqa: ANN001
    cells, _, cache = world
    cell = by_task(cells)[LAPTOP]
    paths = cache.paths(cell)
    target = paths.solution / "relnotes" / "versions.py"
    target.write_text("# tampered on disk\n")
    again = cache.paths(cell)
    assert content_hash(again.root) == cell.task_hash
    assert "tampered" not in (again.solution / "relnotes" / "versions.py").read_text()

    # without a store to fetch from, a tampered copy is never used
    (again.workdir / "extra.py").write_text("x = 1\n")
    offline = TaskCache(cache.root, cache.local, lambda h: None)
    with pytest.raises(InfraError, match=f"version {short(cell.task_hash)} is not on this host"):
        offline.paths(cell)
    assert not (cache.root / cell.task_hash).exists()


def test_a_missing_or_bad_bundle_fails_the_cell_with_one_line(world) -> None:  # noqa: ANN001
    cells, store, cache = world
    cell = by_task(cells)[LAPTOP]
    unknown = cell.model_copy(update={"task_hash": "a" * 64})
    with pytest.raises(InfraError, match="has no bundle in the result store"):
        cache.paths(unknown)
    # a stored bundle that does not hash to its name (tampered in the store) is refused
    other = by_task(cells)[PY].task_hash
    good = task_bundles.load(store, other)
    assert good is not None
    lying = TaskCache(cache.root, cache.local, lambda h: task_bundles.Bundle(LAPTOP, good.data))
    with pytest.raises(TaskError, match="refusing to run against it"):
        lying.paths(cell)
    assert not (cache.root / cell.task_hash).exists()
    wrong_id = TaskCache(cache.root, cache.local, lambda h: task_bundles.Bundle(PY, b""))
    with pytest.raises(TaskError, match=f"holds {PY}, not {LAPTOP}"):
        wrong_id.paths(cell)
    with pytest.raises(TaskError, match="not a content hash"):
        cache.paths(cell.model_copy(update={"task_hash": "../../etc"}))


def test_concurrent_cells_fetch_a_version_once(world) -> None:  # noqa: ANN001
    cells, _, cache = world
    cell = by_task(cells)[LAPTOP]
    fetched: list[str] = []
    counting = TaskCache(cache.root, cache.local, lambda h: fetched.append(h) or cache.fetch(h))
    start = threading.Barrier(6)
    found: list[Path] = []

    def one() -> None:
        start.wait()
        found.append(counting.paths(cell).root)

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fetched == [cell.task_hash] and len(set(found)) == 1 and len(found) == 6
