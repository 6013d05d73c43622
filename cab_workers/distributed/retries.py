"""What happens to a cell after a try that did not end it (pure).

An infra failure is retryable: the cell goes back to the plan and is dispatched again after an
exponential backoff (``base * 2**(tries-1)``, capped), until ``max_attempts`` tries were made. The
try that reaches the cap is stored as final, so a sweep always ends; its reason says how many tries.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cab_core.schema import CellResult, CellSpec, Failure, FailureClass, Timing


def backoff_s(tries: int, base_s: float, cap_s: float) -> float:
    """Seconds before the next try after ``tries`` tries (1 -> base, 2 -> 2*base, ...), at most ``cap_s``."""
    return float(min(cap_s, base_s * 2 ** max(tries - 1, 0)))


def settle(result: CellResult, tries: int, max_attempts: int) -> CellResult:
    """``result`` as it must be stored after ``tries`` tries: a retryable failure on the last allowed
    try becomes final (not retried), its reason saying so."""
    if result.is_final or tries < max_attempts:
        return result
    failure = result.failure.model_copy(
        update={
            "retryable": False,
            "reason": f"{result.failure.reason} (gave up after {tries} tries)"[:2000],
        }
    )
    return result.model_copy(update={"failure": failure})


def unrun_result(cell: CellSpec, attempt: int, host: str, failure: Failure) -> CellResult:
    """The record of a try that ended without a pipeline result: no axes, no spans, just why."""
    now = datetime.now(UTC)
    return CellResult(
        identity=cell.identity(attempt, host=host),
        timing=Timing(started_at=now, ended_at=now, duration_s=0.0),
        failure=failure,
    )


def poison_result(cell: CellSpec, attempt: int, tries: int, host: str) -> CellResult:
    """The final record of a cell whose every allowed try started and none stored a final result
    (``tries`` counts the one that found this out)."""
    return unrun_result(
        cell,
        attempt,
        host,
        Failure(
            failure_class=FailureClass.infra,
            retryable=False,
            reason=f"poison: {tries - 1} tries started and none stored a final result; not retried",
        ),
    )


def deadline_failure(budget_s: float) -> Failure:
    """Why a cell that outlived its whole budget was stopped by cab's watchdog (retryable)."""
    return Failure(
        failure_class=FailureClass.infra,
        reason=f"cell outlived its budget of {budget_s:g}s (setup + agent + tests + grace); "
        "cab's watchdog killed its containers",
    )
