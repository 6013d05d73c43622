"""Per runner, a shipped task graded the way the scorer grades it: /work read-only, the runner's
report flags, the canary planted, the report read back. The solution passes with the canary failed;
the shipped work dir does not pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cab_scheduler.catalog import TaskCatalog, materialise
from cab_workers.grading import runners
from cab_workers.sandbox import ContainerSpec, Mount
from cab_workers.scorer import REPORT_DIR, SCORER_ENV, SUPPORT_DIR, chown_tree, container_user
from cab_workers.scoring.evidence import declared_tests
from cab_workers.scoring.pass_rate import score_pass_rate

pytestmark = pytest.mark.docker

TASKS = TaskCatalog(Path(__file__).resolve().parents[3] / "tasks")
NONCE = "5eed5eed5eed"


def hidden_texts(task_id: str) -> dict[str, str]:
    root = TASKS.paths(task_id).hidden_tests
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def grade(sandbox, image: str, task_id: str, *, solved: bool, scratch: Path):  # noqa: ANN001, ANN201
    task = TASKS.load(task_id)
    hidden = hidden_texts(task_id)
    work = materialise(TASKS.paths(task_id), scratch / "work", with_solution=solved, with_hidden_tests=True)
    for rel, data in runners.canary_files(task.test_runner, hidden, NONCE).items():
        (work / rel).write_bytes(data)
    inv = runners.invocation(task.test_runner, task.test_command)
    report_dir, support_dir = scratch / "report", scratch / "support"
    report_dir.mkdir()
    support_dir.mkdir()
    for rel, data in inv.support_files.items():
        (support_dir / rel).write_bytes(data)
    for tree in (work, report_dir, support_dir):
        chown_tree(tree)
    if os.geteuid() != 0:
        os.chmod(scratch, 0o755)
    run = sandbox.run(
        ContainerSpec(
            name=f"cab-test-runner-{task.slug}-{int(solved)}-{os.getpid()}",
            image=image,
            argv=inv.argv,
            deadline_s=task.timeouts.test_s,
            env={**SCORER_ENV, **inv.env},
            user=container_user(),
            memory_mb=2048,
            pids=512,
            network=None,
            mounts=(
                Mount(str(work), "/work", read_only=True),
                Mount(str(report_dir), REPORT_DIR),
                Mount(str(support_dir), SUPPORT_DIR, read_only=True),
            ),
            labels=sandbox.labels_for(f"test/runner-{task.slug}", 1, "scorer"),
            read_only_root=True,
            tmpfs=("/tmp",),
            tmpfs_mb=1024,
        )
    )
    assert run.error is None, run.error
    report = runners.collect(
        task.test_runner, run.stdout, run.stderr, report_dir, stdout_truncated=run.truncated
    )
    return run, score_pass_rate(
        exit_code=run.exit_code,
        timed_out=run.timed_out,
        stdout=run.stdout,
        stderr=run.stderr,
        runner=task.test_runner,
        report=report,
        declared=declared_tests(task.test_runner, hidden, task.declared_tests),
        canary=runners.canary_name(NONCE),
    )


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
    run, solved = grade(sandbox, images["base"], task_id, solved=True, scratch=tmp_path / "solved")
    assert solved.passed == 1, (solved.evidence_problems, run.stdout[-2000:], run.stderr[-2000:])
    assert (solved.canary, solved.partial_score, solved.exit_code) == ("failed", 1.0, failure_exit)
    assert solved.tests_total and solved.tests_total >= 4

    run, shipped = grade(sandbox, images["base"], task_id, solved=False, scratch=tmp_path / "shipped")
    assert shipped.passed == 0, run.stdout[-2000:]
    assert shipped.canary == "failed" and shipped.evidence_problems == []
    assert shipped.partial_score is not None and shipped.partial_score < 1
