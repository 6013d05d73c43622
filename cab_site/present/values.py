"""Values every view of a result shows the same way: unknowns spelled out (never 0), UTC times, and
the tokens and cost of a cell."""

from __future__ import annotations

from datetime import UTC, datetime

from cab_core.aggregate import total_tokens
from cab_core.schema import CellResult

UNKNOWN = "unknown (not recorded)"


def or_unknown(value: object, fmt: str = "{}") -> str:
    return UNKNOWN if value is None or value == "" else fmt.format(value)


def iso_utc(at: datetime) -> str:
    at = at.astimezone(UTC) if at.tzinfo else at
    return at.replace(tzinfo=None).isoformat() + "Z"


token_total = total_tokens
"""Total tokens: the tokens axis, else the sum over model calls that carry both counts, else None."""


def tokens_line(result: CellResult) -> str:
    total, n = token_total(result), len(result.model_calls)
    if total is None:
        lacking = sum(c.prompt_tokens is None or c.completion_tokens is None for c in result.model_calls)
        return UNKNOWN + (f"; {lacking} of {n} model calls carry no complete count" if n else "")
    axis = result.axes.tokens if result.axes and result.axes.tokens.total_tokens is not None else None
    if axis:
        prompt, completion, source = axis.prompt_tokens, axis.completion_tokens, axis.source.value
    else:
        prompt = sum(c.prompt_tokens or 0 for c in result.model_calls)
        completion = sum(c.completion_tokens or 0 for c in result.model_calls)
        source = "summed from model calls"
    calls = f" · {n} calls" if n else ""
    return (
        f"{total:,} (prompt {or_unknown(prompt, '{:,}')} · completion {or_unknown(completion, '{:,}')}"
        f"{calls} · source {source}) · cost {_cost(result)}"
    )


def _cost(result: CellResult) -> str:
    tokens = result.axes.tokens if result.axes else None
    if tokens is not None and tokens.cost_usd is not None:
        return f"${tokens.cost_usd:.6f} (prices {tokens.price_table})"
    if tokens is None or tokens.price_table is None:
        return "unknown (not priced)"
    if tokens.total_tokens is None:
        return "unknown (tokens unknown)"
    return f"unknown (no price for a model of these calls in {tokens.price_table})"


def tokens_per_correct(result: CellResult) -> str:
    axes = result.axes
    if axes and axes.tokens.tokens_per_correct_task is not None:
        return f"{axes.tokens.tokens_per_correct_task:,.0f}"
    total, passed = token_total(result), axes.pass_rate.passed if axes else None
    if total is not None and passed:
        return f"{total / passed:,.0f}"
    if total is not None and passed == 0:
        return "n/a (nothing passed)"
    return UNKNOWN
