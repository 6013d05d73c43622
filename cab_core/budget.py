"""Sweep budgets: what a sweep has spent, and whether it may start another cell (pure).

Spend counts every stored attempt (a failed attempt's calls were paid for too). Cells that are
running when the budget is passed still finish, so a sweep can overshoot by what its running cells
spend; attempts whose tokens or cost are unknown cannot be counted and are reported instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from cab_core.errors import SweepError
from cab_core.pricing import PriceTable
from cab_core.schema import Budget, SweepSpec


@dataclass(frozen=True)
class Spend:
    attempts: int
    tokens: int
    cost_usd: float
    unknown_tokens: int
    """Attempts whose tokens were not recorded (not in ``tokens``)."""
    unknown_cost: int
    """Attempts whose cost is unknown (not in ``cost_usd``)."""


def exhausted(budget: Budget | None, spend: Spend) -> str | None:
    """Why no further cell may start (one line), or None while the budget lasts."""
    if budget is None:
        return None
    if budget.max_tokens is not None and spend.tokens >= budget.max_tokens:
        return f"token budget spent: {spend.tokens:,} of {budget.max_tokens:,} tokens recorded"
    if budget.max_cost_usd is not None and spend.cost_usd >= budget.max_cost_usd:
        return f"cost budget spent: ${spend.cost_usd:.4f} of ${budget.max_cost_usd:g} recorded"
    return None


def check_prices(spec: SweepSpec, prices: PriceTable) -> None:
    """A cost budget can only be kept if every model of the sweep has a price."""
    budget = spec.policy.budget
    if budget is None or budget.max_cost_usd is None:
        return
    unpriced = [m for m in spec.models if prices.price_for(m) is None]
    if unpriced:
        raise SweepError(
            f"budget.max_cost_usd: model {unpriced[0]!r} has no price in table {prices.version}; "
            "add it to a CAB_PRICE_TABLE file or budget with max_tokens"
        )
