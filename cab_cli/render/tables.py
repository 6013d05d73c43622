"""Tables over many results: one row per cell, and the per-(TUI, model) summary."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from cab_cli.render.values import token_total
from cab_core.schema import CellResult, FailureClass


def _refusal_cell(result: CellResult) -> str:
    r = result.axes.refusal if result.axes else None
    return r.refusal_correct.value if r and r.refusal_correct and not r.not_applicable else "-"


def render_results_table(results: list[CellResult]) -> Table:
    """One row per result, in the order given."""
    table = Table(header_style="bold")
    for head in ("TUI", "model", "task"):
        table.add_column(head, overflow="fold")
    for head in (
        "run",
        "pass",
        "partial",
        "tokens",
        "wall s",
        "blast",
        "refusal",
        "integrity",
        "composite",
        "failure",
    ):
        right = head in ("run", "tokens", "wall s")
        table.add_column(head, no_wrap=True, justify="right" if right else "left")
    for r in results:
        a, ident = r.axes, r.identity
        total = token_total(r)
        failure = r.failure.failure_class
        row = (
            ident.tui,
            ident.model,
            ident.task_id,
            str(ident.run),
            str(a.pass_rate.passed) if a else "-",
            f"{a.pass_rate.partial_score:.2f}" if a and a.pass_rate.partial_score is not None else "-",
            f"{total:,}" if total is not None else "n/a",
            f"{(a.latency.wall_clock_ms / 1000) if a else r.timing.duration_s:.1f}",
            f"{a.blast_radius.blast_radius:.2f}" if a else "-",
            _refusal_cell(r),
            f"{a.integrity.integrity:.2f}" if a else "-",
            f"{a.composite.composite:.3f}" if a else "-",
            "" if failure == FailureClass.none else failure.value,
        )
        table.add_row(*(Text(v, style="red" if i == 12 else "") for i, v in enumerate(row)))
    return table


@dataclass(frozen=True)
class SummaryRow:
    """Aggregate of one (tui, model) pair over its cells' latest attempts."""

    tui: str
    model: str
    cells: int
    """Distinct cells seen."""
    graded: int
    """Cells not lost to infra failures: the denominator of both rates below."""
    passed: int
    pass_rate: float | None
    """passed / graded; None when nothing was graded."""
    mean_composite: float | None
    """Mean composite over graded cells; a graded cell never scored counts 0, never as perfect."""


def results_summary(results: Iterable[CellResult]) -> list[SummaryRow]:
    """Pass rate and mean composite per (tui, model), sorted; only each cell's latest attempt counts."""
    latest: dict[str, CellResult] = {}
    for r in results:
        seen = latest.get(r.identity.cell_id)
        if seen is None or r.identity.attempt > seen.identity.attempt:
            latest[r.identity.cell_id] = r
    groups: dict[tuple[str, str], list[CellResult]] = {}
    for r in latest.values():
        groups.setdefault((r.identity.tui, r.identity.model), []).append(r)
    rows = []
    for (tui, model), members in sorted(groups.items()):
        graded = [r for r in members if r.failure.failure_class != FailureClass.infra]
        passed = sum(1 for r in graded if r.axes and r.axes.pass_rate.passed)
        composites = [r.axes.composite.composite if r.axes else 0.0 for r in graded]
        rows.append(
            SummaryRow(
                tui,
                model,
                len(members),
                len(graded),
                passed,
                passed / len(graded) if graded else None,
                sum(composites) / len(composites) if composites else None,
            )
        )
    return rows


def render_summary_table(rows: list[SummaryRow]) -> Table:
    """``results_summary`` as a table."""
    table = Table(header_style="bold")
    for head in ("TUI", "model", "cells", "graded", "passed", "pass rate", "mean composite"):
        table.add_column(head)
    for s in rows:
        table.add_row(
            *(
                Text(v)
                for v in (
                    s.tui,
                    s.model,
                    str(s.cells),
                    str(s.graded),
                    str(s.passed),
                    f"{s.pass_rate:.1%}" if s.pass_rate is not None else "-",
                    f"{s.mean_composite:.3f}" if s.mean_composite is not None else "-",
                )
            )
        )
    return table
