"""Phase 4, finish: runs on every path, whatever the phases before it did or raised.

Close the model session (a run that failed early must not leave its token valid), remove the
scratch folder (the ``cleanup`` span), build the ``CellResult`` from the record (with its artifacts:
the agent's diff and its terminal recording, capped), hand it to the sink, and drop the checkpoint
once nothing is left to resume from it.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from datetime import UTC, datetime

from cab_core.schema import Artifact, CellResult, Digests, FailureClass, Timing
from cab_workers.cell.artifacts import cast_artifact
from cab_workers.cell.ports import HostContext
from cab_workers.cell.run_record import CellRun

Sink = Callable[[CellResult], bool | None]
"""Stores a result; returning False means it was discarded (a lost lease)."""


def finish(run: CellRun, ctx: HostContext, sink: Sink | None) -> CellResult:
    """Clean up, build the result and hand it to ``sink``; an exception from the sink propagates
    (and keeps the checkpoint for the next delivery)."""
    if run.session is not None:
        run.session.close()  # a run that failed early must not leave its token valid
    with run.tracer.span("cleanup", f"cleanup:{run.cell.tui}", kept=ctx.keep_workdirs):
        if not ctx.keep_workdirs:
            shutil.rmtree(run.paths.root, ignore_errors=True)
    result = cell_result(run, ctx.host)
    run.log.info(
        "cell_finished",
        failure_class=run.failure.failure_class,
        composite=run.axes.composite.composite if run.axes else None,
    )
    stored = sink(result) if sink is not None else True
    rescore_failed = run.restored_from is not None and run.failure.failure_class == FailureClass.infra
    if ctx.checkpoints is not None and stored is not False and (run.axes is not None or rescore_failed):
        # stored and scored: a redelivery has nothing to resume; a rescore that failed for infra
        # reasons is not tried on the same checkpoint again: the next try starts afresh
        ctx.checkpoints.drop(run.cell.cell_id)
    return result


def cell_result(run: CellRun, host: str) -> CellResult:
    """The record as the result of record, timed up to now."""
    ended = datetime.now(UTC)
    agent_run, cell = run.agent_run, run.cell
    out_text = (agent_run.stdout + agent_run.stderr) if agent_run else ""
    return CellResult(
        identity=cell.identity(
            run.attempt,
            container_image=run.image,
            image_digest=run.image_id,
            tui_version=run.tui_version,
            task_image=run.images.task_image if run.images else None,
            task_image_id=run.images.task_image_id if run.images else None,
            exit_code=agent_run.exit_code if agent_run else None,
            host=host,
            model_build_id=(run.session.build_id if run.session else None) or cell.model,
        ),
        timing=Timing(started_at=run.started_at, ended_at=ended, duration_s=run.elapsed_s()),
        failure=run.failure,
        axes=run.axes,
        spans=run.tracer.spans,
        model_calls=run.report.model_calls,
        exchanges=run.exchanges,
        artifacts=_artifacts(run),
        digests=Digests(
            prompt_sha256=_sha256(cell.task.prompt),
            output_sha256=_sha256(out_text),
            grade_sha256=_sha256(run.grade_json),
        ),
        recording_path=str(run.recording) if run.recording and run.recording.exists() else None,
        agent_output_tail=out_text[-4000:],
    )


def _artifacts(run: CellRun) -> list[Artifact]:
    """The agent's diff (made by the score phase) and its terminal recording, those that exist; a cell
    is never failed for want of one (logged, and left out)."""
    found = [run.diff] if run.diff is not None else []
    if run.recording is None:
        return found
    try:
        cast = cast_artifact(run.recording)
    except Exception as e:  # an unreadable recording must not cost the cell its result
        run.log.warning("recording_unreadable", error=f"{type(e).__name__}: {e}"[:300])
        return found
    return [*found, cast] if cast is not None else found


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
