"""Phase 2, run or restore: the ``adapter_run`` span, which ends with the agent's outcome.

Run: open the cell's model session, write the adapter's files (``tool_call`` applied_plugins), run
the agent container under the task's limits on its reserved GPUs with its terminal recorded
(``container``), read the adapter's report back and close the session (the proxy's record wins),
classify the run, and checkpoint it unless it failed for infra reasons (those rerun the agent).

Restore: a checkpointed run keeps the classification it was given when it was kept, and its terminal
recording when the attempt that ran it ran on this host.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cab_core.errors import InfraError
from cab_core.paths import CONTAINER_AGENT, CONTAINER_OUT, CONTAINER_WORK, safe_name
from cab_core.schema import FailureClass
from cab_workers.adapters.base import Adapter, AgentLaunch, EndpointWiring
from cab_workers.cell import checkpoint
from cab_workers.cell.failures import agent_failure, session_failure
from cab_workers.cell.hidden_tests import chown_tree, container_user
from cab_workers.cell.ports import HostContext, ModelSession, SessionRecord
from cab_workers.cell.recording import AsciicastWriter
from cab_workers.cell.run_record import AgentOutcome, CellRun, Prepared, Restored
from cab_workers.cell.tracing import OpenSpan
from cab_workers.host.gpus import GpuInfo, device_request_for
from cab_workers.host.sandbox import ContainerRun, ContainerSpec, Mount
from cab_workers.proxy.usage import said


def run_or_restore(run: CellRun, ctx: HostContext, prepared: Prepared) -> AgentOutcome:
    """The agent's outcome: restored from a checkpoint, or from running the agent now."""
    if prepared.restored is not None:
        return _restored(run, ctx, prepared.restored)
    return _run_agent(run, ctx, prepared)


def _restored(run: CellRun, ctx: HostContext, restored: Restored) -> AgentOutcome:
    outcome, cell = restored.outcome, run.cell
    # the restored run's terminal recording, when the attempt that ran it ran on this host
    cast = ctx.home.recordings / f"{safe_name(cell.cell_id, restored.from_attempt)}.cast"
    run.recording = cast if cast.is_file() else None
    with run.tracer.span(
        "adapter_run",
        f"{cell.tui}:{cell.task.task_id}",
        restored_from_attempt=restored.from_attempt,
        exit_code=outcome.run.exit_code,
    ):
        # the classification the agent run got when it was checkpointed (older checkpoints:
        # recomputed; the proxy's record is not in them, so an infra run was never kept)
        run.failure = checkpoint.failure_of(restored.meta) or agent_failure(outcome.run, outcome.report, cell)
    return outcome


def _run_agent(run: CellRun, ctx: HostContext, prepared: Prepared) -> AgentOutcome:
    cell = run.cell
    endpoint = cell.policy.endpoint
    # a local model server starts here on a host's first cell that needs it: its time shows in the trace
    with run.tracer.span("endpoint", endpoint.kind, model=cell.model) as endpoint_span:
        session = run.session = ctx.open_model(cell)
        endpoint_span.attrs["model_build_id"] = session.build_id or cell.model
        if session.context_tokens is not None:
            endpoint_span.attrs["context_tokens"] = session.context_tokens
    wiring = EndpointWiring(session.base_url, session.token, cell.model, session.context_tokens)
    with run.tracer.span(
        "adapter_run", f"{cell.tui}:{cell.task.task_id}", timeout_s=cell.task.timeouts.agent_s
    ) as run_span:
        launch = _apply_plugins(run, prepared.adapter, wiring, run_span)
        chown_tree(run.paths.root)
        container = _run_container(run, ctx, prepared.adapter, launch, wiring, run_span)
        seen = _read_back(run, prepared.adapter, container, session)
        outcome = AgentOutcome(run=container, report=run.report, exchanges=run.exchanges)
        run_span.attrs["exit_code"] = container.exit_code
        run_span.attrs["calls_reached_proxy"] = seen.started
        run.failure = session_failure(seen, run.report) or agent_failure(container, run.report, cell)
        # an infra failure is retried by rerunning the agent (the endpoint may be back):
        # only a run that stands is kept for a redelivery to rescore
        if ctx.checkpoints is not None and run.failure.failure_class != FailureClass.infra:
            run_span.attrs["checkpointed"] = ctx.checkpoints.save(
                cell.cell_id,
                run.attempt,
                checkpoint.meta(prepared.baseline, outcome, run.failure),
                checkpoint.pack(run.paths.work),
            )
    return outcome


