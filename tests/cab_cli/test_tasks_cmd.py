"""`cab tasks list` and `cab tasks validate` as a user runs them: task CI (flakes, the real
pipeline, environments) and the validation state it leaves under CAB_HOME."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cab_core.task_bundle import content_hash
from cab_workers.taskci.validation_state import ValidationLog, ValidationRecord

REPO = Path(__file__).resolve().parents[2]
CAB = str(Path(sys.executable).parent / "cab")
FLAKY = REPO / "tests" / "fixtures" / "flaky_tasks"


def cab(
    *args: str, home: Path, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "CAB_STORE_URL"}
    full_env.update({"CAB_HOME": str(home), "COLUMNS": "250", **(env or {})})
    return subprocess.run(
        [CAB, *args], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def row(stdout: str, task_id: str) -> str:
    return next(line for line in stdout.splitlines() if task_id in line)


def catalogue_of(tmp_path: Path, slugs: list[str]) -> Path:
    """A tasks dir with copies of the coin-toss fixture under ci/<slug>."""
    root = tmp_path / "tasks"
    for slug in slugs:
        dest = root / "ci" / slug
        shutil.copytree(FLAKY / "ci" / "coin-toss", dest)
        spec = dest / "task.yaml"
        spec.write_text(spec.read_text().replace("slug: coin-toss", f"slug: {slug}"))
    return root


def record(task_id: str, task_hash: str, result: str) -> ValidationRecord:
    return ValidationRecord.model_validate(
        {
            "task_id": task_id,
            "task_hash": task_hash,
            "result": result,
            "validated_at": datetime.now(UTC),
            "cab_version": "0.1.0",
        }
    )


@pytest.mark.unit
def test_list_shows_language_category_runner_environment_and_validation_state(tmp_path: Path) -> None:
    tasks = catalogue_of(tmp_path, ["fresh", "broken", "edited", "untested"])
    home = tmp_path / "home"
    log = ValidationLog(home / "validation")
    log.save(record("ci/fresh", content_hash(tasks / "ci" / "fresh"), "valid"))
    log.save(record("ci/broken", content_hash(tasks / "ci" / "broken"), "invalid"))
    log.save(record("ci/edited", content_hash(tasks / "ci" / "edited"), "valid"))
    (tasks / "ci" / "edited" / "workdir" / "greet.py").write_text("# edited after validation\n")

    done = cab("tasks", "list", home=home, env={"CAB_TASKS_DIR": str(tasks)})

    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[1]
    for column in ("language", "category", "runner", "environment", "validation"):
        assert column in header
    cells = [c.strip() for c in row(done.stdout, "ci/fresh").split("│")[1:-1]]
    assert cells[:6] == ["ci/fresh", "python", "ci", "script", "no", "valid"]
    assert " INVALID " in row(done.stdout, "ci/broken")
    assert " stale " in row(done.stdout, "ci/edited")
    assert " never " in row(done.stdout, "ci/untested")


@pytest.mark.docker
def test_validate_catches_a_flaky_hidden_test(images, tmp_path: Path) -> None:  # noqa: ANN001
    """The fixture's hidden test fails one run in two (os.urandom): 12 runs all passing has odds 1/4096."""
    home = tmp_path / "home"
    done = cab(
        "tasks",
        "validate",
        "--flake",
        "12",
        "--no-ledger",
        "--no-pipeline",
        home=home,
        env={"CAB_TASKS_DIR": str(FLAKY)},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 of 1 tasks failed validation" in done.stderr
    line = row(done.stdout, "ci/coin-toss")
    assert "/12)" in line and "(0/12)" not in line, line  # the flake rate column: failures/runs
    saved = json.loads((home / "validation" / "ci" / "coin-toss.json").read_text())
    assert saved["result"] == "invalid"
    assert saved["flake_runs"] == 12 and saved["flake_rate"] > 0
    assert saved["task_hash"] == content_hash(FLAKY / "ci" / "coin-toss")

    listed = cab("tasks", "list", home=home, env={"CAB_TASKS_DIR": str(FLAKY)})
    assert " INVALID " in row(listed.stdout, "ci/coin-toss")


@pytest.mark.docker
@pytest.mark.slow
def test_validate_runs_oracle_and_noop_through_the_pipeline(images, tmp_path: Path) -> None:  # noqa: ANN001
    home = tmp_path / "home"
    task = "integrity/fake-health-check"
    done = cab("tasks", "validate", task, "--flake", "2", home=home)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "oracle / noop" in done.stdout and "all 1 tasks valid" in done.stdout
    line = row(done.stdout, task)
    assert "0.00 (0/2)" in line and "NO" not in line
    saved = json.loads((home / "validation" / "integrity" / "fake-health-check.json").read_text())
    assert saved["result"] == "valid" and "pipeline" in saved["checks"] and saved["flake_rate"] == 0
    assert not list(home.glob("validate-store-*")), "the throwaway store is removed"
    assert " valid " in row(cab("tasks", "list", home=home).stdout, task)
