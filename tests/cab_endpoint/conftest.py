"""Fixtures for the scripted endpoint tests: a tiny task catalog and a running endpoint."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cab_endpoint import ScriptedEndpoint

FIXTURE_TASKS = Path(__file__).parent / "fixtures" / "tasks"
collect_ignore_glob = ["fixtures/*"]  # the fixture tasks carry their own test_*.py files


def tree(root: Path) -> dict[str, tuple[bytes, bool]]:
    """Relative path -> (content, executable) of every file under ``root``."""
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), os.access(p, os.X_OK))
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def solved_tree(task: Path) -> dict[str, tuple[bytes, bool]]:
    """What the work dir looks like once the reference solution is applied."""
    files = tree(task / "workdir")
    delete = task / "solution" / ".cab-delete"
    for line in delete.read_text().split() if delete.exists() else []:
        files.pop(line)
    files.update({k: v for k, v in tree(task / "solution").items() if k != ".cab-delete"})
    return files


def run_bash(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=30)


@pytest.fixture
def fixture_tasks() -> Path:
    return FIXTURE_TASKS


@pytest.fixture
def greet_task() -> Path:
    return FIXTURE_TASKS / "demo" / "greet"


@pytest.fixture
def greet_workdir(tmp_path: Path, greet_task: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(greet_task / "workdir", work)
    return work


@pytest.fixture(scope="module")
def endpoint() -> Iterator[ScriptedEndpoint]:
    with ScriptedEndpoint(FIXTURE_TASKS) as ep:
        yield ep


@pytest.fixture
def tree_of() -> Callable[[Path], dict[str, tuple[bytes, bool]]]:
    return tree


@pytest.fixture
def greet_solved(greet_task: Path) -> dict[str, tuple[bytes, bool]]:
    return solved_tree(greet_task)


@pytest.fixture
def bash() -> Callable[[str, Path], subprocess.CompletedProcess[str]]:
    return run_bash