def _apply_plugins(run: CellRun, adapter: Adapter, wiring: EndpointWiring, parent: OpenSpan) -> AgentLaunch:
    """Write the prompt and the adapter's config files where the agent container mounts them."""
    cell = run.cell
    with run.tracer.span("tool_call", "applied_plugins", parent=parent, tui=cell.tui) as s:
        launch = adapter.launch(cell, wiring, run.image)
        files = {"prompt.txt": cell.task.prompt, **launch.files}
        for rel, content in files.items():
            target = run.paths.agent / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        s.attrs.update(env_keys=sorted(launch.env), config_files=sorted(files), argv=launch.argv)
    return launch


def _run_container(
    run: CellRun,
    ctx: HostContext,
    adapter: Adapter,
    launch: AgentLaunch,
    wiring: EndpointWiring,
    parent: OpenSpan,
) -> ContainerRun:
    """The agent container's run, on the cell's GPUs, its terminal recorded as asciicast."""
    cell = run.cell
    recording = run.recording = ctx.home.recordings / f"{safe_name(cell.cell_id, run.attempt)}.cast"
    with (
        run.tracer.span(
            "container",
            f"{cell.tui}-run:{cell.task.task_id}",
            parent=parent,
            image=run.image,
            model=cell.model,
            base_url=wiring.base_url,
        ) as s,
        AsciicastWriter(recording, title=cell.cell_id) as cast,
    ):
        with _gpus(ctx, cell.task.resources.gpus) as gpus:
            s.attrs["gpus"] = [g.uuid for g in gpus]
            container = run.agent_run = ctx.sandbox.run(
                _agent_spec(run, ctx, adapter, launch, gpus), sink=cast.event
            )
        s.attrs.update(_container_attrs(container))
    return container


def _container_attrs(c: ContainerRun) -> dict[str, Any]:
    return {
        "exit_code": c.exit_code,
        "timed_out": c.timed_out,
        "duration_s": round(c.active_ms / 1000, 3),
        "image_digest": c.image_id,
        "oom_killed": c.oom_killed,
        "output_bytes": c.output_bytes,
        "killed_for": c.killed_for,
        "started_at": c.started_at.isoformat() if c.started_at else None,
    }


def _read_back(
    run: CellRun, adapter: Adapter, container: ContainerRun, session: ModelSession
) -> SessionRecord:
    """Read the adapter's report, then close the model session: the proxy saw every call, so its
    record wins over the agent's own; a report without the model's words gets them from its answers."""
    run.report = adapter.report(container.stdout, container.stderr, container.exit_code, run.paths.out)
    seen = session.close()
    run.exchanges = seen.exchanges
    if seen.calls:
        run.report = dataclasses.replace(run.report, model_calls=seen.calls)
    if not run.report.transcript and run.exchanges:
        words = (t for e in run.exchanges if (t := said(e.response_body, e.content_type)))
        run.report = dataclasses.replace(run.report, transcript="\n\n".join(words))
    return seen


@contextmanager
def _gpus(ctx: HostContext, wanted: int) -> Iterator[list[GpuInfo]]:
    """Reserve ``wanted`` of this host's GPUs for the agent container (one cell per GPU)."""
    if wanted == 0:
        yield []
        return
    slots = ctx.gpu_slots
    if slots is None:
        raise InfraError(f"the cell needs {wanted} GPU(s) and this host has no free one")
    taken: list[GpuInfo] = []
    try:
        for _ in range(wanted):
            gpu = slots.acquire()
            if gpu is None:
                raise InfraError(f"the cell needs {wanted} GPU(s) and this host has no free one")
            taken.append(gpu)
        yield taken
    finally:
        for gpu in taken:
            slots.release(gpu)


def _agent_spec(
    run: CellRun, ctx: HostContext, adapter: Adapter, launch: AgentLaunch, gpus: list[GpuInfo]
) -> ContainerSpec:
    cell, paths, res = run.cell, run.paths, run.cell.task.resources
    return ContainerSpec(
        name=f"cab-{safe_name(cell.cell_id, run.attempt)}"[:200],
        image=launch.image,
        argv=launch.argv,
        deadline_s=cell.task.timeouts.agent_s,
        env=launch.env,
        user=container_user(),
        cpus=res.cpus,
        memory_mb=res.memory_mb,
        pids=res.pids,
        network=ctx.network,
        mounts=(
            Mount(str(paths.work), CONTAINER_WORK),
            Mount(str(paths.agent), CONTAINER_AGENT, True),
            Mount(str(paths.out), CONTAINER_OUT),
        ),
        labels=ctx.sandbox.labels_for(cell.cell_id, run.attempt, "agent"),
        device_requests=tuple(device_request_for(g) for g in gpus),
        read_only_root=adapter.read_only_root,
        tmpfs=adapter.scratch_dirs,
        tmpfs_mb=res.tmpfs_mb,
        disk_limit_mb=res.disk_mb,
        watch_dirs=(str(paths.work), str(paths.out)),
        output_limit_bytes=res.output_mb << 20,
    )
