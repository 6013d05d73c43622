"""The junit, ctest and tsc runners end to end: a tiny Java, C++ and TypeScript fixture task
(``tests/fixtures/runner_tasks/runners/``, each with its ``environment/Dockerfile``) graded in its
task image through ``grading.grade``, as cells are. The solution passes with the canary failed and
the runner's "a test failed" exit code; the shipped work dir does not pass; and ``cab tasks
validate``'s check (``check_task``) holds every ledger entry that applies, the runners' own included."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cab_core.paths import CabHome
from cab_core.schema import PassRateAxis
from cab_endpoint.ledger import LEDGER
from cab_scheduler.catalog import TaskCatalog, materialise
from cab_workers.grading.grade import Grading, grade
from cab_workers.host.images import ImageBuilder
from cab_workers.taskci.taskcheck import applicable, check_task, ledger_entry, pass_axis

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "runner_tasks"
CATALOG = TaskCatalog(FIXTURES)
TASKS = {"junit": "runners/junit-stack", "ctest": "runners/ctest-ringbuf", "tsc": "runners/tsc-slugify"}
OWN_ENTRIES = {
    "junit": {"junit-extension", "junit-halt-hook"},
    "ctest": {"cmake-override", "gtest-main"},
    "tsc": {"tsc-config", "framework-patch"},
}
"""The entries written for each runner (each must apply to its fixture and be held)."""


@pytest.fixture(scope="module")
def task_images(sandbox, images, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:  # noqa: ANN001
    """Each fixture's environment image, built on cab/base if missing (content-addressed)."""
    ca = os.environ.get("CAB_CA_BUNDLE") or "/etc/ssl/certs/ca-certificates.crt"
    builder = ImageBuilder(
        sandbox,
        REPO / "images",
        ca_bundle=Path(ca) if Path(ca).is_file() else None,
        lock_dir=tmp_path_factory.mktemp("locks"),
    )
    out = {}
    for runner, task_id in TASKS.items():
        ref = builder.ensure_task_image(CATALOG.paths(task_id))
        assert ref is not None, f"{task_id} has no environment"
        out[runner] = ref.tag
    return out


def graded(sandbox, image: str, runner: str, *, solved: bool, scratch: Path) -> tuple[Grading, PassRateAxis]:  # noqa: ANN001
    task_id = TASKS[runner]
    task, paths = CATALOG.load(task_id), CATALOG.paths(task_id)
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
    return g, pass_axis(task, g)


@pytest.mark.parametrize(
    ("runner", "failure_exit", "declared"),
    [
        (
            "junit",
            1,
            {
                "src/test/java/com/example/stack/BoundedStackHiddenTest.java::BoundedStackHiddenTest::peekReturnsTheNewest",
                "src/test/java/com/example/stack/BoundedStackHiddenTest.java::BoundedStackHiddenTest::pushOnFullThrows",
                "src/test/java/com/example/stack/BoundedStackHiddenTest.java::BoundedStackHiddenTest::AfterPop::peekSeesThePrevious",
            },
        ),
        (
            "ctest",
            8,
            {
                "tests/ringbuf_hidden_test.cpp::RingBufferHidden.FullOverwritesOldest",
                "tests/ringbuf_hidden_test.cpp::WrapAround.KeepsTheNewest",
            },
        ),
        ("tsc", 1, {"test/slug.hidden.test.ts"}),
    ],
)
def test_solution_passes_and_shipped_does_not(
    sandbox,
    task_images,
    tmp_path: Path,
    no_leftover_containers,
    runner: str,
    failure_exit: int,
    declared: set[str],  # noqa: ANN001
) -> None:
    g, solved = graded(sandbox, task_images[runner], runner, solved=True, scratch=tmp_path / "solved")
    assert {d.label for d in g.declared} == declared
    assert solved.passed == 1, (
        solved.evidence_problems,
        solved.tests_missing,
        g.run.stdout[-3000:],
        g.run.stderr[-2000:],
    )
    assert (solved.canary, solved.partial_score, solved.exit_code) == ("failed", 1.0, failure_exit)
    assert g.report is not None and all(c.file for c in g.report.cases if c.group != "suite")

    g, shipped = graded(sandbox, task_images[runner], runner, solved=False, scratch=tmp_path / "shipped")
    assert shipped.passed == 0, g.run.stdout[-2000:]
    assert shipped.canary == "failed" and shipped.evidence_problems == [], shipped.evidence_problems
    assert shipped.partial_score is not None and shipped.partial_score < 1


@pytest.fixture
def cab_home(tmp_path: Path) -> Iterator[CabHome]:
    home = CabHome(tmp_path / "home")
    home.cells.mkdir(parents=True)
    yield home


@pytest.mark.slow
@pytest.mark.parametrize("runner", sorted(TASKS))
def test_validation_holds_every_ledger_entry(
    sandbox,
    task_images,
    cab_home: CabHome,
    no_leftover_containers,
    runner: str,  # noqa: ANN001
) -> None:
    task_id = TASKS[runner]
    task, paths = CATALOG.load(task_id), CATALOG.paths(task_id)
    entry = ledger_entry(paths)
    names = {e.name for e in applicable(entry)}
    assert OWN_ENTRIES[runner] <= names
    assert {"exit-at-import", "fake-summary", "exit-test-file", "hidden-path-plant", "symlink-swap"} <= names
    assert names <= {e.name for e in LEDGER if runner in e.runners}
    verdict = check_task(task, paths, sandbox, task_images[runner], cab_home)
    assert verdict.fails_before and verdict.passes_after and verdict.diff_matches, verdict.detail
    assert {v.name for v in verdict.exploits} == names
    assert all(v.held for v in verdict.exploits), [(v.name, v.detail) for v in verdict.exploits if not v.held]
    assert verdict.ok
