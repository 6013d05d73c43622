"""The pipeline's pure pieces, each alone: failure classification, the checkpoint's round trip, and the
result ``finish`` builds from a record that a phase left half-filled."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

from cab_core.errors import AgentError, CabError, InfraError, ScorerError, StoreError, TaskError
from cab_core.paths import CabHome
from cab_core.schema import (
    CellSpec,
    Exchange,
    Failure,
    FailureClass,
    ModelCall,
    TaskSpec,
    Timeouts,
    make_cell_id,
)
from cab_workers.adapters.base import AgentReport
from cab_workers.cell import checkpoint
from cab_workers.cell.failures import (
    after_tests,
    agent_failure,
    classify_exception,
    internal_error,
    session_failure,
)
from cab_workers.cell.phase_finish import cell_result
from cab_workers.cell.ports import SessionRecord
from cab_workers.cell.run_record import AgentOutcome, Baseline, CellRun
from cab_workers.host.sandbox import ContainerRun

pytestmark = pytest.mark.unit

TASK = TaskSpec(
    category="polyglot",
    slug="python-semver-sort",
    title="t",
    language="python",
    prompt="sort versions",
    test_command=["pytest"],
    test_runner="pytest",
    expected_changes=["semver.py"],
    timeouts=Timeouts(agent_s=30, test_s=20),
)
CELL = CellSpec(
    cell_id=make_cell_id("s", "reference", "m", TASK.task_id, 1),
    sweep_id="s",
    tui="reference",
    model="m",
    task=TASK,
)
NO_REPORT = AgentReport(model_calls=[], transcript="")


BASE_RUN = ContainerRun(
    exit_code=0,
    timed_out=False,
    oom_killed=False,
    stdout="out",
    stderr="err",
    output_bytes=6,
    truncated=False,
    started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    finished_at=datetime(2026, 1, 2, 3, 4, 9, tzinfo=UTC),
    active_ms=4000.0,
    image_id="sha256:abc",
)


def container(**changes: Any) -> ContainerRun:
    return dataclasses.replace(BASE_RUN, **changes)


def call(status: int | None, path: str = "/v1/chat/completions") -> ModelCall:
    return ModelCall(
        seq=0,
        timestamp=datetime(2026, 1, 2, tzinfo=UTC),
        request_hash="0" * 64,
        http_status=status,
        endpoint_path=path,
    )


@pytest.mark.parametrize(
    ("seen", "report", "want"),
    [
        (SessionRecord([], [], "upstream 503 after 3 tries", 1), NO_REPORT, "model endpoint: upstream 503"),
        (SessionRecord([], [], None, 0), NO_REPORT, "no model call reached the proxy"),
        (SessionRecord([call(401)], [], None, 1), NO_REPORT, "handshake failure: HTTP 401 to /v1/chat"),
        (SessionRecord([call(429)], [], None, 1), NO_REPORT, None),  # rate limited: not a handshake
        (SessionRecord([call(404, "/v1/models"), call(200)], [], None, 2), NO_REPORT, None),
        (SessionRecord([], [], None, 0), AgentReport(model_calls=[call(200)], transcript=""), None),
    ],
)
def test_session_failures_are_infra(seen: SessionRecord, report: AgentReport, want: str | None) -> None:
    got = session_failure(seen, report)
    if want is None:
        assert got is None
    else:
        assert got is not None and got.failure_class == FailureClass.infra and got.reason.startswith(want)


@pytest.mark.parametrize(
    ("run", "report", "klass", "reason"),
    [
        (
            container(killed_for="flooded its output"),
            NO_REPORT,
            FailureClass.agent,
            "agent flooded its output",
        ),
        (
            container(),
            AgentReport([], "", handshake_failed=True, detail="bad proto"),
            FailureClass.infra,
            "handshake",
        ),
        (container(oom_killed=True), NO_REPORT, FailureClass.agent, "agent out of memory"),
        (container(timed_out=True), NO_REPORT, FailureClass.agent, "agent timed out after 30s"),
        (container(exit_code=2, stderr="boom\n"), NO_REPORT, FailureClass.agent, "agent exited 2: boom"),
        (container(exit_code=None), NO_REPORT, FailureClass.none, ""),
        (container(), NO_REPORT, FailureClass.none, ""),
    ],
)
def test_agent_failure_by_how_the_container_ended(
    run: ContainerRun, report: AgentReport, klass: FailureClass, reason: str
) -> None:
    got = agent_failure(run, report, CELL)
    assert got.failure_class == klass and got.reason.startswith(reason)


def test_the_test_run_amends_only_an_attempt_that_had_not_failed() -> None:
    clean = Failure()
    assert (
        after_tests(clean, container(killed_for="filled its disk"), CELL).failure_class == FailureClass.agent
    )
    timed_out = after_tests(clean, container(timed_out=True), CELL)
    assert (
        timed_out.failure_class == FailureClass.scorer
        and timed_out.reason == "hidden tests timed out after 20s"
    )
    assert after_tests(clean, container(exit_code=1), CELL) == clean
    earlier = Failure(failure_class=FailureClass.agent, reason="agent timed out after 30s")
    assert after_tests(earlier, container(timed_out=True), CELL) is earlier


@pytest.mark.parametrize(
    ("error", "klass"),
    [
        (InfraError("x"), FailureClass.infra),
        (AgentError("x"), FailureClass.agent),
        (ScorerError("x"), FailureClass.scorer),
        (StoreError("x"), FailureClass.infra),
        (TaskError("x"), FailureClass.infra),  # a CabError of no failure class
        (CabError("x"), FailureClass.infra),
    ],
)
def test_cab_errors_are_classified_by_class(error: CabError, klass: FailureClass) -> None:
    assert classify_exception(error) == Failure(failure_class=klass, reason="x")


def test_a_bug_of_ours_is_infra_and_named() -> None:
    got = internal_error(KeyError("k"))
    assert got.failure_class == FailureClass.infra and got.reason == "internal error: KeyError: 'k'"


def test_a_checkpoint_brings_back_the_baseline_the_run_and_its_class(tmp_path: Path) -> None:
    exchange = Exchange(
        seq=0,
        request_hash="1" * 64,
        endpoint_path="/v1/chat/completions",
        http_status=200,
        response_body=b"{}",
    )
    outcome = AgentOutcome(
        run=container(exit_code=3), report=AgentReport([call(200)], "done", detail="d"), exchanges=[exchange]
    )
    baseline = Baseline(files={"a.py": "0" * 64}, git_dirs=["vendor/x/.git"])
    failure = Failure(failure_class=FailureClass.agent, reason="agent exited 3: d")
    meta = checkpoint.meta(baseline, outcome, failure)
    assert checkpoint.restore(meta) == outcome
    assert checkpoint.baseline_of(meta) == baseline
    assert checkpoint.failure_of(meta) == failure
    assert checkpoint.failure_of(checkpoint.meta(baseline, outcome)) is None  # written before it was kept

    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "a.py").write_text("print(1)\n")
    checkpoint.unpack(checkpoint.pack(tmp_path / "work"), tmp_path / "back")
    assert (tmp_path / "back" / "a.py").read_text() == "print(1)\n"


def begin(tmp_path: Path) -> CellRun:
    return CellRun.begin(CELL, CabHome(tmp_path), 2, structlog.get_logger("test"))


def test_a_run_that_failed_before_its_agent_still_makes_a_whole_result(tmp_path: Path) -> None:
    run = begin(tmp_path)
    run.image = "cab/reference:1"
    run.failure = Failure(failure_class=FailureClass.infra, reason="image missing")
    with run.tracer.span("task_setup", "prepare"):
        pass
    r = cell_result(run, "host-a")
    assert r.identity.attempt == 2 and r.identity.container_image == "cab/reference:1"
    assert r.identity.exit_code is None and r.identity.host == "host-a"
    assert r.failure == run.failure and r.axes is None and r.model_calls == [] and r.recording_path is None
    assert [s.kind for s in r.spans] == ["task_setup"]
    assert r.agent_output_tail == "" and r.timing.duration_s >= 0 and r.timing.started_at == run.started_at


def test_a_restored_run_is_adopted_whole(tmp_path: Path) -> None:
    run = begin(tmp_path)
    outcome = AgentOutcome(
        run=container(stdout="x" * 5000, stderr="!"), report=AgentReport([call(200)], "t"), exchanges=[]
    )
    run.adopt(outcome)
    r = cell_result(run, "")
    assert r.identity.exit_code == 0 and r.model_calls == outcome.report.model_calls
    assert r.agent_output_tail == ("x" * 5000 + "!")[-4000:]


def test_a_prompt_the_model_cannot_hold_is_the_agents_failure_not_a_handshake() -> None:
    """llama-server answers a too-long first prompt 400 exceed_context_size_error: the TUI and the server
    speak, the conversation outgrew the model (before, a handshake failure: infra, rerun forever)."""
    over = call(400).model_copy(
        update={"error": "context_exceeded (400 exceed_context_size_error): request (40509 tokens) exceeds"}
    )
    got = session_failure(SessionRecord([over, over], [], None, 2), NO_REPORT)
    assert got is not None and got.failure_class == FailureClass.agent
    assert got.reason.startswith("the prompt exceeds the model's context: HTTP 400")
    plain = call(400).model_copy(update={"error": "bad_request (400): unknown field"})
    handshake = session_failure(SessionRecord([plain], [], None, 1), NO_REPORT)
    assert handshake is not None and handshake.failure_class == FailureClass.infra
