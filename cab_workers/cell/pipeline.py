"""The cell pipeline: one attempt of one cell, from task files to a stored CellResult.

Phases, each a span (kinds as on the seed pages)::

    task_setup      materialise /work, git-snapshot it, hash it, write /cab files
    applied_plugins (tool_call) what the adapter wired in: env names, config files
    adapter_run     the agent's run, parent of:
      container       the agent container (limits, deadline, recording)
    scoring         hash /work again, diff, build the graded tree (the task's harness, the hidden
                    tests, a canary), run it in a fresh scorer container, score axes
    cleanup         remove the cell's scratch folder

The pipeline never raises: every failure becomes data (``Failure``) and the result is handed to
``sink`` in a ``finally``. Used by the local executor and by Celery workers alike.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog

from cab_core.errors import AgentError, CabError, InfraError, SandboxError, ScorerError
from cab_core.paths import (
    CONTAINER_AGENT,
    CONTAINER_OUT,
    CONTAINER_WORK,
    CabHome,
    CellPaths,
    TaskPaths,
    safe_name,
)
from cab_core.pricing import PriceTable
from cab_core.schema import (
    Axes,
    CellResult,
    CellSpec,
    Digests,
    Exchange,
    Failure,
    FailureClass,
    ModelCall,
    Timing,
    TokenSource,
)
from cab_workers import scoring
from cab_workers.adapters import get_adapter
from cab_workers.adapters.base import Adapter, AgentLaunch, AgentReport, EndpointWiring
from cab_workers.cell import checkpoint
from cab_workers.cell.checkpoint import CheckpointPort
from cab_workers.cell.hidden_tests import chown_tree, container_user
from cab_workers.cell.recording import AsciicastWriter
from cab_workers.cell.snapshot import diff, git_snapshot, manifest, read_texts, without_ignored
from cab_workers.cell.tracing import Tracer
from cab_workers.grading.grade import Grading, grade
from cab_workers.host.gpus import GpuInfo, GpuSlots, device_request_for
from cab_workers.host.sandbox import ContainerRun, ContainerSpec, Mount, Sandbox
from cab_workers.proxy.usage import said

log = structlog.get_logger(__name__)

TUI_VERSION_LABEL = "cab.tui.version"
"""Image label holding the TUI's pinned version (``LABEL`` in ``images/<tui>/Dockerfile``)."""


@dataclass(frozen=True)
class SessionRecord:
    """What the recording proxy saw of one cell's model access."""

    calls: list[ModelCall]
    exchanges: list[Exchange]
    infra_failure: str | None
    """Set when the endpoint failed the agent (retries spent, replay miss): the cell is infra."""
    started: int = 0
    """Calls that reached the proxy, answered or not (0: the TUI never called its base URL)."""


class ModelSession:
    """One cell's access to its model while the agent runs: a base URL and a per-cell token that
    only the host's recording proxy accepts. ``close`` revokes the token (idempotent) and returns
    what the proxy recorded."""

    def __init__(self, base_url: str, token: str, close: Callable[[], SessionRecord]) -> None:
        self.base_url, self.token = base_url, token
        self._close = close
        self._closed: SessionRecord | None = None

    def close(self) -> SessionRecord:
        if self._closed is None:
            self._closed = self._close()
        return self._closed


@dataclass(frozen=True)
class HostContext:
    """What a worker host provides to every cell it runs."""

    home: CabHome
    sandbox: Sandbox
    task_root: Callable[[str], TaskPaths]
    """task_id -> its folder."""
    agent_image: Callable[[str], str]
    """adapter image name -> built tag."""
    scorer_image: str
    open_model: Callable[[CellSpec], ModelSession]
    """Opens this cell's access to its model (the recording proxy) for the agent's run."""
    network: str | None
    """Docker network agent containers join (internal: only the endpoint is reachable)."""
    host: str = ""
    keep_workdirs: bool = False
    gpu_slots: GpuSlots | None = None
    """This host's GPUs, one cell per GPU; None on CPU-only hosts."""
    checkpoints: CheckpointPort | None = None
    """Where the agent's finished state is kept until the cell is stored (distributed mode)."""
    prices: PriceTable | None = None
    """Prices the cell's model calls (``TokensAxis.cost_usd``); None records every cost as unknown."""


def _sha256(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)


