"""Grade one work dir: build the graded tree, run the runner in the scorer container, collect its
structured report. Shared by the cell pipeline and ``cab tasks validate`` so both grade alike::

    scratch/
    ├── graded/      the tree the scorer sees at /work (read-only): see ``harness``
    ├── report/      /cab-report: the runner's structured report, read after the container exits
    └── support/     /cab-harness: cab's own files for the run (read-only), when the runner needs some

The canary's nonce is drawn here, at grading time, so nothing the agent did can know it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cab_core.errors import TaskError
from cab_core.paths import TaskPaths
from cab_core.schema import TaskSpec
from cab_workers.cell.hidden_tests import REPORT_DIR, run_tests
from cab_workers.grading import runners
from cab_workers.grading.harness import HarnessReport, build_graded_tree
from cab_workers.grading.tree import Entry, read_tree
from cab_workers.host.sandbox import ContainerRun, Sandbox
from cab_workers.scoring.evidence import DeclaredTest, declared_tests
from cab_workers.scoring.reports import RunnerReport


@dataclass(frozen=True)
class Grading:
    """What grading one work dir produced: the inputs of ``score_pass_rate`` and integrity."""

    run: ContainerRun
    harness: HarnessReport
    report: RunnerReport | None
    declared: tuple[DeclaredTest, ...]
    canary: str | None
    hidden_paths: tuple[str, ...]


def hidden_texts(task_paths: TaskPaths, hidden: Mapping[str, Entry]) -> dict[str, str]:
    """The task's hidden test files (``hidden``, read from its folder) as text, by their path in
    the work dir (read whole: the canary is appended to some of them, so the text must be exact)."""
    out = {}
    for rel, entry in sorted(hidden.items()):
        data = entry.read(limit=1 << 30) if entry.kind == "file" else None
        try:
            out[rel] = data.decode("utf-8") if data is not None else ""
        except UnicodeDecodeError as e:
            raise TaskError(f"{task_paths.hidden_tests / rel}: hidden test files must be UTF-8 text") from e
    return out


def grade(
    task: TaskSpec,
    task_paths: TaskPaths,
    work: Path,
    scratch: Path,
    sandbox: Sandbox,
    image: str,
    *,
    name: str,
    labels: dict[str, str],
) -> Grading:
    """Grade ``work`` (the agent's final tree, or a materialised one) under ``scratch`` (must not exist)."""
    hidden_tree = read_tree(task_paths.hidden_tests)
    hidden = hidden_texts(task_paths, hidden_tree)
    nonce = secrets.token_hex(6)
    canary = runners.canary_files(task.test_runner, hidden, nonce)
    scratch.mkdir(parents=True)
    harness = build_graded_tree(
        task,
        pristine_root=task_paths.workdir,
        agent_root=work,
        hidden=hidden_tree,
        dest=scratch / "graded",
        extra=canary,
    )
    report_dir = scratch / "report"
    report_dir.mkdir()
    inv = runners.invocation(task.test_runner, list(task.test_command), REPORT_DIR)
    support_dir = None
    if inv.support_files:
        support_dir = scratch / "support"
        for rel, data in inv.support_files.items():
            (support_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (support_dir / rel).write_bytes(data)
    run = run_tests(
        task,
        sandbox,
        image,
        scratch / "graded",
        name=name,
        labels=labels,
        argv=inv.argv,
        env=inv.env,
        report_dir=report_dir,
        support_dir=support_dir,
    )
    report = runners.collect(
        task.test_runner, run.stdout, run.stderr, report_dir, stdout_truncated=run.truncated
    )
    return Grading(
        run=run,
        harness=harness,
        report=report,
        declared=tuple(declared_tests(task.test_runner, hidden, task.declared_tests)),
        canary=runners.canary_name(nonce) if canary else None,
        hidden_paths=tuple(hidden),
    )
