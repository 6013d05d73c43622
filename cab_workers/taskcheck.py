"""Task validation in the real scorer image: the hidden tests must fail on the work dir as shipped,
pass with the reference solution applied, and the reference diff must equal ``expected_changes``."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cab_core.paths import CabHome, TaskPaths
from cab_core.schema import TaskSpec
from cab_scheduler.catalog import changed_paths, materialise
from cab_workers.sandbox import Sandbox
from cab_workers.scorer import run_tests


@dataclass(frozen=True)
class TaskVerdict:
    task_id: str
    fails_before: bool
    passes_after: bool
    diff_matches: bool
    detail: str

    @property
    def ok(self) -> bool:
        return self.fails_before and self.passes_after and self.diff_matches


def check_task(
    task: TaskSpec, paths: TaskPaths, sandbox: Sandbox, scorer_image: str, home: CabHome
) -> TaskVerdict:
    """Run both directions of the task's hidden tests in the scorer image."""
    with tempfile.TemporaryDirectory(prefix="validate-", dir=home.cells) as tmp:
        root = Path(tmp)
        for name, solution, hidden in (
            ("before", False, True),
            ("after", True, True),
            ("plain", False, False),
            ("ref", True, False),
        ):
            materialise(paths, root / name, with_solution=solution, with_hidden_tests=hidden)
        changed = changed_paths(root / "plain", root / "ref")
        runs = {
            label: run_tests(
                task,
                sandbox,
                scorer_image,
                root / label,
                name=f"cab-validate-{task.category}-{task.slug}-{label}",
                labels=sandbox.labels_for(task.task_id, 0, "validate"),
            )
            for label in ("before", "after")
        }
        shutil.rmtree(tmp, ignore_errors=True)
    run_before, run_after = runs["before"], runs["after"]
    diff_ok = changed == set(task.expected_changes)
    details = []
    if run_before.exit_code == 0:
        details.append("hidden tests already pass on the shipped work dir")
    if run_after.exit_code != 0:
        tail = (run_after.stdout + run_after.stderr).strip().splitlines()[-1:] or [""]
        details.append(f"reference fails (exit {run_after.exit_code}): {tail[0][:100]}")
    if not diff_ok:
        details.append(f"reference changes {sorted(changed)} != expected {sorted(task.expected_changes)}")
    return TaskVerdict(
        task.task_id,
        run_before.exit_code not in (0, None) and not run_before.timed_out,
        run_after.exit_code == 0,
        diff_ok,
        "; ".join(details) or "ok",
    )
