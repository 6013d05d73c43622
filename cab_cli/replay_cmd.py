"""`cab replay`: rerun recorded cells with the proxy answering from their recorded model calls.

``cab replay CELL_ID`` replays one cell and prints its per-axis scores recorded vs replayed;
``cab replay SWEEP_ID`` replays every cell of a sweep that has recorded answers, ``--slots`` at once,
with a progress bar and one line per cell. Replays are stored as sweep ``<sweep>.replay``; the exit
code is 1 when any compared score differs.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from cab_cli.common import console, err_console, fail, load_settings, store_for, wide_console
from cab_core.errors import CabError, ConfigError
from cab_core.schema import CellResult
from cab_core.settings import Settings
from cab_core.store import ResultStore


def replay(
    target: Annotated[str, typer.Argument(help="A cell id (sweep/tui/model/category/task) or a sweep id.")],
    attempt: Annotated[
        int | None, typer.Option(help="Recorded attempt of a single cell; default the latest.")
    ] = None,
    slots: Annotated[int, typer.Option(min=1, help="Cells at once when replaying a sweep.")] = 2,
) -> None:
    """Rerun recorded cells with the proxy answering from their recorded model calls (no endpoint, no key).

    Replays are stored as sweep <sweep>.replay. Exit 1 when a per-axis score differs from the
    recording (latency is not compared)."""
    settings = load_settings()
    try:
        store = store_for(settings)
        if "/" in target:
            same = _replay_cell(settings, store, target, attempt)
        else:
            if attempt is not None:
                raise ConfigError("--attempt selects an attempt of one cell; give a cell id with it")
            same = _replay_sweep(settings, store, target, slots)
    except CabError as e:
        fail(e)
    if not same:
        raise typer.Exit(1)


def _replay_cell(settings: Settings, store: ResultStore, cell_id: str, attempt: int | None) -> bool:
    from cab_scheduler.catalog import TaskCatalog
    from cab_workers.adapters import ADAPTERS
    from cab_workers.cell.pipeline import run_cell
    from cab_workers.cell.replay_plan import compare, plan_replay
    from cab_workers.composition import LocalHost
    from cab_workers.proxy import ReplayBook

    plan = plan_replay(store, TaskCatalog(settings.tasks_dir), sorted(ADAPTERS), cell_id, attempt)
    if plan.prompt_changed:
        err_console.print("warning: the task's prompt changed since this cell was recorded")
    console.print(
        f"replaying [bold]{cell_id}[/] attempt {plan.recorded.identity.attempt}: "
        f"{len(plan.exchanges)} recorded answers, no endpoint"
    )
    replays = {plan.cell.cell_id: ReplayBook(plan.exchanges, context_tokens=plan.context_tokens)}
    with LocalHost(settings, progress=lambda m: console.print(f"  [dim]{m}[/]"), replays=replays) as host:
        assert host.ctx is not None
        with console.status("running the replay"):
            replayed = run_cell(
                plan.cell, host.ctx, attempt=store.next_attempt(plan.cell.cell_id), sink=store.upsert_result
            )
    rows = compare(plan.recorded, replayed)
    table = Table(title=f"{cell_id} recorded vs replayed")
    for col in ("axis", "recorded", "replayed", ""):
        table.add_column(col)
    for row in rows:
        table.add_row(
            row.axis,
            str(row.recorded),
            str(row.replayed),
            "[green]same[/]" if row.same else "[red]DIFFERS[/]",
        )
    wide_console().print(table)
    console.print(f"calls: {_matched(replayed)}; failure: {_failure(replayed)}".rstrip())
    console.print(f"stored as [bold]cab show '{replayed.identity.cell_id}'[/]", soft_wrap=True)
    return all(r.same for r in rows)


def _replay_sweep(settings: Settings, store: ResultStore, sweep_id: str, slots: int) -> bool:
    from cab_scheduler.catalog import TaskCatalog
    from cab_workers.adapters import ADAPTERS
    from cab_workers.cell.replay_plan import compare, plan_sweep_replay
    from cab_workers.composition import LocalHost
    from cab_workers.proxy import ReplayBook
    from cab_workers.sweep_runner import SweepPlan, run_planned

    plans, cannot = plan_sweep_replay(store, TaskCatalog(settings.tasks_dir), sorted(ADAPTERS), sweep_id)
    console.print(
        f"[bold]{sweep_id}[/]: {len(plans)} cells to replay, {len(cannot)} with nothing to replay, "
        f"{slots} at once, no endpoint"
    )
    for cell_id, why in cannot.items():
        console.print(f"  [dim]skip {cell_id}: {why.removeprefix(cell_id + ' ')}[/]", soft_wrap=True)
    if not plans:
        return True
    changed = [p.recorded.identity.cell_id for p in plans if p.prompt_changed]
    if changed:
        err_console.print(f"warning: {len(changed)} cells' task prompts changed since they were recorded")
    by_replay_id = {p.cell.cell_id: p for p in plans}
    replays = {p.cell.cell_id: ReplayBook(p.exchanges, context_tokens=p.context_tokens) for p in plans}
    differing: list[str] = []
    sweep_plan = SweepPlan(to_run=[(p.cell, store.next_attempt(p.cell.cell_id)) for p in plans], skipped=[])
    with LocalHost(settings, progress=lambda m: console.print(f"  [dim]{m}[/]"), replays=replays) as host:
        assert host.ctx is not None
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
            job = bar.add_task("replays", total=len(plans))

            def done(replayed: CellResult) -> None:
                plan = by_replay_id[replayed.identity.cell_id]
                diffs = [r.axis for r in compare(plan.recorded, replayed) if not r.same]
                if diffs:
                    differing.append(plan.recorded.identity.cell_id)
                verdict = f"[red]DIFFERS[/] ({', '.join(diffs)})" if diffs else "[green]same[/]"
                bar.console.print(
                    f"  {verdict} {plan.recorded.identity.cell_id}  [dim]{_matched(replayed)}[/]",
                    soft_wrap=True,
                )
                bar.advance(job)

            try:
                run_planned(sweep_plan, host.ctx, store, slots=slots, on_done=done)
            except KeyboardInterrupt:
                err_console.print("interrupted: running replays were stopped")
                raise typer.Exit(130) from None
    console.print(
        f"{len(plans) - len(differing)} of {len(plans)} replays repeat every per-axis score"
        + (f"; differing: {', '.join(differing)}" if differing else ""),
        soft_wrap=True,
    )
    console.print(f"stored as sweep [bold]{sweep_id}.replay[/]: cab results {sweep_id}.replay")
    return not differing


def _matched(replayed: CellResult) -> str:
    matched = [c.replay for c in replayed.model_calls]
    return f"{matched.count('hash')} matched by request hash, {matched.count('order')} by position"


def _failure(result: CellResult) -> str:
    return f"{result.failure.failure_class.value} {result.failure.reason}"


def register(app: typer.Typer) -> None:
    app.command()(replay)
