"""Regression: a call that got an answer but reports 0 prompt and 0 completion tokens scored cost
efficiency 1 (zero tokens looked like a free, perfectly efficient run). It is missing data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cab_core.pricing import ModelPrice, PriceTable
from cab_core.schema import Axes, ModelCall, TaskSpec, TokenSource
from cab_workers.scoring import ScoreInput, WorkdirDiff, score_cell, score_tokens
from cab_workers.scoring.config import DEFAULT_CONFIG, ScoringConfig
from cab_workers.scoring.tokens import zero_usage

pytestmark = pytest.mark.unit

T0 = datetime(2026, 6, 16, tzinfo=UTC)
RUST = TaskSpec(
    category="polyglot",
    slug="rust-lifetime-fix",
    title="t",
    language="rust",
    prompt="fix it",
    test_command=["cargo", "test"],
    test_runner="cargo",
    expected_changes=["src/lib.rs"],
)
CARGO_OK = "running 3 tests\ntest result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n"


def call(seq: int, prompt: int | None, completion: int | None, status: int | None = 200) -> ModelCall:
    return ModelCall(
        seq=seq,
        timestamp=T0,
        request_hash="0" * 64,
        model="exact/model",
        endpoint_path="/v1/chat/completions",
        http_status=status,
        prompt_tokens=prompt,
        completion_tokens=completion,
        source=TokenSource.proxy,
    )


ON_EXIT_CODES = DEFAULT_CONFIG.model_copy(update={"pass_from_exit_code": True})
"""These cells pass on the exit code: the token rules are what is tested here, not the pass evidence."""


def _cell(calls: list[ModelCall], config: ScoringConfig = ON_EXIT_CODES) -> Axes:
    return score_cell(
        ScoreInput(
            task=RUST,
            exit_code=0,
            timed_out=False,
            stdout=CARGO_OK,
            stderr="",
            calls=calls,
            token_source=TokenSource.proxy,
            wall_clock_ms=10_000.0,
            container_active_ms=9_000.0,
            diff=WorkdirDiff(modified=("src/lib.rs",)),
            transcript="Fixed.",
            written={"src/lib.rs": "pub fn longest<'a>() {}"},
        ),
        config=config,
    )


def test_zero_tokens_from_a_call_that_returned_200_score_no_cost_efficiency() -> None:
    axes = _cell([call(0, 0, 0)])
    assert axes.tokens.total_tokens is None
    assert axes.tokens.tokens_per_correct_task is None
    assert axes.composite.components["cost_efficiency"] == 0.0
    assert axes.composite.missing == ["cost_efficiency"]


def test_one_zero_usage_call_makes_the_sums_unknown_not_understated() -> None:
    axis = score_tokens(calls=[call(0, 1200, 80), call(1, 0, 0)], source=TokenSource.proxy, passed=1)
    assert (axis.prompt_tokens, axis.completion_tokens, axis.total_tokens, axis.model_calls) == (
        None,
        None,
        None,
        2,
    )


def test_zero_usage_call_has_no_known_cost() -> None:
    prices = PriceTable(version="t", models={"exact/model": ModelPrice(input=1.0, output=2.0)})
    axis = score_tokens(calls=[call(0, 0, 0)], source=TokenSource.proxy, passed=1, prices=prices)
    assert axis.cost_usd is None


@pytest.mark.parametrize(
    ("prompt", "completion", "status", "missing"),
    [
        (0, 0, 200, True),
        (0, 0, 201, True),
        (0, 0, None, True),  # a TUI's own report: no status, and no usage either
        (0, 5, 200, False),  # a prompt served from cache can be reported as 0; completion is real
        (5, 0, 200, False),  # an empty answer is real usage
        (0, 0, 500, False),  # a failed try that consumed nothing
        (None, None, 200, False),  # unknown already
    ],
)
def test_zero_usage(prompt: int | None, completion: int | None, status: int | None, missing: bool) -> None:
    assert zero_usage(call(0, prompt, completion, status)) is missing


def test_known_tokens_still_score_through_the_curve() -> None:
    axes = _cell([call(0, 40_000, 10_000)])
    assert axes.tokens.total_tokens == 50_000
    assert axes.composite.missing == []
    assert axes.composite.components["cost_efficiency"] == pytest.approx(1 / (1 + 0.3010299956639812))


def test_published_convention_scores_zero_usage_as_one() -> None:
    axes = _cell([call(0, 0, 0)], ScoringConfig(unknown_tokens_score_one=True))
    assert axes.composite.components["cost_efficiency"] == 1.0
    assert axes.composite.missing == ["cost_efficiency"]
