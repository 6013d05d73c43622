"""The aggregate of a sweep as a table (`cab results SWEEP --by ...`): one row per group with the pass
rate and composite and their 95 % intervals, pass@k and pass^k at the largest k every task reached,
rerun agreement, tokens and cost per solved task, median wall time and the infra cells counted apart.

Not recorded reads ``unknown``, not applicable (nothing graded, nothing solved) reads ``-``; a mean over
some of the graded cells says over how many, so a partial count is never mistaken for the whole.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from cab_core.aggregate import GroupStats, Interval

HEADS = {"tui": "TUI", "model": "model", "task": "task", "category": "category", "sweep": "sweep"}


def _ci(interval: Interval | None, fmt: str) -> str:
    return "" if interval is None else f" [{fmt.format(interval.low)}-{fmt.format(interval.high)}]"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _per_solved(g: GroupStats, total: float | None, known: int, fmt: str) -> str:
    """A per-solved-task figure: ``-`` when nothing was solved, ``unknown`` when nothing was recorded."""
    if g.passed == 0:
        return "-"
    if total is None or known == 0:
        return "unknown"
    return fmt.format(total) + ("" if known == g.graded else f" ({known} of {g.graded})")


def _row(g: GroupStats) -> list[str]:
    pass_rate = "-" if g.pass_rate is None else f"{g.pass_rate:.1%}{_ci(g.pass_ci, '{:.1%}')}"
    composite = "-" if g.composite_mean is None else f"{g.composite_mean:.3f}{_ci(g.composite_ci, '{:.3f}')}"
    agreement = "-" if g.agreement is None else f"{g.agreement:.0%} of {g.agreement_tasks}"
    wall = "-" if g.wall_median_ms is None else f"{g.wall_median_ms / 1000:.1f}"
    infra = f"{g.infra} ({g.infra_rate:.0%})" if g.infra else "0"
    return [
        *g.key,
        str(g.cells),
        f"{g.passed}/{g.graded}",
        pass_rate,
        composite,
        str(g.tasks),
        str(g.k) if g.k else "-",
        _pct(g.pass_at_k.get(g.k)),
        _pct(g.pass_hat_k.get(g.k)),
        agreement,
        _per_solved(g, g.tokens_per_solved, g.tokens_known, "{:,.0f}"),
        _per_solved(g, g.cost_per_solved, g.cost_known, "${:.4f}"),
        wall,
        infra,
    ]


def render_aggregate_table(groups: list[GroupStats], by: tuple[str, ...]) -> Table:
    """One row per group, in the order given; ``by`` names the key columns."""
    table = Table(
        header_style="bold",
        caption_justify="left",
        caption="pass and composite: 95 % intervals (Wilson over graded cells; bootstrap over tasks). "
        "k: the fewest graded reruns of any task. stays: tasks whose reruns agree. infra cells are "
        "counted apart, never as failures.",
    )
    for i, name in enumerate(by):  # keys keep their width; the numbers never wrap either
        widest = max((len(g.key[i]) for g in groups), default=0)
        table.add_column(HEADS[name], overflow="fold", min_width=min(40, max(widest, len(HEADS[name]))))
    numbers = ("cells", "passed", "pass rate", "composite", "tasks", "k", "pass@k", "pass^k", "stays")
    for head in (*numbers, "tokens/solved", "$/solved", "wall s (median)", "infra"):
        table.add_column(
            head, no_wrap=True, justify="left" if head in ("pass rate", "composite") else "right"
        )
    for g in groups:
        cells = [Text(v) for v in _row(g)]
        if g.infra:
            cells[-1].stylize("yellow")
        table.add_row(*cells)
    return table
