"""``cab run`` on one host: which cells of a sweep run (the resume rule) and running them in threads.

``plan`` skips cells whose latest result is final for the same task version and gives the others their
next attempt number; ``run_planned`` runs them ``slots`` at once on a ``LocalHost``'s context
(:mod:`cab_workers.composition`), storing each result as soon as it exists.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

import structlog

from cab_core.budget import exhausted
from cab_core.schema import CellResult, CellSpec
from cab_core.store import ResultStore
from cab_workers.cell.pipeline import HostContext, run_cell

log = structlog.get_logger(__name__)


@dataclass
class SweepPlan:
    """What ``run_planned`` will do: cells to run (with their attempt numbers) and cells skipped."""

    to_run: list[tuple[CellSpec, int]]
    skipped: list[str]
    retasked: list[str] = field(default_factory=list)
    """Cells with a final result that run again because their task changed since (in ``to_run``)."""


def plan(cells: list[CellSpec], store: ResultStore) -> SweepPlan:
    """Resume rule: skip cells with a final latest result of the same task version (``task_hash``;
    a result that recorded none counts as the same); others run as their next attempt."""
    final: dict[str, str] = {}
    for sweep_id in {c.sweep_id for c in cells}:
        final |= store.final_task_hashes(sweep_id)

    def retasked(c: CellSpec) -> bool:
        ran = final.get(c.cell_id, "")
        return bool(ran and c.task_hash and ran != c.task_hash)

    done = {c.cell_id for c in cells if c.cell_id in final and not retasked(c)}
    to_run = [(c, store.next_attempt(c.cell_id)) for c in cells if c.cell_id not in done]
    return SweepPlan(
        to_run=to_run,
        skipped=sorted(done),
        retasked=sorted(c.cell_id for c in cells if c.cell_id in final and retasked(c)),
    )


def run_planned(
    sweep_plan: SweepPlan,
    ctx: HostContext,
    store: ResultStore,
    *,
    slots: int,
    on_done: Callable[[CellResult], None] = lambda _: None,
    on_skip: Callable[[CellSpec, str], None] = lambda _c, _why: None,
) -> list[CellResult]:
    """Run the planned cells with ``slots`` at once; each result is stored as soon as it exists.

    Before a cell starts, its sweep's budget is checked against the store: once it is spent, the
    remaining cells are handed to ``on_skip`` with the reason and not run (no result is stored)."""
    results: list[CellResult] = []
    if not sweep_plan.to_run:
        return results

    def start(cell: CellSpec, attempt: int) -> CellResult | str:
        budget = cell.policy.budget
        spent = exhausted(budget, store.sweep_spend(cell.sweep_id)) if budget else None
        return spent or run_cell(cell, ctx, attempt=attempt, sink=store.upsert_result)

    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="cab-cell") as pool:
        futures = {pool.submit(start, cell, attempt): cell for cell, attempt in sweep_plan.to_run}
        try:
            for fut in as_completed(futures):
                result = fut.result()
                if isinstance(result, str):
                    log.warning("cell_skipped_budget", cell_id=futures[fut].cell_id, reason=result)
                    on_skip(futures[fut], result)
                    continue
                results.append(result.model_copy(update={"artifacts": []}))  # stored; MiBs each
                on_done(result)
        except BaseException:
            # Queued cells never start; running ones lose their containers now (instead of at their
            # deadline), finish as infra failures, get stored, and rerun on resume.
            for fut in futures:
                fut.cancel()
            removed = ctx.sandbox.reap(owner_pid=os.getpid())
            log.warning("sweep_interrupted", containers_removed=len(removed))
            raise
    return results
