"""The scripted endpoint serves the exact task version a request names (``x-cab-task-hash``), from a
host's task versions, and never another version's solution."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path

import httpx
import pytest

from cab_core.task_bundle import content_hash
from cab_endpoint import ScriptedEndpoint
from cab_endpoint.behaviours import UNMATCHED_TEXT
from cab_endpoint.task_index import TASK_HASH_HEADER, TaskRoots
from tests.cab_endpoint.conftest import FIXTURE_TASKS
from tests.cab_endpoint.test_app import request

pytestmark = pytest.mark.unit


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, str]:
    """A versions root holding one edited version of demo/greet (its solution says something else)."""
    task = FIXTURE_TASKS / "demo" / "greet"
    staged = tmp_path / "staged" / "demo" / "greet"
    shutil.copytree(task, staged)
    (staged / "solution" / "greet.py").write_text('def greet(name):\n    return f"Hi there, {name}!"\n')
    digest = content_hash(staged)
    root = tmp_path / "versions"
    shutil.copytree(tmp_path / "staged", root / digest)
    return root, digest


def oracle_command(ep: ScriptedEndpoint, headers: dict[str, str]) -> str:
    body = httpx.post(
        f"{ep.url}/chat/completions", json=request("scripted/oracle"), headers=headers, timeout=10
    )
    message = body.json()["choices"][0]["message"]
    if "tool_calls" not in message:
        return str(message["content"])
    command = str(json.loads(message["tool_calls"][0]["function"]["arguments"])["command"])
    # the plan writes files as base64: decode them to read what it writes
    return command + "".join(
        base64.b64decode(m).decode() for m in re.findall(r"printf '%s' (\S+) \| base64 -d", command)
    )


def test_a_request_naming_a_version_gets_that_versions_solution(versions: tuple[Path, str]) -> None:
    root, digest = versions
    with ScriptedEndpoint(FIXTURE_TASKS, versions_root=root) as ep:
        assert "Hi there" in oracle_command(ep, {TASK_HASH_HEADER: digest})
        default = oracle_command(ep, {})
        assert "Hello" in default and "Hi there" not in default
        assert "Hello" in oracle_command(ep, {TASK_HASH_HEADER: ""}), "empty: the tasks folder"
        # a version this endpoint does not hold: no task at all, never another version's solution
        assert oracle_command(ep, {TASK_HASH_HEADER: "b" * 64}) == UNMATCHED_TEXT
        assert oracle_command(ep, {TASK_HASH_HEADER: "../../etc"}) == UNMATCHED_TEXT


def test_an_endpoint_without_versions_serves_none(versions: tuple[Path, str]) -> None:
    _, digest = versions
    roots = TaskRoots(FIXTURE_TASKS)
    assert roots.catalog(None) is roots.default and roots.catalog("") is roots.default
    assert roots.catalog(digest).tasks() == []
