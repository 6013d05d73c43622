"""The cell pipeline: one attempt of one cell, from task files to a stored CellResult.

``run_cell`` runs four phases over one record of the attempt (``CellRun``, in ``run_record``)::

    prepare         phase_prepare  the agent image; span task_setup: materialise /work (from the
                                   task, or from a checkpoint of an earlier delivery), git-snapshot
                                   it, hash it (the baseline)
    run or restore  phase_agent    span adapter_run, parent of:
                                     tool_call (applied_plugins)  what the adapter wired in
                                     container                    the agent container (limits,
                                                                  deadline, GPUs, recording)
                                   then classify the run and checkpoint it; a restored run only
                                   brings back its classification
    score           phase_score    span scoring: hash /work again, diff, grade it in a fresh scorer
                                   container (the task's harness, the hidden tests, a canary),
                                   score every axis
    finish          phase_finish   close the model session, span cleanup (the scratch folder),
                                   build the result, hand it to ``sink``, drop the checkpoint

Span kinds are as on the seed pages. The pipeline never raises for the cell's sake: a phase's
exception becomes data (``Failure``, classified in ``failures``) and ``finish`` runs in a
``finally``, whatever happened. What the host provides is in ``ports``. Used by the local executor
and by Celery workers alike.
"""

from __future__ import annotations

import structlog

from cab_core.errors import CabError
from cab_core.schema import CellResult, CellSpec
from cab_workers.cell.failures import classify_exception, internal_error
from cab_workers.cell.phase_agent import run_or_restore
from cab_workers.cell.phase_finish import Sink, finish
from cab_workers.cell.phase_prepare import prepare
from cab_workers.cell.phase_score import score
from cab_workers.cell.ports import HostContext, ModelSession, SessionRecord
from cab_workers.cell.run_record import CellRun

__all__ = ["HostContext", "ModelSession", "SessionRecord", "Sink", "run_cell"]

log = structlog.get_logger(__name__)


def run_cell(cell: CellSpec, ctx: HostContext, *, attempt: int = 1, sink: Sink | None = None) -> CellResult:
    """Run one attempt of ``cell``; returns (and hands to ``sink``) its result, whatever happens.

    A checkpoint of the agent's work is dropped once the result is scored and stored; a ``sink`` that
    returns False (it discarded the result: a lost lease) keeps it for the next delivery."""
    run = CellRun.begin(cell, ctx.home, attempt, log)
    try:
        prepared = prepare(run, ctx)
        outcome = run_or_restore(run, ctx, prepared)
        score(run, ctx, prepared, outcome)
    except CabError as e:
        run.failure = classify_exception(e)
        run.log.warning("cell_failed", failure_class=run.failure.failure_class, reason=run.failure.reason)
    except Exception as e:  # a bug of ours must still yield a result row
        run.failure = internal_error(e)
        run.log.exception("cell_crashed")
    finally:
        result = finish(run, ctx, sink)
    return result
