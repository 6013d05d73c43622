"""Fixtures for adapter tests: the endpoint's fixture tasks, a running endpoint, a way to run the agent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from cab_core.schema import CellSpec, TaskSpec, make_cell_id
from cab_endpoint import ScriptedEndpoint

REPO = Path(__file__).resolve().parents[3]
AGENT = REPO / "images" / "reference" / "agent.py"
FIXTURE_TASKS = REPO / "tests" / "cab_endpoint" / "fixtures" / "tasks"
GREET = FIXTURE_TASKS / "demo" / "greet"
HOST_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or "python3"
"""The system interpreter, not the venv: proves the agent needs nothing beyond the standard library."""


def tree(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Relative path -> (content, executable) of every file under ``root``."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), os.access(p, os.X_OK))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def solved_tree(task: Path) -> dict[str, tuple[bytes, bool]]:
    files = tree(task / "workdir")
    for line in (task / "solution" / ".cab-delete").read_text().split():
        files.pop(line)
    files.update({k: v for k, v in tree(task / "solution").items() if k != ".cab-delete"})
    return files


@dataclass
class AgentRun:
    stdout: str
    stderr: str
    exit_code: int
    work: Path

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event"] == kind]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[ScriptedEndpoint]:
    with ScriptedEndpoint(FIXTURE_TASKS) as ep:
        yield ep


@pytest.fixture
def run_agent(tmp_path: Path) -> Callable[..., AgentRun]:
    """Run the reference agent as a real process in a fresh copy of the greet work dir."""

    def run(base_url: str, model: str, **env: str) -> AgentRun:
        home = Path(tempfile.mkdtemp(dir=tmp_path))
        work = home / "work"
        shutil.copytree(GREET / "workdir", work)
        prompt = home / "prompt.txt"
        prompt.write_text(yaml.safe_load((GREET / "task.yaml").read_text())["prompt"])
        full_env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),
            "CAB_BASE_URL": base_url,
            "CAB_MODEL": model,
            "CAB_API_KEY": "cab-cell-test",
            "CAB_PROMPT_FILE": str(prompt),
            **env,
        }
        proc = subprocess.run(
            [HOST_PYTHON, str(AGENT)], cwd=work, env=full_env, capture_output=True, text=True, timeout=120
        )
        return AgentRun(proc.stdout, proc.stderr, proc.returncode, work)

    return run


@pytest.fixture
def greet_solved() -> dict[str, tuple[bytes, bool]]:
    return solved_tree(GREET)


@pytest.fixture
def greet_pristine() -> dict[str, tuple[bytes, bool]]:
    return tree(GREET / "workdir")


@pytest.fixture
def tree_of() -> Callable[[Path], dict[str, tuple[bytes, bool]]]:
    return tree


def unit_cell(tui: str, prompt: str = "Fix the sort order.") -> CellSpec:
    """A cell of TUI ``tui`` on a one-line inline task, for adapter unit tests (no task folder)."""
    task = TaskSpec(
        category="demo",
        slug="greet",
        title="t",
        language="python",
        prompt=prompt,
        test_command=["true"],
        test_runner="script",
    )
    cell_id = make_cell_id("s", tui, "scripted/oracle", task.task_id, 1)
    return CellSpec(cell_id=cell_id, sweep_id="s", tui=tui, model="scripted/oracle", task=task)
