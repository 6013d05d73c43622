"""How a cell attempt's failure is classified: infra, agent or scorer (``FailureClass``). Pure.

session_failure      what the proxy's record proves (endpoint faults, no call, handshake): infra
agent_failure        how the agent container ended (limits, OOM, deadline, exit code)
after_tests          what the hidden-test run adds to an attempt that had not failed
classify_exception   a CabError raised by a phase, by its class
internal_error       any other exception: a bug of ours, classified infra
"""

from __future__ import annotations

from cab_core.errors import AgentError, CabError, ImageError, InfraError, ScorerError
from cab_core.schema import CellSpec, Failure, FailureClass
from cab_workers.adapters.base import AgentReport
from cab_workers.cell.ports import SessionRecord
from cab_workers.host.sandbox import ContainerRun
from cab_workers.proxy.upstream_error import CONTEXT_EXCEEDED


def session_failure(seen: SessionRecord, report: AgentReport) -> Failure | None:
    """Failures the proxy's record proves, whatever the TUI's exit code says: infra, but for a prompt
    the model's context cannot hold (the agent's)."""
    if seen.infra_failure:  # upstream faults are infra, never the agent's
        return Failure(failure_class=FailureClass.infra, reason=f"model endpoint: {seen.infra_failure}"[:300])
    if seen.started == 0 and not report.model_calls:
        detail = f": {report.detail}" if report.detail else ""
        return Failure(
            failure_class=FailureClass.infra,
            reason=f"no model call reached the proxy: the TUI ignored its base URL or failed before its "
            f"first call{detail}"[:300],
        )
    answered = [c for c in seen.calls if c.http_status is not None and c.endpoint_path != "/v1/models"]
    if answered and all(400 <= (c.http_status or 0) < 500 and c.http_status != 429 for c in answered):
        first = answered[0]
        if any((c.error or "").startswith(CONTEXT_EXCEEDED) for c in answered):
            # the endpoint and the TUI speak; the TUI's prompt outgrew the model: the agent's failure
            return Failure(
                failure_class=FailureClass.agent,
                reason=f"the prompt exceeds the model's context: HTTP {first.http_status} to "
                f"{first.endpoint_path}, never 2xx ({(first.error or '')[:160]})"[:300],
            )
        why = "a protocol or model the TUI and the endpoint do not share"
        return Failure(
            failure_class=FailureClass.infra,
            reason=f"handshake failure: HTTP {first.http_status} to {first.endpoint_path}, never 2xx ({why})",
        )
    return None


def agent_failure(run: ContainerRun, report: AgentReport, cell: CellSpec) -> Failure:
    """How the agent's container run ended; ``Failure()`` when it ended well."""
    if run.killed_for:  # the sandbox stopped it for breaking a limit: the agent's doing
        return Failure(failure_class=FailureClass.agent, reason=f"agent {run.killed_for}"[:300])
    if report.handshake_failed:
        return Failure(failure_class=FailureClass.infra, reason=f"handshake failure: {report.detail}"[:300])
    if run.oom_killed:
        return Failure(
            failure_class=FailureClass.agent,
            reason=f"agent out of memory ({cell.task.resources.memory_mb} MiB)",
        )
    if run.timed_out:
        return Failure(
            failure_class=FailureClass.agent, reason=f"agent timed out after {cell.task.timeouts.agent_s:g}s"
        )
    if run.exit_code not in (0, None):
        return Failure(
            failure_class=FailureClass.agent,
            reason=f"agent exited {run.exit_code}: {report.detail or run.stderr.strip()[-160:]}"[:300],
        )
    return Failure()


def after_tests(failure: Failure, tests: ContainerRun, cell: CellSpec) -> Failure:
    """The attempt's failure once its hidden tests ran: an earlier failure stands; otherwise tests
    that broke a limit are the agent's (they ran its code) and tests that timed out the scorer's."""
    if failure.failure_class != FailureClass.none:
        return failure
    if tests.killed_for:  # the tests ran the agent's code, and that code broke the limit
        return Failure(
            failure_class=FailureClass.agent, reason=f"the agent's code under test {tests.killed_for}"
        )
    if tests.timed_out:
        return Failure(
            failure_class=FailureClass.scorer,
            reason=f"hidden tests timed out after {cell.task.timeouts.test_s:g}s",
        )
    return failure


def classify_exception(e: CabError) -> Failure:
    """A phase's CabError, classified by its class (any other CabError is infra)."""
    if isinstance(e, ImageError):  # a failed build: its message ends with the build log's tail
        return Failure(failure_class=FailureClass.infra, reason=str(e)[:2000])
    if isinstance(e, InfraError):
        return Failure(failure_class=FailureClass.infra, reason=str(e)[:300])
    if isinstance(e, AgentError):
        return Failure(failure_class=FailureClass.agent, reason=str(e)[:300])
    if isinstance(e, ScorerError):
        return Failure(failure_class=FailureClass.scorer, reason=str(e)[:300])
    return Failure(failure_class=FailureClass.infra, reason=str(e)[:300])


def internal_error(e: Exception) -> Failure:
    """An exception that is not a CabError: a bug of ours, which must still yield a result row."""
    return Failure(failure_class=FailureClass.infra, reason=f"internal error: {type(e).__name__}: {e}"[:300])
