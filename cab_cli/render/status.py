"""The table `cab status` shows (once, or live with ``--watch``)."""

from __future__ import annotations

from rich.progress_bar import ProgressBar
from rich.table import Table

from cab_core.task_bundle import short
from cab_scheduler.status import SweepStatus, TaskMix


def render_status_table(status: SweepStatus) -> Table:
    """Progress of a distributed sweep per TUI and model, a total row, and a caption that says what
    happens next (ETA, stalled and why, budget spent, retries)."""
    table = Table(
        "TUI",
        "model",
        "progress",
        "done",
        "passed",
        "running",
        "queued",
        "failed (class)",
        title=f"{status.sweep_id}" + (" [red](cancelled)[/]" if status.cancelled else ""),
    )
    for g in [*status.groups, status.total]:
        failed = ", ".join(f"{k} {v}" for k, v in sorted(g.failed.items())) or "-"
        if g.retrying:
            failed += f"  (+{g.retrying} infra, retrying)"
        if g.cancelled:
            failed += f"  ({g.cancelled} cancelled)"
        table.add_row(
            g.tui,
            g.model,
            ProgressBar(total=max(g.planned, 1), completed=g.done, width=30),
            f"{g.done}/{g.planned}",
            str(g.passed),
            str(g.running),
            str(g.queued),
            failed,
            end_section=g is status.groups[-1],
        )
    table.caption = _caption(status)
    return table


def _caption(status: SweepStatus) -> str:
    lines = []
    if status.budget_spent:
        lines.append(f"[yellow]stopped: {status.budget_spent}; queued cells will not start[/]")
    elif status.stalled_s is not None:
        lines.append(f"[red]stalled: nothing moved for {status.stalled_s:,.0f} s[/]")
        lines += [f"[red]  - {why}[/]" for why in status.why]
    elif status.finished:
        lines.append("finished")
    else:
        eta = "-" if status.eta_s is None else f"{status.eta_s:,.0f} s"
        lines.append(f"ETA {eta}")
    if status.next_retry_s is not None and not status.finished:
        lines.append(f"next automatic retry in {status.next_retry_s:,.0f} s")
    for tries, n in sorted(status.gave_up.items()):
        lines.append(f"{n} cell{'s' if n != 1 else ''} ended as infra failures after {tries} tries")
    lines += render_task_mix(status.task_mix)
    return "\n".join(lines)


def render_task_mix(mix: list[TaskMix]) -> list[str]:
    """One warning line per task whose results ran more than one version of it (empty: none did)."""
    lines = []
    for m in mix:
        each = ", ".join(
            f"{short(h) if h else 'unrecorded'} ({n} cell{'s' if n != 1 else ''})" for h, n in m.versions
        )
        lines.append(f"[yellow]mixed task versions: {m.task_id} ran as {each}[/]")
    return lines
