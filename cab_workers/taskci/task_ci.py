"""Task CI: everything ``cab tasks validate`` proves about a task, and the record it leaves.

For each task, in order:

1. environment (``task_env``): the Dockerfile's static rules, its apt packages in the base image's
   release, and the task image build; the task's hidden tests then run in that image;
2. tests (``taskcheck``): hidden tests fail on the shipped work dir, pass with the reference every
   one of ``flake_runs`` times, the reference diff equals ``expected_changes``, the ledger holds;
3. pipeline (``pipeline_check``, all tasks in one throwaway sweep): the oracle cell passes and the
   noop cell fails through the real ``cab run`` path.

Each task's outcome is recorded under ``$CAB_HOME/validation`` (``validation_state``) for the task
content it was made for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cab_core.schema import TaskSpec
from cab_core.settings import Settings
from cab_core.task_bundle import content_hash
from cab_scheduler.catalog import TaskCatalog
from cab_workers.composition import host_image_builder
from cab_workers.host.sandbox import Sandbox
from cab_workers.taskci.pipeline_check import PipelineVerdict, check_pipeline
from cab_workers.taskci.task_env import EnvironmentVerdict, check_environment
from cab_workers.taskci.taskcheck import TaskVerdict, check_task
from cab_workers.taskci.validation_state import ValidationLog, ValidationRecord, cab_version, now

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CiOptions:
    """Which checks run (``cab tasks validate`` flags)."""

    exploits: Sequence[str] | None = None
    """Only these ledger entries; None: every applicable one."""
    ledger: bool = True
    flake_runs: int = 5
    """Times the reference's hidden tests run; any failed run is a flake."""
    pipeline: bool = True
    """Run the oracle and noop cells through the real pipeline."""

    def checks(self, environment: bool) -> list[str]:
        names = ["tests", f"flake x{self.flake_runs}"]
        names += ["ledger"] if self.ledger else []
        names += ["pipeline"] if self.pipeline else []
        return names + (["environment"] if environment else [])


@dataclass
class TaskReport:
    """One task's CI outcome."""

    task: TaskSpec
    task_hash: str
    environment: EnvironmentVerdict
    tests: TaskVerdict | None = None
    """None when the environment failed (nothing to run the tests in)."""
    pipeline: PipelineVerdict | None = None
    """None when the pipeline check did not run."""
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.environment.ok
            and self.tests is not None
            and self.tests.ok
            and (self.pipeline is None or self.pipeline.ok)
        )

    @property
    def detail(self) -> str:
        bits = list(self.environment.problems)
        if self.tests is not None and self.tests.detail != "ok":
            bits.append(self.tests.detail)
        if self.pipeline is not None and not self.pipeline.ok:
            bits.append(f"pipeline: {self.pipeline.detail}")
        return "; ".join(bits) or "ok"


def run_task_ci(
    settings: Settings, tasks: Sequence[TaskSpec], options: CiOptions, progress: Progress
) -> list[TaskReport]:
    """Validate ``tasks`` one after the other (then the pipeline sweep over all of them) and record
    each outcome under ``$CAB_HOME/validation``."""
    catalog = TaskCatalog(settings.tasks_dir)
    sandbox = Sandbox()
    builder = host_image_builder(settings, sandbox)
    base = builder.ensure(["base"], progress)[-1].tag
    home = settings.cab_home.ensure()
    reports = []
    for task in tasks:
        t0 = time.monotonic()
        paths = catalog.paths(task.task_id)
        report = TaskReport(task, content_hash(paths.root), EnvironmentVerdict(present=False))
        report.environment = check_environment(task.task_id, paths, sandbox, builder, base, progress=progress)
        if report.environment.ok:
            report.tests = check_task(
                task,
                paths,
                sandbox,
                report.environment.image or base,
                home,
                exploits=options.exploits,
                ledger=options.ledger,
                flake_runs=options.flake_runs,
                progress=progress,
            )
        report.duration_s = time.monotonic() - t0
        reports.append(report)
    if options.pipeline and reports:
        t0 = time.monotonic()
        verdicts = check_pipeline(settings, [r.task.task_id for r in reports], progress=progress)
        share = (time.monotonic() - t0) / len(reports)
        for report in reports:
            report.pipeline = verdicts.get(report.task.task_id)
            report.duration_s += share
    log = ValidationLog(home.root / "validation")
    for report in reports:
        log.save(record_of(report, options))
    return reports


def record_of(report: TaskReport, options: CiOptions) -> ValidationRecord:
    """The validation record of one task's outcome."""
    tests = report.tests
    return ValidationRecord(
        task_id=report.task.task_id,
        task_hash=report.task_hash,
        result="valid" if report.ok else "invalid",
        flake_rate=tests.flake_rate if tests else None,
        flake_runs=tests.solution_runs if tests else 0,
        checks=options.checks(report.environment.present),
        detail=report.detail[:1000],
        duration_s=round(report.duration_s, 2),
        validated_at=now(),
        cab_version=cab_version(),
    )
