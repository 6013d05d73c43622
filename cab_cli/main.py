"""The ``cab`` command line. Commands parse arguments and hand off; errors become one line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from cab_cli import config_cmd, distributed_cmd, flower_cmd, replay_cmd, results_cmd
from cab_cli import doctor as doctor_mod
from cab_cli.common import (
    BrokerOpt,
    EndpointCheckOpt,
    StoreOpt,
    connection,
    console,
    err_console,
    fail,
    load_settings,
    store_for,
    wide_console,
)
from cab_cli.images_cmd import images_app
from cab_cli.render import render_cell, render_results_table
from cab_cli.site_cmd import site_app
from cab_cli.tasks_cmd import tasks_app
from cab_core.errors import CabError
from cab_core.schema import CellResult, CellSpec, FailureClass
from cab_core.settings import Settings

if TYPE_CHECKING:
    from cab_core.store import ResultStore
    from cab_workers.sweep_runner import SweepPlan

app = typer.Typer(
    name="cab",
    help="Benchmark coding-agent CLIs x models x tasks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(tasks_app, name="tasks")
app.add_typer(images_app, name="images")
app.add_typer(site_app, name="site")
distributed_cmd.register(app)
flower_cmd.register(app)
replay_cmd.register(app)
results_cmd.register(app)
config_cmd.register(app)


@app.command()
def run(
    sweep_file: Annotated[Path, typer.Argument(help="Sweep YAML (see examples/demo.yaml).")],
    slots: Annotated[int | None, typer.Option(help="Cells at once; default from the sweep.")] = None,
    keep_workdirs: Annotated[bool, typer.Option(help="Keep each cell's scratch folder.")] = False,
    endpoint_check: EndpointCheckOpt = True,
) -> None:
    """Run a sweep on this host; rerunning resumes (final cells skipped, infra failures retried)."""
    import os

    from cab_cli.endpoint_check import preflight
    from cab_core.budget import check_prices
    from cab_core.pricing import PriceTable
    from cab_core.store import task_bundles
    from cab_scheduler.catalog import TaskCatalog
    from cab_scheduler.sweep import bundler, expand, load_sweep
    from cab_workers.adapters import ADAPTERS
    from cab_workers.sweep_runner import plan

    settings = load_settings()
    try:
        spec = load_sweep(sweep_file)
        catalog = TaskCatalog(settings.tasks_dir)
        cells = expand(spec, catalog, sorted(ADAPTERS))  # each with its task's content hash
        check_prices(spec, PriceTable.load(settings.price_table))
        # a local model has its image folder; a remote endpoint answers: before anything is stored
        ca, images = settings.ca_bundle, settings.images_dir
        preflight(spec, os.environ, ca_bundle=ca, images_dir=images, reach=endpoint_check)
        store = store_for(settings)
        task_bundles.save(store, [c.task_hash for c in cells], bundler(cells, catalog))
        sweep_plan = plan(cells, store)
        console.print(
            f"[bold]{spec.sweep_id}[/]: {len(cells)} cells, {len(sweep_plan.skipped)} already final, "
            f"{len(sweep_plan.to_run)} to run, {slots or spec.slots} at once"
        )
        if sweep_plan.retasked:
            changed = sorted({c.task.task_id for c in cells if c.cell_id in set(sweep_plan.retasked)})
            console.print(
                f"  {len(sweep_plan.retasked)} final cells run again: their task changed since "
                f"({', '.join(changed)}); earlier results are kept as the other version",
                soft_wrap=True,
            )
        store.record_sweep(spec)
        skipped = _run_cells(
            settings, sweep_plan, store, slots=slots or spec.slots, keep_workdirs=keep_workdirs
        )
        results = list(store.latest_by_cell(spec.sweep_id).values())
    except CabError as e:
        fail(e)
    _print_run_summary(spec.sweep_id, results, skipped, store)


def _run_cells(
    settings: Settings, sweep_plan: SweepPlan, store: ResultStore, *, slots: int, keep_workdirs: bool
) -> list[str]:
    """Run the planned cells with a progress bar and one line per finished cell; returns the ids of
    the cells a spent budget kept from starting."""
    from cab_workers.composition import LocalHost
    from cab_workers.sweep_runner import run_planned

    skipped: list[str] = []
    with LocalHost(
        settings,
        progress=lambda m: console.print(f"  [dim]{m}[/]"),
        keep_workdirs=keep_workdirs,
        model_slots=slots,
    ) as host:
        assert host.ctx is not None
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as bar:
            job = bar.add_task("cells", total=len(sweep_plan.to_run))

            def done(r: CellResult) -> None:
                status = "[green]pass[/]" if r.axes and r.axes.pass_rate.passed else "[red]fail[/]"
                if r.failure.failure_class != FailureClass.none:
                    status += f" [yellow]({r.failure.failure_class.value})[/]"
                bar.console.print(f"  {status} {r.identity.cell_id}")
                bar.advance(job)

            def skip(c: CellSpec, why: str) -> None:
                if not skipped:
                    bar.console.print(f"  [yellow]budget:[/] {why}; remaining cells are not started")
                skipped.append(c.cell_id)
                bar.advance(job)

            try:
                run_planned(sweep_plan, host.ctx, store, slots=slots, on_done=done, on_skip=skip)
            except KeyboardInterrupt:
                err_console.print("interrupted: running cells were stopped and stored; rerun to resume")
                raise typer.Exit(130) from None
    return skipped


def _print_run_summary(
    sweep_id: str, results: list[CellResult], skipped: list[str], store: ResultStore
) -> None:
    """The results table, where to look next, and what a spent budget kept from starting."""
    ordered = sorted(results, key=lambda r: r.identity.cell_id)
    wide_console().print(render_results_table(ordered))
    results_cmd.print_task_mix(ordered)
    if ordered:
        passing = [r for r in ordered if r.axes and r.axes.pass_rate.passed]
        example = (passing or ordered)[0].identity.cell_id
        console.print(f"\nLook at one cell:  [bold]cab show '{example}'[/]", soft_wrap=True)
        console.print(f"All results:       cab results {sweep_id} --by tui,model   |   cab export {sweep_id}")
        console.print(f"As web pages:      cab site build {sweep_id}")
    if skipped:
        spend = store.sweep_spend(sweep_id)
        console.print(
            f"[yellow]{len(skipped)} cells not started: the budget is spent[/] ({spend.tokens:,} tokens, "
            f"${spend.cost_usd:.4f} recorded over {spend.attempts} attempts); raise it and rerun to resume"
        )


@app.command()
def show(
    cell_id: Annotated[str, typer.Argument(help="Cell id: sweep/tui/model/category/task[#runN].")],
    attempt: Annotated[int | None, typer.Option(help="Attempt number; default the latest.")] = None,
) -> None:
    """Print one cell the way the published cell pages lay it out."""
    try:
        store = store_for(load_settings())
        result = store.get(cell_id, attempt)
        if result is not None:  # the agent's diff is kept apart from the record
            kept = store.artifacts(cell_id, result.identity.attempt)
            result = result.model_copy(update={"artifacts": kept})
    except CabError as e:
        fail(e)
    if result is None:
        fail(CabError(f"no result for cell {cell_id!r}; list cells with `cab results SWEEP_ID`"))
    wide_console().print(render_cell(result))


@app.command()
def doctor(broker: BrokerOpt = None, store: StoreOpt = None) -> None:
    """Check Docker, images, Redis and the result store; say how to fix what is missing."""
    checks = doctor_mod.run_checks(load_settings(connection(broker, store)))
    for check in checks:
        mark = "[green]ok  [/]" if check.ok else "[red]FAIL[/]"
        line = f"{mark} {check.name:<14} {check.detail}" + ("" if check.ok else f"  -> {check.fix}")
        console.print(line, soft_wrap=True, highlight=False)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command()
def reap(
    all_: Annotated[bool, typer.Option("--all", help="Remove every cab container on this host.")] = False,
) -> None:
    """Remove cab containers whose owning process is gone (orphans)."""
    from cab_workers.host.sandbox import Sandbox

    try:
        removed = Sandbox().reap(only_dead_owners=not all_)
    except CabError as e:
        fail(e)
    console.print(f"removed {len(removed)} containers" + (": " + ", ".join(removed) if removed else ""))


@app.command("endpoint")
def endpoint(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default 8400; with --model 8080).")
    ] = None,
    profile: Annotated[
        str, typer.Option(help="Server to sound like on the wire: openai, or llama-server (llama.cpp).")
    ] = "openai",
    model: Annotated[
        str | None,
        typer.Option(
            help="Serve this real local model instead (images/model-<name>/, e.g. gemma3-270m): built "
            "when missing, run until Ctrl-C; default port 8080."
        ),
    ] = None,
    slots: Annotated[int, typer.Option(min=1, help="With --model: requests served at once.")] = 2,
) -> None:
    """Serve an OpenAI-compatible endpoint until Ctrl-C: the scripted one (oracle, noop, sloppy,
    refuser, hang), or with --model a real local model server (llama.cpp's llama-server)."""
    if model is not None:
        from cab_cli.model_cmd import serve_model

        serve_model(load_settings(), model, host=host, port=port or 8080, slots=slots)
        return
    import uvicorn

    from cab_endpoint import create_app

    try:
        served = create_app(load_settings().tasks_dir, profile_name=profile)
    except CabError as e:
        fail(e)
    uvicorn.run(served, host=host, port=port or 8400, log_level="warning")


if __name__ == "__main__":  # pragma: no cover
    app()
