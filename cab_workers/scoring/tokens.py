"""Tokens axis: what the cell cost, and what one correct task cost.

Unknown is never zero. Policy:

* ``source == none`` or no recorded calls -> every count is None and the source is reported as
  ``none`` (the seeds stored 0s here, which the composite then read as free, perfectly efficient runs);
* a sum is reported only when **every** call carries that count: a partial sum would understate the
  cost and flatter the cell, so one call without ``prompt_tokens`` makes ``prompt_tokens`` None;
  ``total_tokens`` needs both sums;
* a call that got an answer (HTTP 2xx, or no status recorded) reporting 0 prompt **and** 0
  completion tokens has no usage data, not free usage: every model call sends a prompt. Its counts
  are treated as unknown, so the sums are unknown (a proxy or TUI that zero-fills a missing usage
  block must not score as perfectly efficient);
* ``tokens_per_correct_task = total_tokens / passed`` when both are known and ``passed > 0``;
* only *metered* calls count: calls to paths that carry no usage (``/v1/models``) and tries that
  failed without an answer (a 429 or a reset the proxy retried) consumed no tokens, and would
  otherwise make every sum unknown;
* ``cost_usd`` prices each metered call by its own model (an agent may call a cheaper model for
  side jobs) under the price table; one call of an unpriced model, or without counts, makes the
  cost unknown (None), never zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from cab_core.pricing import PriceTable, cost_usd
from cab_core.schema import ModelCall, TokensAxis, TokenSource

UNMETERED_PATHS = frozenset({"/v1/models"})


def zero_usage(call: ModelCall) -> bool:
    """True for an answered call that reports 0 prompt and 0 completion tokens: missing data."""
    answered = call.http_status is None or 200 <= call.http_status < 300
    return answered and call.prompt_tokens == 0 and call.completion_tokens == 0


def _counts(call: ModelCall) -> tuple[int | None, int | None]:
    """(prompt, completion) of one metered call, both None when they are a zero-filled placeholder."""
    if zero_usage(call):
        return None, None
    return call.prompt_tokens, call.completion_tokens


def _sum_if_complete(values: Sequence[int | None]) -> int | None:
    if not values or any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def metered(calls: Sequence[ModelCall]) -> list[ModelCall]:
    """The calls that consumed tokens: usage-carrying paths, and tries that got an answer."""
    return [
        c
        for c in calls
        if c.endpoint_path not in UNMETERED_PATHS
        and not (
            c.error and c.http_status is None and c.prompt_tokens is None and c.completion_tokens is None
        )
        and not (c.http_status is not None and c.http_status >= 400 and c.prompt_tokens is None)
    ]


def _cost(calls: Sequence[ModelCall], prices: PriceTable | None, model: str) -> float | None:
    if prices is None or not calls:
        return None
    total = 0.0
    for c in calls:
        prompt, completion = _counts(c)
        cost = cost_usd(prices.price_for(c.model or model), prompt, completion, c.cached_tokens)
        if cost is None:
            return None
        total += cost
    return round(total, 9)


def score_tokens(
    *,
    calls: Sequence[ModelCall],
    source: TokenSource,
    passed: int,
    prices: PriceTable | None = None,
    model: str = "",
) -> TokensAxis:
    """Sum token counts over the cell's metered calls, divide by the passes, and price them."""
    all_calls = calls
    calls = metered(calls)
    if source == TokenSource.none or not calls:
        return TokensAxis(
            prompt_tokens=None,
            completion_tokens=None,
            total_tokens=None,
            model_calls=None,
            tokens_per_correct_task=None,
            pass_used_for_division=passed,
            source=TokenSource.none,
            price_table=prices.version if prices else None,
        )
    counts = [_counts(c) for c in calls]
    prompt = _sum_if_complete([p for p, _ in counts])
    completion = _sum_if_complete([c for _, c in counts])
    total = prompt + completion if prompt is not None and completion is not None else None
    per_correct = total / passed if total is not None and passed > 0 else None
    return TokensAxis(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        model_calls=len(all_calls),
        tokens_per_correct_task=per_correct,
        pass_used_for_division=passed,
        source=source,
        cost_usd=_cost(calls, prices, model),
        price_table=prices.version if prices else None,
    )
