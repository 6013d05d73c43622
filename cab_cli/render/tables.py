"""The table over many results: one row per cell (`cab run`, `cab results`); the per-group aggregate
is ``aggregate.py``."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from cab_core.schema import CellResult, FailureClass
from cab_site.present.values import token_total


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
