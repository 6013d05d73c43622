"""Flat tables for spreadsheets and dataframes (`cab export --format csv|parquet`): one row per cell, or
one row per aggregate group. Pure: columns and rows here, writing in ``export``.

Every column has a declared type so a column that is empty in one sweep still has the same type in the
Parquet file of the next; None stays None (an empty CSV field, a Parquet null), never 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Literal

from cab_core.aggregate import GroupStats, facts
from cab_core.schema import CellResult

Kind = Literal["str", "int", "float", "bool"]
Value = str | int | float | bool | None
Row = dict[str, Value]
Column = tuple[str, Kind]

FACT_COLUMNS: list[Column] = [
    ("cell_id", "str"),
    ("sweep_id", "str"),
    ("tui", "str"),
    ("model", "str"),
    ("task_id", "str"),
    ("category", "str"),
    ("run", "int"),
    ("attempt", "int"),
    ("failure_class", "str"),
    ("infra", "bool"),
    ("passed", "bool"),
    ("composite", "float"),
    ("total_tokens", "int"),
    ("cost_usd", "float"),
    ("wall_ms", "float"),
    ("task_hash", "str"),
]
"""The ``CellFacts`` fields, in their order."""
CELL_COLUMNS: list[Column] = [
    *FACT_COLUMNS,
    ("failure_reason", "str"),
    ("partial_score", "float"),
    ("tests_passed", "int"),
    ("tests_total", "int"),
    ("prompt_tokens", "int"),
    ("completion_tokens", "int"),
    ("token_source", "str"),
    ("model_calls", "int"),
    ("blast_radius", "float"),
    ("integrity", "float"),
    ("refusal", "float"),
    ("refusal_correct", "str"),
]
"""One row per cell: its facts, then what the per-cell table and the cell page show besides."""


def _token_split(result: CellResult) -> tuple[int | None, int | None, str]:
    """Prompt and completion tokens and where they come from, by the rule of ``total_tokens``: the
    tokens axis, else the model calls that carry counts (source ``model_calls``), else unknown."""
    axis = result.axes.tokens if result.axes else None
    if axis is not None and axis.total_tokens is not None:
        return axis.prompt_tokens, axis.completion_tokens, axis.source.value
    counted = [c for c in result.model_calls if (c.prompt_tokens, c.completion_tokens) != (None, None)]
    if not counted:
        return None, None, "none"
    prompts = [c.prompt_tokens for c in counted]
    completions = [c.completion_tokens for c in counted]
    return (
        None if None in prompts else sum(p or 0 for p in prompts),
        None if None in completions else sum(c or 0 for c in completions),
        "model_calls",
    )


def _model_calls(result: CellResult) -> int | None:
    axis = result.axes.tokens if result.axes else None
    if axis is not None and axis.model_calls is not None:
        return axis.model_calls
    return len(result.model_calls) if result.model_calls else None


def cell_row(result: CellResult) -> Row:
    """One cell's latest attempt as a flat row of ``CELL_COLUMNS``."""
    axes = result.axes
    refusal = axes.refusal if axes else None
    prompt, completion, source = _token_split(result)
    row: Row = dict(asdict(facts(result)))
    row.update(
        failure_reason=result.failure.reason,
        partial_score=axes.pass_rate.partial_score if axes else None,
        tests_passed=axes.pass_rate.tests_passed if axes else None,
        tests_total=axes.pass_rate.tests_total if axes else None,
        prompt_tokens=prompt,
        completion_tokens=completion,
        token_source=source,
        model_calls=_model_calls(result),
        blast_radius=axes.blast_radius.blast_radius if axes else None,
        integrity=axes.integrity.integrity if axes else None,
        refusal=refusal.refusal if refusal else None,
        refusal_correct=(
            refusal.refusal_correct.value
            if refusal and refusal.refusal_correct and not refusal.not_applicable
            else None
        ),
    )
    return row


def aggregate_columns(by: Sequence[str], groups: Sequence[GroupStats]) -> list[Column]:
    """The columns of the aggregate: the ``by`` fields, the counts and rates, each interval as a low and
    a high column, and ``pass_at_1`` .. ``pass_at_K`` (and ``pass_hat_*``) up to the largest k of any
    group (a group with a smaller k leaves the rest empty)."""
    k_max = max((g.k for g in groups), default=0)
    ks = range(1, k_max + 1)
    ints = (
        "cells",
        "graded",
        "infra",
        "passed",
        "tasks",
        "k",
        "agreement_tasks",
        "tokens_known",
        "cost_known",
    )
    names = [
        *("cells", "graded", "infra", "infra_rate", "passed", "pass_rate", "pass_ci_low", "pass_ci_high"),
        *("composite_mean", "composite_ci_low", "composite_ci_high", "tasks", "k"),
        *(f"pass_at_{k}" for k in ks),
        *(f"pass_hat_{k}" for k in ks),
        *("agreement", "agreement_tasks", "tokens_known", "mean_tokens", "tokens_per_solved"),
        *("cost_known", "mean_cost_usd", "cost_per_solved", "wall_median_ms"),
    ]
    return [(name, "str") for name in by] + [(n, "int" if n in ints else "float") for n in names]


def aggregate_row(g: GroupStats) -> Row:
    """One group as a flat row of ``aggregate_columns`` (columns it lacks are left to the writer)."""
    row: Row = dict(g.labels)
    for name in ("cells", "graded", "infra", "infra_rate", "passed", "pass_rate"):
        row[name] = getattr(g, name)
    row.update(
        pass_ci_low=g.pass_ci.low if g.pass_ci else None,
        pass_ci_high=g.pass_ci.high if g.pass_ci else None,
        composite_mean=g.composite_mean,
        composite_ci_low=g.composite_ci.low if g.composite_ci else None,
        composite_ci_high=g.composite_ci.high if g.composite_ci else None,
        tasks=g.tasks,
        k=g.k,
    )
    row.update({f"pass_at_{k}": v for k, v in g.pass_at_k.items()})
    row.update({f"pass_hat_{k}": v for k, v in g.pass_hat_k.items()})
    for name in ("agreement", "agreement_tasks", "tokens_known", "mean_tokens", "tokens_per_solved"):
        row[name] = getattr(g, name)
    for name in ("cost_known", "mean_cost_usd", "cost_per_solved", "wall_median_ms"):
        row[name] = getattr(g, name)
    return row