def run_cell(
    cell: CellSpec,
    ctx: HostContext,
    *,
    attempt: int = 1,
    sink: Callable[[CellResult], bool | None] | None = None,
) -> CellResult:
    """Run one attempt of ``cell``; returns (and hands to ``sink``) its result, whatever happens.

    A checkpoint of the agent's work is dropped once the result is scored and stored; a ``sink`` that
    returns False (it discarded the result: a lost lease) keeps it for the next delivery."""
    bound = log.bind(cell_id=cell.cell_id, sweep_id=cell.sweep_id, attempt=attempt)
    started = datetime.now(UTC)
    t0 = time.monotonic()
    tracer = Tracer()
    paths = CellPaths(ctx.home.cells / safe_name(cell.cell_id, attempt))
    failure = Failure()
    axes: Axes | None = None
    agent_run: ContainerRun | None = None
    report = AgentReport(model_calls=[], transcript="")
    exchanges: list[Exchange] = []
    image, image_id, version = "", None, None
    recording: Path | None = None
    grade_json = ""
    restored = None
    session: ModelSession | None = None
    try:
        adapter = get_adapter(cell.tui)
        image = ctx.agent_image(adapter.image_name)
        image_id = ctx.sandbox.image_id(image)
        version = ctx.sandbox.image_label(image, TUI_VERSION_LABEL)
        task_paths = ctx.task_root(cell.task.task_id)
        bound.info("cell_started", image=image)

        with tracer.span(
            "task_setup",
            f"prepare:{cell.task.task_id}",
            workdir=str(paths.work),
            task_category=cell.task.category,
        ) as s:
            if paths.root.exists():
                shutil.rmtree(paths.root)
            for p in (paths.work, paths.agent, paths.out):
                p.mkdir(parents=True)
            restored = ctx.checkpoints.load(cell.cell_id) if ctx.checkpoints else None
            if restored is not None:  # the agent already ran in an earlier delivery: rescore only
                checkpoint.unpack(restored[2], paths.work)
                before, before_git, agent_run, report, exchanges = checkpoint.restore(restored[1])
                s.attrs["restored_from_attempt"] = restored[0]
            else:
                _copy_tree(task_paths.workdir, paths.work)
                git_snapshot(paths.work)
                before, before_git = manifest(paths.work)
            s.attrs["files"] = len(before)
            setup_s = time.monotonic() - t0
            if setup_s > cell.task.timeouts.setup_s:
                raise InfraError(
                    f"task setup took {setup_s:.1f}s, over its {cell.task.timeouts.setup_s:g}s budget"
                )

        if restored is not None:
            with tracer.span(
                "adapter_run",
                f"{cell.tui}:{cell.task.task_id}",
                restored_from_attempt=restored[0],
                exit_code=agent_run.exit_code,  # type: ignore[union-attr]
            ):
                # the classification the agent run got when it was checkpointed (older checkpoints:
                # recomputed; the proxy's record is not in them, so an infra run was never kept)
                failure = checkpoint.failure_of(restored[1]) or _agent_failure(
                    agent_run,  # type: ignore[arg-type]
                    report,  # type: ignore[arg-type]
                    cell,
                )
        else:
            session = ctx.open_model(cell)
            wiring = EndpointWiring(base_url=session.base_url, api_key=session.token, model=cell.model)
            with tracer.span(
                "adapter_run", f"{cell.tui}:{cell.task.task_id}", timeout_s=cell.task.timeouts.agent_s
            ) as run_span:
                with tracer.span("tool_call", "applied_plugins", parent=run_span, tui=cell.tui) as s:
                    launch = adapter.launch(cell, wiring, image)
                    files = {"prompt.txt": cell.task.prompt, **launch.files}
                    for rel, content in files.items():
                        target = paths.agent / rel
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_text(content)
                    s.attrs.update(env_keys=sorted(launch.env), config_files=sorted(files), argv=launch.argv)
                chown_tree(paths.root)

                recording = ctx.home.recordings / f"{safe_name(cell.cell_id, attempt)}.cast"
                with (
                    tracer.span(
                        "container",
                        f"{cell.tui}-run:{cell.task.task_id}",
                        parent=run_span,
                        image=image,
                        model=cell.model,
                        base_url=wiring.base_url,
                    ) as s,
                    AsciicastWriter(recording, title=cell.cell_id) as cast,
                ):
                    res = cell.task.resources
                    with _gpus(ctx, res.gpus) as gpus:
                        s.attrs["gpus"] = [g.uuid for g in gpus]
                        agent_run = _run_agent(ctx, cell, attempt, adapter, launch, paths, gpus, cast)
                    s.attrs.update(
                        exit_code=agent_run.exit_code,
                        timed_out=agent_run.timed_out,
                        duration_s=round(agent_run.active_ms / 1000, 3),
                        image_digest=agent_run.image_id,
                        oom_killed=agent_run.oom_killed,
                        output_bytes=agent_run.output_bytes,
                        killed_for=agent_run.killed_for,
                        started_at=agent_run.started_at.isoformat() if agent_run.started_at else None,
                    )
                report = adapter.report(agent_run.stdout, agent_run.stderr, agent_run.exit_code, paths.out)
                seen = session.close()
                exchanges = seen.exchanges
                if seen.calls:  # the proxy saw every call: its record wins over the agent's own report
                    report = dataclasses.replace(report, model_calls=seen.calls)
                if not report.transcript and exchanges:  # what the model said, from its own answers
                    report = dataclasses.replace(
                        report,
                        transcript="\n\n".join(
                            t for e in exchanges if (t := said(e.response_body, e.content_type))
                        ),
                    )
                run_span.attrs["exit_code"] = agent_run.exit_code
                run_span.attrs["calls_reached_proxy"] = seen.started
                failure = _session_failure(seen, report) or _agent_failure(agent_run, report, cell)
                # an infra failure is retried by rerunning the agent (the endpoint may be back):
                # only a run that stands is kept for a redelivery to rescore
                if ctx.checkpoints is not None and failure.failure_class != FailureClass.infra:
                    run_span.attrs["checkpointed"] = ctx.checkpoints.save(
                        cell.cell_id,
                        attempt,
                        checkpoint.meta(before, before_git, agent_run, report, exchanges, failure),
                        checkpoint.pack(paths.work),
                    )

        with tracer.span("scoring", f"score:{cell.task.task_id}", test_command=cell.task.test_command) as s:
            after, after_git = manifest(paths.work)
            change, ignored = without_ignored(
                diff(before, before_git, after, after_git), cell.task.ignore_changes
            )
            s.attrs["ignored_changes"] = len(ignored)
            written = read_texts(paths.work, [*change.added, *change.modified])
            grading = _grade(cell, ctx, paths, task_paths, attempt)
            test_run = grading.run
            s.attrs.update(
                exit_code=test_run.exit_code,
                timed_out=test_run.timed_out,
                harness_tampered=list(grading.harness.tampered),
                tests_excluded=list(grading.harness.excluded),
                declared_tests=len(grading.declared),
            )
            if test_run.killed_for and failure.failure_class == FailureClass.none:
                failure = Failure(  # the tests ran the agent's code, and that code broke the limit
                    failure_class=FailureClass.agent,
                    reason=f"the agent's code under test {test_run.killed_for}",
                )
            elif test_run.timed_out and failure.failure_class == FailureClass.none:
                failure = Failure(
                    failure_class=FailureClass.scorer,
                    reason=f"hidden tests timed out after {cell.task.timeouts.test_s:g}s",
                )
            calls, source = _calls_and_source(report)
            axes = scoring.score_cell(
                task=cell.task,
                exit_code=test_run.exit_code,
                timed_out=test_run.timed_out,
                stdout=test_run.stdout,
                stderr=test_run.stderr,
                calls=calls,
                token_source=source,
                wall_clock_ms=(time.monotonic() - t0) * 1000,
                container_active_ms=agent_run.active_ms,
                diff=change,
                state_globs=adapter.state_globs,
                transcript=report.transcript,
                written=written,
                hidden_test_paths=list(grading.hidden_paths),
                report=grading.report,
                declared=grading.declared,
                canary=grading.canary,
                harness_tampered=grading.harness.tampered,
                tests_excluded=grading.harness.excluded,
                prices=ctx.prices,
                model=cell.model,
            )
            grade_json = axes.model_dump_json(by_alias=True)
    except CabError as e:
        failure = _classify_exception(e)
        bound.warning("cell_failed", failure_class=failure.failure_class, reason=failure.reason)
    except Exception as e:  # a bug of ours must still yield a result row
        failure = Failure(
            failure_class=FailureClass.infra, reason=f"internal error: {type(e).__name__}: {e}"[:300]
        )
        bound.exception("cell_crashed")
    finally:
        if session is not None:
            session.close()  # a run that failed early must not leave its token valid
        with tracer.span("cleanup", f"cleanup:{cell.tui}", kept=ctx.keep_workdirs):
            if not ctx.keep_workdirs:
                shutil.rmtree(paths.root, ignore_errors=True)
        ended = datetime.now(UTC)
        out_text = (agent_run.stdout + agent_run.stderr) if agent_run else ""
        result = CellResult(
            identity=cell.identity(
                attempt,
                container_image=image,
                image_digest=image_id,
                tui_version=version,
                exit_code=agent_run.exit_code if agent_run else None,
                host=ctx.host,
            ),
            timing=Timing(started_at=started, ended_at=ended, duration_s=time.monotonic() - t0),
            failure=failure,
            axes=axes,
            spans=tracer.spans,
            model_calls=report.model_calls,
            exchanges=exchanges,
            digests=Digests(
                prompt_sha256=_sha256(cell.task.prompt),
                output_sha256=_sha256(out_text),
                grade_sha256=_sha256(grade_json),
            ),
            recording_path=str(recording) if recording and recording.exists() else None,
            agent_output_tail=out_text[-4000:],
        )
        bound.info(
            "cell_finished",
            failure_class=failure.failure_class,
            composite=axes.composite.composite if axes else None,
        )
        stored = sink(result) if sink is not None else True
        rescore_failed = restored is not None and failure.failure_class == FailureClass.infra
        if ctx.checkpoints is not None and stored is not False and (axes is not None or rescore_failed):
            # stored and scored: a redelivery has nothing to resume; a rescore that failed for infra
            # reasons is not tried on the same checkpoint again: the next try starts afresh
            ctx.checkpoints.drop(cell.cell_id)
    return result


