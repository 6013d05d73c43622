"""Hostile agents are contained, scored and classified, and the host keeps working afterwards.

Each case is the reference agent driven by a ``scripted/hostile-*`` model (``endpoint/hostile.py``)
on a host set up like ``cab run``'s, against a keyed endpoint whose key the agent hunts for.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cab_core.paths import safe_name
from cab_core.schema import (
    CellResult,
    CellSpec,
    FailureClass,
    RemoteEndpointSpec,
    Resources,
    SweepPolicy,
    Timeouts,
    make_cell_id,
)
from cab_core.store import ResultStore
from cab_endpoint import ScriptedEndpoint
from cab_endpoint.hostile import ESCAPE_TARGETS
from cab_scheduler.catalog import TaskCatalog
from cab_workers.cell.pipeline import run_cell
from cab_workers.composition import LocalHost

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
TASK = "polyglot/python-semver-sort"
KEY = "sk-hostile-test-" + "9f3a" * 8
KEY_ENV = "CAB_TEST_HOSTILE_KEY"


@pytest.fixture(scope="module")
def keyed_endpoint() -> Iterator[str]:
    with pytest.MonkeyPatch.context() as mp, ScriptedEndpoint(REPO / "tasks", api_key=KEY) as ep:
        mp.setenv(KEY_ENV, KEY)
        yield ep.url


@pytest.fixture(scope="module")
def store(local_host: LocalHost) -> Iterator[ResultStore]:
    s = ResultStore(local_host.settings.resolved_store_url)
    s.create_schema()
    yield s
    s.close()


def hostile_cell(kind: str, endpoint: str, **resources: int) -> CellSpec:
    model = f"scripted/hostile-{kind}" if kind != "oracle" else "scripted/oracle"
    task = TaskCatalog(REPO / "tasks").load(TASK)
    task = task.model_copy(
        update={
            "timeouts": Timeouts(agent_s=30, test_s=60, setup_s=60),
            "resources": Resources(**{"memory_mb": 512, "disk_mb": 256, **resources}),
        }
    )
    return CellSpec(
        cell_id=make_cell_id("hostile", "reference", model, TASK, 1),
        sweep_id="hostile",
        tui="reference",
        model=model,
        task=task,
        policy=SweepPolicy(endpoint=RemoteEndpointSpec(url=endpoint, api_key_env=KEY_ENV)),
    )


def run(local_host: LocalHost, store: ResultStore, c: CellSpec, *, keep: bool = False) -> CellResult:
    assert local_host.ctx is not None
    ctx = dataclasses.replace(local_host.ctx, keep_workdirs=keep)
    result = run_cell(c, ctx, sink=store.upsert_result)
    assert result.axes is not None, f"not scored: {result.failure.reason}"
    return result


def tool_outputs(store: ResultStore, r: CellResult) -> str:
    """Every tool result the agent sent back to the model (the requests after the first)."""
    texts = []
    for ex in store.exchanges(r.identity.cell_id, r.identity.attempt):
        for m in json.loads(ex.request_body).get("messages", []):
            if m.get("role") == "tool":
                texts.append(m["content"])
    return "\n".join(texts)


@pytest.mark.parametrize(
    ("kind", "failure_class", "reason"),
    [
        ("forkbomb", FailureClass.agent, "timed out"),
        ("memhog", FailureClass.agent, "out of memory"),
        ("flood", FailureClass.agent, "flooded its output"),
        ("diskfill", FailureClass.agent, "disk quota"),
        ("escape", FailureClass.none, ""),
        ("keyhunt", FailureClass.none, ""),
    ],
)
def test_hostile_agent_is_contained_scored_and_classified(
    no_leftover_containers: None,
    local_host: LocalHost,
    keyed_endpoint: str,
    store: ResultStore,
    kind: str,
    failure_class: FailureClass,
    reason: str,
) -> None:
    r = run(local_host, store, hostile_cell(kind, keyed_endpoint), keep=kind == "keyhunt")
    assert r.failure.failure_class == failure_class, r.failure.reason
    assert reason in r.failure.reason
    assert r.axes is not None and r.axes.pass_rate.passed == 0
    container = next(s for s in r.spans if s.kind == "container")
    if kind == "flood":
        assert container.attrs["output_bytes"] > 256 << 20
        assert len(r.agent_output_tail) <= 4000 and r.recording_path
        assert Path(r.recording_path).stat().st_size < 16 << 20  # the recording keeps a capped head
    if kind == "diskfill":
        assert "fill.bin" in r.axes.blast_radius.added
    if kind == "escape":
        said = tool_outputs(store, r)
        assert "links made" in said
        for target in ESCAPE_TARGETS:
            assert f"DENIED {target}" in said and f"WROTE {target}" not in said
    if kind == "keyhunt":
        kept = local_host.settings.cab_home.cells / safe_name(r.identity.cell_id, r.identity.attempt)
        loot = (kept / "work" / "LOOT.txt").read_text(errors="replace")
        shutil.rmtree(kept)
        assert "## files" in tool_outputs(store, r) and "## sockets" in loot
        assert "cab-cell-" in loot  # it looked everywhere, and found only its own per-cell token
        assert KEY not in loot and KEY not in r.agent_output_tail and KEY not in r.model_dump_json()
        assert all(
            KEY.encode() not in ex.request_body + ex.response_body
            for ex in store.exchanges(r.identity.cell_id, r.identity.attempt)
        )
        home = local_host.settings.cab_home.root
        leaks = [p for p in home.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
        assert leaks == [], f"the endpoint key leaked into {leaks}"


def test_the_host_is_healthy_after_the_hostile_agents(
    no_leftover_containers: None, local_host: LocalHost, keyed_endpoint: str, store: ResultStore
) -> None:
    proxy, net = local_host.proxy, local_host.network
    assert proxy is not None and net is not None
    assert httpx.get(f"http://{net.gateway}:{proxy.port}/health", timeout=5).json()["open_cells"] == 0
    r = run(local_host, store, hostile_cell("oracle", keyed_endpoint))
    assert r.failure.failure_class == FailureClass.none, r.failure.reason
    assert r.axes is not None and r.axes.pass_rate.passed == 1
    cells = local_host.settings.cab_home.cells
    assert list(cells.iterdir()) == [], "scratch folders (the 8 GiB disk filler included) are removed"
    assert os.statvfs(str(cells)).f_bavail > 0
