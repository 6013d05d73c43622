"""Per runner, a shipped task graded the way cells are graded (``grading.grade``): /work
read-only, the runner's report flags, the canary planted, the report read back. The solution passes
with the canary failed; the shipped work dir does not pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_core.schema import PassRateAxis
from cab_scheduler.catalog import TaskCatalog, materialise
from cab_workers.grading.grade import grade
from cab_workers.host.sandbox import ContainerRun
from cab_workers.taskci.taskcheck import pass_axis

pytestmark = pytest.mark.docker

TASKS = TaskCatalog(Path(__file__).resolve().parents[3] / "tasks")


def graded(
    sandbox, image: str, task_id: str, *, solved: bool, scratch: Path
) -> tuple[ContainerRun, PassRateAxis]:  # noqa: ANN001
    task, paths = TASKS.load(task_id), TASKS.paths(task_id)
    work = materialise(paths, scratch / "work", with_solution=solved, with_hidden_tests=False)
    g = grade(
        task,
        paths,
        work,
        scratch / "score",
        sandbox,
        image,
        name=f"cab-test-runner-{task.slug}-{int(solved)}",
        labels=sandbox.labels_for(f"test/runner-{task.slug}", 1, "scorer"),
    )
    assert g.run.error is None, g.run.error
    return g.run, pass_axis(task, g)


@pytest.mark.parametrize(
    ("task_id", "failure_exit"),
    [
        ("polyglot/python-semver-sort", 1),
        ("polyglot/go-lru-eviction", 1),
        ("polyglot/rust-error-handling", 101),
        ("polyglot/js-query-string", 1),
    ],
)
def test_solution_passes_and_shipped_does_not(
    sandbox,
    images,
    tmp_path: Path,
    no_leftover_containers,
    task_id: str,
    failure_exit: int,  # noqa: ANN001
) -> None:
    run, solved = graded(sandbox, images["base"], task_id, solved=True, scratch=tmp_path / "solved")
    assert solved.passed == 1, (solved.evidence_problems, run.stdout[-2000:], run.stderr[-2000:])
    assert (solved.canary, solved.partial_score, solved.exit_code) == ("failed", 1.0, failure_exit)
    assert solved.tests_total and solved.tests_total >= 4

    run, shipped = graded(sandbox, images["base"], task_id, solved=False, scratch=tmp_path / "shipped")
    assert shipped.passed == 0, run.stdout[-2000:]
    assert shipped.canary == "failed" and shipped.evidence_problems == []
    assert shipped.partial_score is not None and shipped.partial_score < 1