@contextmanager
def _gpus(ctx: HostContext, wanted: int) -> Iterator[list[GpuInfo]]:
    """Reserve ``wanted`` of this host's GPUs for the agent container (one cell per GPU)."""
    if wanted == 0:
        yield []
        return
    taken: list[GpuInfo] = []
    try:
        for _ in range(wanted):
            gpu = ctx.gpu_slots.acquire() if ctx.gpu_slots else None
            if gpu is None:
                raise InfraError(f"the cell needs {wanted} GPU(s) and this host has no free one")
            taken.append(gpu)
        yield taken
    finally:
        for gpu in taken:
            ctx.gpu_slots.release(gpu)  # type: ignore[union-attr]


def _run_agent(
    ctx: HostContext,
    cell: CellSpec,
    attempt: int,
    adapter: Adapter,
    launch: AgentLaunch,
    paths: CellPaths,
    gpus: list[GpuInfo],
    cast: AsciicastWriter,
) -> ContainerRun:
    res = cell.task.resources
    return ctx.sandbox.run(
        ContainerSpec(
            name=f"cab-{safe_name(cell.cell_id, attempt)}"[:200],
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
            labels=ctx.sandbox.labels_for(cell.cell_id, attempt, "agent"),
            device_requests=tuple(device_request_for(g) for g in gpus),
            read_only_root=adapter.read_only_root,
            tmpfs=adapter.scratch_dirs,
            tmpfs_mb=res.tmpfs_mb,
            disk_limit_mb=res.disk_mb,
            watch_dirs=(str(paths.work), str(paths.out)),
            output_limit_bytes=res.output_mb << 20,
        ),
        sink=cast.event,
    )


