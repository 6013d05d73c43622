"""Every real TUI in its pinned image, offline, against the scripted endpoint through the proxy.

Per TUI: the oracle passes a Rust and a Python task with every call's tokens recorded and a blast
radius of 0 (the TUI's own state files listed, not counted); the noop cell fails; an endpoint that
answers 404 ends as a handshake failure (infra); and a TUI sent to an internet address instead of
the proxy fails within its deadline as infra, saying no call reached the proxy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from cab_core.schema import CellResult, CellSpec, FailureClass, Timeouts, TokenSource, make_cell_id
from cab_scheduler.catalog import TaskCatalog
from cab_workers.adapters import ADAPTERS
from cab_workers.cell.pipeline import HostContext, ModelSession, run_cell
from cab_workers.composition import LocalHost
from cab_workers.host.images import ImageBuilder
from cab_workers.scoring.diff import path_matches

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
RUST, PYTHON = "polyglot/rust-lifetime-fix", "polyglot/python-semver-sort"
TUIS = sorted(name for name in ADAPTERS if name != "reference")
STARTUP_S = {"openhands": 240.0}
"""Agent budgets above the default for TUIs that start slowly (OpenHands' local runtime)."""
UNROUTABLE = "http://203.0.113.10/v1"
"""TEST-NET-3: an internet address; the egress lock refuses it at once."""


@pytest.fixture(scope="module", params=TUIS)
def tui(request: pytest.FixtureRequest, local_host: LocalHost) -> Iterator[tuple[str, HostContext]]:
    """One TUI's name and a host context whose agent image is built (cached between runs)."""
    name = request.param
    assert local_host.ctx is not None
    local_host.agent_image(ADAPTERS[name].image_name)
    yield name, local_host.ctx


def cell(tui: str, model: str, task_id: str) -> CellSpec:
    task = TaskCatalog(REPO / "tasks").load(task_id)
    budget = STARTUP_S.get(tui, 180.0)
    task = task.model_copy(update={"timeouts": Timeouts(agent_s=budget, test_s=180, setup_s=60)})
    return CellSpec(
        cell_id=make_cell_id("tuis", tui, model, task_id, 1), sweep_id="tuis", tui=tui, model=model, task=task
    )


def run(ctx: HostContext, c: CellSpec) -> CellResult:
    result = run_cell(c, ctx)
    assert result.axes is not None, f"{c.cell_id} was not scored: {result.failure.reason}"
    return result


def why(r: CellResult) -> str:
    return f"{r.failure.failure_class.value}: {r.failure.reason}\n--- agent output ---\n{r.agent_output_tail}"


@pytest.mark.parametrize("task_id", [RUST, PYTHON])
def test_oracle_passes_with_every_call_recorded_and_no_blast(
    tui: tuple[str, HostContext], task_id: str, no_leftover_containers: None
) -> None:
    name, ctx = tui
    r = run(ctx, cell(name, "scripted/oracle", task_id))
    assert r.failure.failure_class == FailureClass.none, why(r)
    axes = r.axes
    assert axes is not None and axes.pass_rate.passed == 1, why(r)
    tokens = axes.tokens
    assert tokens.source == TokenSource.proxy and tokens.total_tokens and tokens.prompt_tokens
    answered = [c for c in r.model_calls if c.endpoint_path != "/v1/models"]
    assert answered and all(c.prompt_tokens and c.completion_tokens for c in answered)
    assert axes.blast_radius.blast_radius == 0, axes.blast_radius
    assert not axes.blast_radius.unexpected_changes
    assert all(path_matches(f, list(ADAPTERS[name].state_globs)) for f in axes.blast_radius.tui_state_files)
    assert r.identity.image_digest and r.identity.container_image.startswith(
        f"cab/{ADAPTERS[name].image_name}:"
    )
    pinned = ImageBuilder(ctx.sandbox, REPO / "images").version(ADAPTERS[name].image_name)
    assert pinned and r.identity.tui_version == pinned  # the Dockerfile's pin, read back from the image


def test_noop_fails(tui: tuple[str, HostContext]) -> None:
    name, ctx = tui
    r = run(ctx, cell(name, "scripted/noop", PYTHON))
    assert r.axes is not None and r.axes.pass_rate.passed == 0
    assert r.failure.failure_class != FailureClass.infra, why(r)
    assert r.model_calls and r.axes.tokens.source == TokenSource.proxy


def test_a_protocol_the_tui_cannot_use_is_a_handshake_failure(tui: tuple[str, HostContext]) -> None:
    name, ctx = tui
    r = run(ctx, cell(name, "scripted/badproto", PYTHON))
    assert r.failure.failure_class == FailureClass.infra, why(r)
    assert "handshake failure" in r.failure.reason and "404" in r.failure.reason


def test_a_tui_sent_to_the_internet_fails_within_its_deadline_as_infra(tui: tuple[str, HostContext]) -> None:
    name, ctx = tui
    proxy_session = ctx.open_model

    def internet(c: CellSpec) -> ModelSession:
        """The proxy's session and token, but the TUI is wired to an internet address instead."""
        real = proxy_session(c)
        return ModelSession(UNROUTABLE, real.token, real.close)

    c = cell(name, "scripted/oracle", PYTHON)
    c = c.model_copy(update={"task": c.task.model_copy(update={"timeouts": Timeouts(agent_s=90, test_s=60)})})
    r = run(dataclasses.replace(ctx, open_model=internet), c)
    assert r.failure.failure_class == FailureClass.infra, why(r)
    assert "no model call reached the proxy" in r.failure.reason
    container = next(s for s in r.spans if s.kind == "container")
    assert container.duration_ms < (90 + 15) * 1000  # bounded by its deadline: no silent hang
