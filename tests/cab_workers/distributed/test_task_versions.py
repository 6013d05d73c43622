"""Tasks travel with the sweep, by content: a task that exists only on the submitting side runs on a
worker whose tasks folder lacks it, and editing one task and resubmitting reruns only its cells.

Real Redis, a real `cab dispatcher` and `cab worker` (Celery) process, real containers, PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cab_core.schema import CellResult
from cab_core.task_bundle import content_hash, short
from tests.cab_workers.distributed.conftest import CAB, REPO, Cluster, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

PY = "polyglot/python-semver-sort"
LAPTOP = "polyglot/python-semver-sort-laptop"


def laptop_tasks(root: Path) -> Path:
    """The submitter's tasks: PY, and LAPTOP (a copy under another slug) that no worker has."""
    shutil.copytree(REPO / "tasks" / PY, root / PY)
    shutil.copytree(REPO / "tasks" / PY, root / LAPTOP)
    spec = root / LAPTOP / "task.yaml"
    spec.write_text(spec.read_text().replace("slug: python-semver-sort", "slug: python-semver-sort-laptop"))
    return root


def submit_from(c: Cluster, tasks: Path, sweep: Path) -> subprocess.CompletedProcess:
    """`cab submit` on the laptop: its own CAB_TASKS_DIR and CAB_HOME."""
    env = {**c.env, "CAB_TASKS_DIR": str(tasks), "CAB_HOME": str(c.root / "home-laptop")}
    return subprocess.run(
        [CAB, "submit", str(sweep)], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_task_only_the_submitter_has_runs_on_the_worker_and_a_changed_task_reruns_alone(
    cluster_factory,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    laptop = laptop_tasks(tmp_path / "laptop-tasks")
    worker_tasks = tmp_path / "worker-tasks"
    shutil.copytree(REPO / "tasks" / PY, worker_tasks / PY)  # the worker lacks LAPTOP
    c = cluster_factory(CAB_TASKS_DIR=str(worker_tasks))
    c.dispatcher()
    c.worker("w1", "cpu", slots=2)
    sweep = tmp_path / "tv.yaml"
    sweep.write_text(
        "sweep_id: tv\ntuis: [reference]\nmodels: [scripted/oracle, scripted/noop]\n"
        f"tasks: [{PY}, {LAPTOP}]\ntimeouts: {{agent_s: 60, test_s: 120, setup_s: 30}}\n"
    )
    submitted = submit_from(c, laptop, sweep)
    assert submitted.returncode == 0, submitted.stdout + submitted.stderr

    first = c.wait_final("tv", 4)
    v1 = content_hash(laptop / LAPTOP)
    for r in first.values():
        assert r.identity.task_hash == content_hash(laptop / r.identity.task_id), r.identity
        assert r.failure.failure_class.value == "none", (r.identity.cell_id, r.failure, c.log("w1"))
        oracle = r.identity.model == "scripted/oracle"
        assert r.axes is not None and r.axes.pass_rate.passed == int(oracle), r.identity.cell_id
    assert (c.root / "home-w1" / "task-cache" / v1 / LAPTOP / "task.yaml").is_file()

    # edit the laptop-only task and submit the same sweep again: only its two cells run again
    notes = laptop / LAPTOP / "workdir" / "NOTES.md"
    notes.write_text("Release notes are generated from tags.\n")
    v2 = content_hash(laptop / LAPTOP)
    again = submit_from(c, laptop, sweep)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 cells of changed tasks rerun (polyglot/python-semver-sort-laptop)" in again.stdout, again.stdout

    def rerun() -> dict[str, CellResult] | None:
        latest = c.results("tv")
        done = {k: r for k, r in latest.items() if r.identity.task_id == LAPTOP and r.identity.attempt > 1}
        return latest if len(done) == 2 and all(r.is_final for r in done.values()) else None

    latest = wait_for(rerun, 240, "the changed task's cells to run again")
    assert isinstance(latest, dict)
    for cell_id, r in latest.items():
        if r.identity.task_id == LAPTOP:
            assert r.identity.task_hash == v2 and r.identity.attempt == first[cell_id].identity.attempt + 1
            assert r.identity.model != "scripted/oracle" or (r.axes and r.axes.pass_rate.passed == 1)
            assert c.store.get(cell_id, first[cell_id].identity.attempt).identity.task_hash == v1  # type: ignore[union-attr]
        else:
            assert r == first[cell_id], "the unchanged task's cells are left as they are"

    status = c.cab("status", "tv")
    assert status.returncode == 0 and "4/4" in status.stdout and "mixed" not in status.stdout, status.stdout

    # a cell whose latest result ran the earlier version: `cab status` and `cab results` say so
    noop = next(
        r for r in latest.values() if r.identity.task_id == LAPTOP and r.identity.model == "scripted/noop"
    )
    old = noop.model_copy(
        update={
            "identity": noop.identity.model_copy(
                update={"attempt": noop.identity.attempt + 1, "task_hash": v1}
            )
        }
    )
    c.store.upsert_result(old)
    for command in ("status", "results"):
        shown = c.cab(command, "tv")
        assert shown.returncode == 0, shown.stderr
        text = " ".join(shown.stdout.split())
        assert f"mixed task versions: {LAPTOP} ran as" in text, shown.stdout
        assert f"{short(v1)} (1 cell)" in text and f"{short(v2)} (1 cell)" in text, shown.stdout
