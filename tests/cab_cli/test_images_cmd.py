"""`cab images build --tasks` and `cab images list` as a user runs them (real Docker)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
CAB = str(Path(sys.executable).parent / "cab")
FIXTURES = REPO / "tests" / "fixtures" / "env_tasks"


def cab(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAB_")}
    env.update({"CAB_HOME": str(home), "CAB_TASKS_DIR": str(FIXTURES), "COLUMNS": "240"})
    return subprocess.run([CAB, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)


def test_build_tasks_prebuilds_each_task_image_and_each_tui_on_it(images, tmp_path: Path) -> None:  # noqa: ANN001
    done = cab("images", "build", "--tasks", "envs/*", "reference", home=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 tasks selected, 1 with an environment; TUIs on each: reference" in done.stdout
    ok = [line.split() for line in done.stdout.splitlines() if line.startswith("ok ")]
    names = [row[1] for row in ok]
    assert names == ["base", "task-envs.jq-order-totals", "reference"], done.stdout
    task_tag, tui_tag = ok[1][2], ok[2][2]
    assert task_tag.startswith("cab/task-envs.jq-order-totals:") and tui_tag.startswith("cab/reference:")
    assert tui_tag != images["reference"], "the TUI on the task image, not on the shared base"

    again = cab("images", "build", "--tasks", "envs/jq-order-totals", "reference", home=tmp_path)
    assert again.returncode == 0, again.stderr
    assert [line.split()[-1] for line in again.stdout.splitlines() if line.startswith("ok ")] == [
        "cached"
    ] * 3

    listed = cab("images", "list", home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "task-envs.jq-order-totals" in line)
    assert task_tag in row and "true" in row and "--tasks" in row


def test_build_tasks_refuses_an_unknown_tui_before_building(tmp_path: Path) -> None:
    done = cab("images", "build", "--tasks", "envs/*", "no-such-tui", home=tmp_path)
    assert done.returncode != 0 and "no image named 'no-such-tui'" in done.stdout + done.stderr