def _session_failure(seen: SessionRecord, report: AgentReport) -> Failure | None:
    """Failures the proxy's record proves, whatever the TUI's exit code says: all infra."""
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
        why = "a protocol or model the TUI and the endpoint do not share"
        return Failure(
            failure_class=FailureClass.infra,
            reason=f"handshake failure: HTTP {first.http_status} to {first.endpoint_path}, never 2xx ({why})",
        )
    return None


def _agent_failure(run: ContainerRun, report: AgentReport, cell: CellSpec) -> Failure:
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


def _classify_exception(e: CabError) -> Failure:
    if isinstance(e, InfraError):
        return Failure(failure_class=FailureClass.infra, reason=str(e)[:300])
    if isinstance(e, AgentError):
        return Failure(failure_class=FailureClass.agent, reason=str(e)[:300])
    if isinstance(e, ScorerError):
        return Failure(failure_class=FailureClass.scorer, reason=str(e)[:300])
    return Failure(failure_class=FailureClass.infra, reason=str(e)[:300])


def _calls_and_source(report: AgentReport) -> tuple[list[ModelCall], TokenSource]:
    calls = report.model_calls
    if not calls:
        return [], TokenSource.none
    return calls, calls[0].source


def _grade(
    cell: CellSpec, ctx: HostContext, paths: CellPaths, task_paths: TaskPaths, attempt: int
) -> Grading:
    """Grade the agent's final /work in a fresh scorer container (see ``cab_workers.grading``)."""
    try:
        return grade(
            cell.task,
            task_paths,
            paths.work,
            paths.root / "score",
            ctx.sandbox,
            ctx.scorer_image,
            name=f"cab-score-{safe_name(cell.cell_id, attempt)}",
            labels=ctx.sandbox.labels_for(cell.cell_id, attempt, "scorer"),
        )
    except SandboxError as e:
        raise ScorerError(f"scorer container failed: {e}") from e
