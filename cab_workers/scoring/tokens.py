"""Tokens axis: what the cell cost, and what one correct task cost.

Unknown is never zero. Policy:

* ``source == none`` or no recorded calls -> every count is None and the source is reported as
  ``none`` (the seeds stored 0s here, which the composite then read as free, perfectly efficient runs);
* a sum is reported only when **every** call carries that count: a partial sum would understate the
  cost and flatter the cell, so one call without ``prompt_tokens`` makes ``prompt_tokens`` None;
  ``total_tokens`` needs both sums;
* ``tokens_per_correct_task = total_tokens / passed`` when both are known and ``passed > 0``.
"""

from __future__ import annotations

from collections.abc import Sequence

from cab_core.schema import ModelCall, TokensAxis, TokenSource


def _sum_if_complete(values: Sequence[int | None]) -> int | None:
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def score_tokens(*, calls: Sequence[ModelCall], source: TokenSource, passed: int) -> TokensAxis:
    """Sum token counts over the cell's model calls and divide by the number of passes."""
    if source == TokenSource.none or not calls:
        return TokensAxis(
            prompt_tokens=None,
            completion_tokens=None,
            total_tokens=None,
            model_calls=None,
            tokens_per_correct_task=None,
            pass_used_for_division=passed,
            source=TokenSource.none,
        )
    prompt = _sum_if_complete([c.prompt_tokens for c in calls])
    completion = _sum_if_complete([c.completion_tokens for c in calls])
    total = prompt + completion if prompt is not None and completion is not None else None
    per_correct = total / passed if total is not None and passed > 0 else None
    return TokensAxis(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        model_calls=len(calls),
        tokens_per_correct_task=per_correct,
        pass_used_for_division=passed,
        source=source,
    )
