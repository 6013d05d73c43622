"""The leaderboard: one row per (TUI, model) with its pass rate and 95 % interval (drawn as
whiskers), composite and its bootstrap interval, pass@k / pass^k, rerun agreement, tokens and cost per
solved task, median wall time and infra failures (counted apart, never as failures); the same rows per
task category for the filter; a cost vs pass-rate Pareto chart; a heatmap of tasks x (TUI, model).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from cab_core.aggregate import CellFacts, GroupStats, aggregate
from cab_site import paths
from cab_site.svg import HeatCell, ParetoPoint, heatmap, pareto_chart, whisker

ALL = "all"


def pair_label(tui: str, model: str) -> str:
    return f"{tui} × {model}"


def row(stats: GroupStats, tui: str, model: str) -> dict[str, Any]:
    """One leaderboard row: display values and the raw numbers the table sorts by."""
    k = stats.k
    return {
        "tui": tui,
        "model": model,
        "stats": stats,
        "whisker": whisker(
            stats.pass_rate,
            stats.pass_ci.low if stats.pass_ci else None,
            stats.pass_ci.high if stats.pass_ci else None,
        ),
        "pass_at_k": stats.pass_at_k.get(k) if k else None,
        "pass_hat_k": stats.pass_hat_k.get(k) if k else None,
        "badge": paths.pair_badge(tui, model),
    }


def _points(pairs: Sequence[GroupStats]) -> list[ParetoPoint]:
    return [
        ParetoPoint(
            label=pair_label(s.key[0], s.key[1]),
            cost=s.cost_per_solved,
            rate=s.pass_rate,
            low=s.pass_ci.low if s.pass_ci else None,
            high=s.pass_ci.high if s.pass_ci else None,
            href=None,
        )
        for s in pairs
        if s.pass_rate is not None
    ]


def _heat(facts: Sequence[CellFacts], seed: int) -> Any:
    """Tasks x (TUI, model): the share of graded reruns that passed, linked to the first cell."""
    first: dict[tuple[str, str, str], str] = {}
    for f in sorted(facts, key=lambda f: (f.run, f.cell_id)):
        first.setdefault((f.task_id, f.tui, f.model), f.cell_id)
    cells: dict[tuple[str, str], HeatCell] = {}
    for s in aggregate(facts, ("task", "tui", "model"), seed=seed):
        task, tui, model = s.key
        label = f"{task} · {pair_label(tui, model)}: " + (
            f"{s.passed}/{s.graded} passed" if s.graded else "no graded run"
        )
        if s.infra:
            label += f", {s.infra} infra"
        cells[(task, pair_label(tui, model))] = HeatCell(
            value=s.pass_rate,
            label=label,
            href=paths.cell_page(first[(task, tui, model)]),
            infra=s.graded == 0 and s.infra > 0,
        )
    tasks = sorted({f.task_id for f in facts})
    cols = sorted({pair_label(f.tui, f.model) for f in facts})
    return heatmap(tasks, cols, cells)


def leaderboard_context(
    facts: Sequence[CellFacts], sweeps: Sequence[str], *, seed: int = 0
) -> dict[str, Any]:
    """Everything the leaderboard page shows, from the flattened latest attempts of every cell."""
    pairs = aggregate(facts, ("tui", "model"), seed=seed)
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in aggregate(facts, ("tui", "model", "category"), seed=seed):
        by_category[s.key[2]].append(row(s, s.key[0], s.key[1]))
    categories = {ALL: [row(s, s.key[0], s.key[1]) for s in pairs], **dict(sorted(by_category.items()))}
    infra = sum(1 for f in facts if f.infra)
    return {
        "sweeps": list(sweeps),
        "cells": len(facts),
        "graded": len(facts) - infra,
        "infra": infra,
        "tasks": len({f.task_id for f in facts}),
        "categories": categories,
        "pareto": pareto_chart(_points(pairs)) if pairs else None,
        "heatmap": _heat(facts, seed) if facts else None,
    }
