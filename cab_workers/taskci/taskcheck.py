"""Task validation in the real scorer image, graded exactly as cells are (``grading.grade``):

* the hidden tests fail on the work dir as shipped (pass 0) and pass with the reference solution,
  every one of ``flake_runs`` times (the reference is graded that often; any failed run is a flake);
* the reference diff equals ``expected_changes``;
* every entry of the exploit ledger that applies to the task (``endpoint.ledger``), applied to the
  shipped work dir as the agent would, scores pass 0.

Each run materialises its work dir under ``CAB_HOME/cells`` and is removed afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cab_core.paths import CabHome, TaskPaths
from cab_core.schema import PassRateAxis, TaskSpec
from cab_endpoint.ledger import LEDGER, Exploit, apply_plan
from cab_endpoint.task_index import TaskCatalog, TaskEntry
from cab_scheduler.catalog import changed_paths, materialise
from cab_workers.grading.grade import Grading, grade
from cab_workers.host.sandbox import Sandbox
from cab_workers.scoring.pass_rate import score_pass_rate


@dataclass(frozen=True)
class ExploitVerdict:
    """One ledger entry against one task."""

    name: str
    passed: int
    tampered: tuple[str, ...]
    detail: str

    @property
    def held(self) -> bool:
        """The defence held: the forged work dir did not pass."""
        return self.passed == 0


@dataclass(frozen=True)
class TaskVerdict:
    task_id: str
    fails_before: bool
    passes_after: bool
    diff_matches: bool
    detail: str
    exploits: tuple[ExploitVerdict, ...] = field(default_factory=tuple)
    solution_runs: int = 1
    """How many times the reference was graded."""
    solution_failures: int = 0
    """How many of those runs did not pass."""

    @property
    def flake_rate(self) -> float:
        """Failed runs of the reference / runs (0.0: it passed every time)."""
        return self.solution_failures / self.solution_runs if self.solution_runs else 0.0

    @property
    def ok(self) -> bool:
        return (
            self.fails_before
            and self.passes_after
            and self.solution_failures == 0
            and self.diff_matches
            and all(e.held for e in self.exploits)
        )


def pass_axis(task: TaskSpec, g: Grading) -> PassRateAxis:
    """The pass-rate axis of one grading (what a cell would record)."""
    return score_pass_rate(
        exit_code=g.run.exit_code,
        timed_out=g.run.timed_out,
        stdout=g.run.stdout,
        stderr=g.run.stderr,
        runner=task.test_runner,
        report=g.report,
        declared=g.declared,
        canary=g.canary,
    )


def ledger_entry(paths: TaskPaths) -> TaskEntry | None:
    """The scripted endpoint's view of a task folder (what the ledger's plans read)."""
    tasks_root = paths.root.parent.parent
    wanted = f"{paths.root.parent.name}/{paths.root.name}"
    return next((t for t in TaskCatalog(tasks_root).tasks() if t.task_id == wanted), None)


def applicable(entry: TaskEntry | None, names: Sequence[str] | None = None) -> list[Exploit]:
    """The ledger entries that apply to a task (optionally only those named)."""
    if entry is None:
        return []
    return [e for e in LEDGER if (names is None or e.name in names) and e.applies(entry)]


def _why(axis: PassRateAxis) -> str:
    bits = [*axis.evidence_problems, *(f"missing {t}" for t in axis.tests_missing[:3])]
    bits += [f"failed {t}" for t in axis.tests_failed[:3]]
    if axis.timed_out:
        bits.append("timed out")
    return "; ".join(bits)[:200] or f"exit {axis.exit_code}"


def check_task(
    task: TaskSpec,
    paths: TaskPaths,
    sandbox: Sandbox,
    scorer_image: str,
    home: CabHome,
    *,
    exploits: Sequence[str] | None = None,
    ledger: bool = True,
    flake_runs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> TaskVerdict:
    """Grade the shipped work dir, the reference (``flake_runs`` times), and (with ``ledger``) every
    applicable exploit."""
    entry = ledger_entry(paths) if ledger else None
    with tempfile.TemporaryDirectory(prefix="validate-", dir=home.cells) as tmp:
        graded = _Grader(task, paths, sandbox, scorer_image, Path(tmp), progress or (lambda _: None))
        plain = materialise(paths, graded.root / "plain", with_solution=False, with_hidden_tests=False)
        ref = materialise(paths, graded.root / "ref", with_solution=True, with_hidden_tests=False)
        changed = changed_paths(plain, ref)
        before, _ = graded("before", plain)
        after, _ = graded("after", ref)
        reruns = [graded(f"after-{n}", ref)[0] for n in range(2, max(1, flake_runs) + 1)]
        verdicts = []
        if entry is not None:
            verdicts = [_forged(graded, entry, exploit) for exploit in applicable(entry, exploits)]
        shutil.rmtree(tmp, ignore_errors=True)
    return _verdict(task, before, [after, *reruns], changed, verdicts)


@dataclass(frozen=True)
class _Grader:
    """Grades work dirs of one task under ``root``, as cells are graded."""

    task: TaskSpec
    paths: TaskPaths
    sandbox: Sandbox
    scorer_image: str
    root: Path
    say: Callable[[str], None]

    def __call__(self, label: str, work: Path) -> tuple[PassRateAxis, Grading]:
        task = self.task
        self.say(f"{task.task_id}: {label}")
        g = grade(
            task,
            self.paths,
            work,
            self.root / f"score-{label}",
            self.sandbox,
            self.scorer_image,
            name=f"cab-validate-{task.category}-{task.slug}-{label}",
            labels=self.sandbox.labels_for(task.task_id, 0, "validate"),
        )
        return pass_axis(task, g), g


def _forged(graded: _Grader, entry: TaskEntry, exploit: Exploit) -> ExploitVerdict:
    """Apply one ledger entry to the shipped work dir, as the agent would, and grade it."""
    label = f"forge-{exploit.name}"
    work = materialise(graded.paths, graded.root / label, with_solution=False, with_hidden_tests=False)
    apply_plan(exploit.plan(entry), work)
    axis, g = graded(label, work)
    return ExploitVerdict(exploit.name, axis.passed, g.harness.tampered, _why(axis))


def _verdict(
    task: TaskSpec,
    before: PassRateAxis,
    runs: list[PassRateAxis],
    changed: set[str],
    verdicts: list[ExploitVerdict],
) -> TaskVerdict:
    after = runs[0]
    failed = [r for r in runs if r.passed != 1]
    diff_ok = changed == set(task.expected_changes)
    details = []
    if before.passed:
        details.append("hidden tests already pass on the shipped work dir")
    if not after.passed:
        details.append(f"reference does not pass: {_why(after)}")
    elif failed:
        details.append(f"flaky: the reference failed {len(failed)} of {len(runs)} runs: {_why(failed[0])}")
    if not diff_ok:
        details.append(f"reference changes {sorted(changed)} != expected {sorted(task.expected_changes)}")
    details += [f"exploit {v.name} PASSES" for v in verdicts if not v.held]
    return TaskVerdict(
        task.task_id,
        before.passed == 0 and not before.timed_out,
        after.passed == 1,
        diff_ok,
        "; ".join(details) or "ok",
        tuple(verdicts),
        solution_runs=len(runs),
        solution_failures=len(failed),
    )
