"""The kill check of the mutation generator, and the task folders it writes.

A mutant is the source task's work dir with its reference solution applied and one mutation on
top. It is graded in the real scorer image exactly as cells are (``grading.grade``, as
``cab tasks validate`` does) and kept only when the hidden tests kill it: pass 0, not by a timeout,
with at least one declared test reported as failed (a mutant that does not build reports no test
and is ``broken``, not killed; its task would be a compile error, not a bug). The original must
pass first, or no mutant is checked. Each check's work dir lives under ``CAB_HOME/cells`` and is
removed afterwards.

``cab_workers.taskci.mutanttasks`` writes the killed ones as task folders.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cab_core.errors import TaskError
from cab_core.paths import CabHome, TaskPaths
from cab_core.schema import PassRateAxis, TaskSpec
from cab_scheduler.catalog import changed_paths, materialise
from cab_scheduler.mutation import FailingTest, Mutant, is_test_path, language_of
from cab_workers.grading.grade import grade
from cab_workers.host.sandbox import Sandbox
from cab_workers.taskci.failure_messages import failure_messages, message_for
from cab_workers.taskci.taskcheck import pass_axis

__all__ = ["MutantVerdict", "Outcome", "check_mutants", "mutable_sources"]

Outcome = Literal["killed", "survived", "broken"]


@dataclass(frozen=True)
class MutantVerdict:
    """One mutant against the hidden tests."""

    mutant: Mutant
    outcome: Outcome
    failing: tuple[FailingTest, ...] = ()
    """The declared tests that failed, with what they printed (killed mutants only)."""
    detail: str = ""


@dataclass
class _Checker:
    """Grades work dirs of one source task under ``root``."""

    task: TaskSpec
    paths: TaskPaths
    sandbox: Sandbox
    image: str
    root: Path
    serial: list[int] = field(default_factory=lambda: [0])

    def grade(self, label: str, work: Path) -> tuple[PassRateAxis, dict[str, str]]:
        self.serial[0] += 1
        scratch = self.root / f"score-{label}"
        g = grade(
            self.task,
            self.paths,
            work,
            scratch,
            self.sandbox,
            self.image,
            name=f"cab-mutate-{self.task.slug}-{label}-{self.serial[0]}",
            labels=self.sandbox.labels_for(self.task.task_id, 0, "mutate"),
        )
        xml = {
            p.name: p.read_bytes()[: 8 << 20]
            for p in sorted((scratch / "report").rglob("*.xml"))
            if p.is_file() and not p.is_symlink()
        }
        messages = failure_messages(self.task.test_runner, g.run.stdout, xml)
        shutil.rmtree(scratch, ignore_errors=True)
        return pass_axis(self.task, g), messages

    def original(self) -> PassRateAxis:
        work = materialise(self.paths, self.root / "original", with_solution=True, with_hidden_tests=False)
        axis, _ = self.grade("original", work)
        shutil.rmtree(work, ignore_errors=True)
        return axis

    def mutant(self, mutant: Mutant) -> MutantVerdict:
        work = materialise(
            self.paths, self.root / f"m{mutant.rank}", with_solution=True, with_hidden_tests=False
        )
        (work / mutant.path).write_bytes(mutant.mutated)
        axis, messages = self.grade(f"m{mutant.rank}", work)
        shutil.rmtree(work, ignore_errors=True)
        if axis.passed:
            return MutantVerdict(mutant, "survived", detail="hidden tests pass")
        if axis.timed_out or not axis.tests_failed:
            why = "timed out" if axis.timed_out else "; ".join(axis.evidence_problems[:2]) or "no test failed"
            return MutantVerdict(mutant, "broken", detail=why[:200])
        failing = tuple(FailingTest(name, message_for(messages, name)) for name in sorted(axis.tests_failed))
        return MutantVerdict(mutant, "killed", failing, f"{len(failing)} test(s) fail")


def mutable_sources(task: TaskSpec, paths: TaskPaths, home: CabHome) -> dict[str, bytes]:
    """The files to mutate, as they read with the reference solution applied: those the solution
    adds or changes, in a language the generator parses, that are neither tests, hidden tests nor
    protected paths."""
    hidden = {p.relative_to(paths.hidden_tests).as_posix() for p in paths.hidden_tests.rglob("*")}
    with tempfile.TemporaryDirectory(prefix="mutate-src-", dir=home.cells) as tmp:
        plain = materialise(paths, Path(tmp) / "plain", with_solution=False, with_hidden_tests=False)
        ref = materialise(paths, Path(tmp) / "ref", with_solution=True, with_hidden_tests=False)
        return {
            rel: (ref / rel).read_bytes()
            for rel in sorted(changed_paths(plain, ref))
            if (ref / rel).is_file()
            and not (ref / rel).is_symlink()
            and language_of(rel, task.language) is not None
            and not is_test_path(rel)
            and rel not in hidden
            and rel not in task.protected_paths
        }


def check_mutants(
    task: TaskSpec,
    paths: TaskPaths,
    mutants: Sequence[Mutant],
    sandbox: Sandbox,
    image: str,
    home: CabHome,
    *,
    want: int,
    max_checks: int,
    per_operator: int | None = None,
    on_verdict: Callable[[MutantVerdict], None] = lambda _: None,
) -> list[MutantVerdict]:
    """Grade ``mutants`` in order until ``want`` are killed or ``max_checks`` were graded; with
    ``per_operator``, mutants of an operator that already has that many kills are passed over.

    Raises TaskError when the source's reference solution does not pass its hidden tests.
    """
    with tempfile.TemporaryDirectory(prefix="mutate-", dir=home.cells) as tmp:
        checker = _Checker(task, paths, sandbox, image, Path(tmp))
        original = checker.original()
        if not original.passed:
            why = ", ".join(original.evidence_problems[:2]) or "see cab tasks validate"
            raise TaskError(
                f"{task.task_id}: the reference solution does not pass its hidden tests ({why}); "
                "nothing to mutate"
            )
        verdicts: list[MutantVerdict] = []
        for mutant in mutants:
            kills = sum(v.outcome == "killed" and v.mutant.operator == mutant.operator for v in verdicts)
            if per_operator is not None and kills >= per_operator:
                continue
            if len(verdicts) >= max_checks:
                break
            verdict = checker.mutant(mutant)
            verdicts.append(verdict)
            on_verdict(verdict)
            if sum(v.outcome == "killed" for v in verdicts) >= want:
                break
    return verdicts
