"""Aggregation of cell results into what a reader compares agents by: pass rates with 95 % intervals,
the composite with a bootstrap interval over tasks, pass@k and pass^k over reruns, rerun agreement,
tokens and cost per solved task, median wall time, infra failures counted apart. Pure: no I/O; callers
read the store and hand the results in.

    stats    Interval, wilson, bootstrap_mean, pass_at_k, pass_hat_k, median: the estimators
    facts    CellFacts, facts, latest: one result flattened, the latest attempt of each cell
    groups   GroupStats, aggregate: cells grouped by tui / model / task / category / sweep

Typical use::

    rows = aggregate([facts(r) for r in latest(results)], by=("tui", "model"))
"""

from __future__ import annotations

from cab_core.aggregate.facts import CellFacts, facts, latest, total_tokens
from cab_core.aggregate.groups import GROUP_FIELDS, GroupStats, aggregate, check_by
from cab_core.aggregate.stats import (
    Z_95,
    Interval,
    bootstrap_mean,
    median,
    pass_at_k,
    pass_hat_k,
    quantile,
    wilson,
)

__all__ = [
    "GROUP_FIELDS",
    "Z_95",
    "CellFacts",
    "GroupStats",
    "Interval",
    "aggregate",
    "bootstrap_mean",
    "check_by",
    "facts",
    "latest",
    "median",
    "pass_at_k",
    "pass_hat_k",
    "quantile",
    "total_tokens",
    "wilson",
]
