"""One result flattened: graded or not, unknowns kept unknown, the latest attempt of each cell."""

from __future__ import annotations

import pytest

from cab_core.aggregate import CellFacts, aggregate, facts, latest
from cab_core.schema import CellResult, FailureClass
from tests.cab_core.store.factories import make_result

pytestmark = pytest.mark.unit

SCORED = 0.9621796428558476
"""The composite ``make_result`` gives a passing cell."""


def _priced(result: CellResult, cost_usd: float) -> CellResult:
    assert result.axes is not None
    tokens = result.axes.tokens.model_copy(update={"cost_usd": cost_usd})
    return result.model_copy(update={"axes": result.axes.model_copy(update={"tokens": tokens})})


def test_a_scored_cell() -> None:
    got = facts(_priced(make_result(task_id="polyglot/go-lru", run=2, attempt=3), 0.0125))
    assert got == CellFacts(
        cell_id="free-20260527/opencode/meta/llama-3.3-70b-instruct/polyglot/go-lru#run2",
        sweep_id="free-20260527",
        tui="opencode",
        model="meta/llama-3.3-70b-instruct",
        task_id="polyglot/go-lru",
        category="polyglot",
        run=2,
        attempt=3,
        failure_class="none",
        infra=False,
        passed=True,
        composite=SCORED,
        total_tokens=4143,  # prompt 1200+1300+1400, completion 80+81+82
        cost_usd=0.0125,
        wall_ms=11734.067,
        task_hash="",
    )


FLAT = {
    # case: (result, passed, composite, total_tokens, infra)
    "failed": (make_result(passed=0), False, 0.31, 4143, False),
    "tokens_unknown": (make_result(tokens=False), True, SCORED, None, False),
    "unscored_agent_failure_counts_0": (
        make_result(scored=False, failure_class=FailureClass.agent),
        False,
        0.0,
        4143,  # no tokens axis: summed over the calls that carry counts
        False,
    ),
    "unscored_no_calls": (make_result(scored=False, calls=0), False, 0.0, None, False),
    "infra_has_no_composite": (
        make_result(scored=False, failure_class=FailureClass.infra),
        False,
        None,
        4143,
        True,
    ),
}


@pytest.mark.parametrize("case", sorted(FLAT))
def test_flattening(case: str) -> None:
    result, passed, composite, tokens, infra = FLAT[case]
    got = facts(result)
    assert (got.passed, got.composite, got.total_tokens, got.infra) == (passed, composite, tokens, infra)
    assert got.failure_class == result.failure.failure_class.value
    assert got.cost_usd is None  # make_result never prices


def test_unscored_cell_takes_its_wall_time_from_the_timing() -> None:
    assert facts(make_result(scored=False)).wall_ms == pytest.approx(11734.0)


def test_latest_keeps_the_highest_attempt_in_first_seen_order() -> None:
    results = [
        make_result(task_id="p/b", attempt=2),
        make_result(task_id="p/a"),
        make_result(task_id="p/b", attempt=3, passed=0),
        make_result(task_id="p/b", attempt=1),
    ]
    kept = latest(results)
    assert [(r.identity.task_id, r.identity.attempt) for r in kept] == [("p/b", 3), ("p/a", 1)]
    assert latest([]) == []


def test_per_tui_and_model_from_results() -> None:
    """What ``results_summary`` computed (now the aggregate): infra apart, unscored graded cells count 0."""
    results = [
        make_result(task_id="p/a"),
        make_result(task_id="p/b", passed=0),
        make_result(task_id="p/c", scored=False, failure_class=FailureClass.agent),
        make_result(task_id="p/d", failure_class=FailureClass.infra, scored=False),
        make_result(task_id="p/b", attempt=2),  # later attempt replaces p/b's fail
        make_result(tui="aider", task_id="p/a", failure_class=FailureClass.infra, scored=False),
    ]
    aider, opencode = aggregate([facts(r) for r in latest(results)], ("tui", "model"))
    assert aider.key == ("aider", "meta/llama-3.3-70b-instruct")
    assert (aider.cells, aider.graded, aider.infra, aider.passed) == (1, 0, 1, 0)
    assert (aider.pass_rate, aider.composite_mean) == (None, None)
    assert (opencode.cells, opencode.graded, opencode.infra, opencode.passed) == (4, 3, 1, 2)
    assert opencode.pass_rate == pytest.approx(2 / 3)
    assert opencode.composite_mean == pytest.approx((SCORED * 2 + 0.0) / 3)
