"""One cell result flattened to the few facts every aggregate is computed from.

A ``CellResult`` is deep (axes, spans, calls); grouping thousands of them should not reach into that
tree in every statistic. ``facts`` reads each value once, with the rules every view shares: a cell lost
to infra is not graded; a graded cell that was never scored counts composite 0 (never as perfect);
tokens and cost that nothing recorded stay None (never 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cab_core.schema import CellResult, FailureClass


@dataclass(frozen=True)
class CellFacts:
    """The latest attempt of one cell, flat."""

    cell_id: str
    sweep_id: str
    tui: str
    model: str
    task_id: str
    category: str
    """The part of ``task_id`` before its first ``/`` (``polyglot`` in ``polyglot/go-lru``)."""
    run: int
    attempt: int
    failure_class: str
    """A ``FailureClass`` value: none, agent, infra, scorer."""
    infra: bool
    """Lost to an infra failure: excluded from every rate and counted apart."""
    passed: bool
    """The hidden tests passed (False when the cell was never scored)."""
    composite: float | None
    """The composite score; 0.0 for a graded cell never scored; None for an infra cell."""
    total_tokens: int | None
    """Tokens of the tokens axis, else summed over model calls that carry counts; None: not recorded."""
    cost_usd: float | None
    """Cost of the calls under the price table; None when a price or a count is unknown."""
    wall_ms: float
    """Wall clock of the cell: the latency axis, else the recorded duration."""
    task_hash: str
    """Content hash of the task version the cell ran; empty for records from before it was kept."""


def total_tokens(result: CellResult) -> int | None:
    """Total tokens: the tokens axis, else the sum over the model calls that carry counts (a call with
    neither count got no answer), else None. A call with one count and not the other (cut short: its
    prompt estimated, its completion unknown) makes the total unknown: never a partial sum."""
    if result.axes and result.axes.tokens.total_tokens is not None:
        return result.axes.tokens.total_tokens
    counted = [c for c in result.model_calls if (c.prompt_tokens, c.completion_tokens) != (None, None)]
    if not counted or any(c.prompt_tokens is None or c.completion_tokens is None for c in counted):
        return None
    return sum((c.prompt_tokens or 0) + (c.completion_tokens or 0) for c in counted)


def facts(result: CellResult) -> CellFacts:
    """Flatten one result."""
    ident, axes = result.identity, result.axes
    infra = result.failure.failure_class == FailureClass.infra
    if infra:
        composite = None
    else:
        composite = axes.composite.composite if axes else 0.0
    return CellFacts(
        cell_id=ident.cell_id,
        sweep_id=ident.sweep_id,
        tui=ident.tui,
        model=ident.model,
        task_id=ident.task_id,
        category=ident.task_id.split("/", 1)[0],
        run=ident.run,
        attempt=ident.attempt,
        failure_class=result.failure.failure_class.value,
        infra=infra,
        passed=bool(axes and axes.pass_rate.passed),
        composite=composite,
        total_tokens=total_tokens(result),
        cost_usd=axes.tokens.cost_usd if axes else None,
        wall_ms=axes.latency.wall_clock_ms if axes else result.timing.duration_s * 1000,
        task_hash=ident.task_hash,
    )


def latest(results: Iterable[CellResult]) -> list[CellResult]:
    """The highest attempt of each cell, in the order cells first appear."""
    kept: dict[str, CellResult] = {}
    for r in results:
        seen = kept.get(r.identity.cell_id)
        if seen is None or r.identity.attempt > seen.identity.attempt:
            kept[r.identity.cell_id] = r
    return list(kept.values())
