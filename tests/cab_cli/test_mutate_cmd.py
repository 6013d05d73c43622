"""`cab tasks mutate` as a user runs it: the dry run lists the seeded order; bad input is one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
CAB = str(Path(sys.executable).parent / "cab")


def cab(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CAB_STORE_URL"}
    env.update({"CAB_HOME": str(home), "CAB_TASKS_DIR": str(REPO / "tasks"), "COLUMNS": "200"})
    return subprocess.run([CAB, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_dry_run_lists_the_same_order_for_the_same_seed(tmp_path: Path) -> None:
    args = ("tasks", "mutate", "polyglot/go-lru-eviction", "--dry-run", "--seed", "3")
    first, again = cab(*args, home=tmp_path), cab(*args, home=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "candidates" in first.stdout and "cache.go" in first.stdout
    assert first.stdout == again.stdout
    other = cab(*args[:-1], "4", home=tmp_path)
    assert other.stdout != first.stdout


def test_operators_filter_and_unknown_operator(tmp_path: Path) -> None:
    only = cab(
        "tasks",
        "mutate",
        "polyglot/js-query-string",
        "--dry-run",
        "--operators",
        "flip-comparison",
        home=tmp_path,
    )
    assert only.returncode == 0, only.stderr
    assert "flip-comparison" in only.stdout and "wrong-constant" not in only.stdout
    bad = cab("tasks", "mutate", "polyglot/js-query-string", "--operators", "nope", home=tmp_path)
    assert bad.returncode != 0 and "unknown mutation operator" in bad.stderr
