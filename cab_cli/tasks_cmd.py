"""`cab tasks list|validate`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cab_cli.common import console, fail, load_settings
from cab_core.errors import CabError
from cab_core.settings import Settings

if TYPE_CHECKING:
    from cab_core.paths import TaskPaths
    from cab_workers.taskci.task_ci import CiOptions, TaskReport
    from cab_workers.taskci.taskcheck import TaskVerdict

tasks_app = typer.Typer(help="Inspect and validate the task catalog.", no_args_is_help=True)


@tasks_app.command("list")
def list_() -> None:
    """Every task with its language, category, runner, environment and validation state."""
    from cab_core.task_bundle import content_hash
    from cab_scheduler.catalog import TaskCatalog
    from cab_workers.taskci.validation_state import ValidationLog, state_of

    settings = load_settings()
    try:
        catalog = TaskCatalog(settings.tasks_dir)
        tasks = catalog.all()
        environments = _environments(settings, [catalog.paths(t.task_id) for t in tasks])
    except CabError as e:
        fail(e)
    log = ValidationLog(settings.cab_home.root / "validation")
    table = Table("task", "language", "category", "runner", "environment", "validation", "refusal")
    for t, env in zip(tasks, environments, strict=True):
        state = state_of(log.load(t.task_id), content_hash(catalog.paths(t.task_id).root))
        table.add_row(
            t.task_id,
            t.language,
            t.category,
            t.test_runner,
            env,
            _STATE_STYLE.get(state.value, "{}").format(state.value),
            "yes" if t.expected_refusal else "",
        )
    console.print(table)


_STATE_STYLE = {"valid": "[green]{}[/]", "INVALID": "[red]{}[/]", "stale": "[yellow]{}[/]"}


def _environments(settings: Settings, paths: list[TaskPaths]) -> list[str]:
    """ "no", or "yes" plus the task image's short tag when that image is built on this host (Docker
    is asked only when some task has an environment, and its absence leaves the tag out)."""
    if not any(p.has_environment for p in paths):
        return ["no"] * len(paths)
    from cab_workers.composition import host_image_builder
    from cab_workers.host.sandbox import Sandbox

    try:
        builder = host_image_builder(settings, Sandbox())
        refs = [builder.task_ref(p) for p in paths]
    except CabError:
        return ["yes" if p.has_environment else "no" for p in paths]
    return ["no" if r is None else f"yes {r.tag.rsplit(':', 1)[-1]}" if r.built else "yes" for r in refs]


@tasks_app.command("validate")
def validate(
    selectors: Annotated[
        list[str] | None, typer.Argument(help="Tasks (category/slug, category/*); default all.")
    ] = None,
    exploit: Annotated[
        list[str] | None, typer.Option("--exploit", help="Run only these ledger entries (repeatable).")
    ] = None,
    ledger: Annotated[bool, typer.Option("--ledger/--no-ledger", help="Run the exploit ledger.")] = True,
    flake: Annotated[
        int,
        typer.Option("--flake", min=1, help="Runs of the solution's hidden tests; any failure is a flake."),
    ] = 5,
    pipeline: Annotated[
        bool,
        typer.Option(
            "--pipeline/--no-pipeline", help="Run the oracle and noop cells through the real pipeline."
        ),
    ] = True,
) -> None:
    """Prove each task: its environment builds from the package registries, hidden tests fail on the
    work dir and pass with the reference every one of --flake runs, diff == expected, no entry of
    the exploit ledger forges a pass, and the oracle cell passes and the noop cell fails. Each
    outcome is recorded under CAB_HOME/validation (`cab tasks list` shows it)."""
    from cab_endpoint.ledger import LEDGER
    from cab_scheduler.catalog import TaskCatalog
    from cab_workers.taskci.task_ci import CiOptions, run_task_ci

    unknown = sorted(set(exploit or []) - {e.name for e in LEDGER})
    if unknown:
        fail(f"unknown ledger entry {', '.join(unknown)}: `cab tasks ledger` lists them")
    settings = load_settings()
    options = CiOptions(exploits=exploit, ledger=ledger, flake_runs=flake, pipeline=pipeline)
    try:
        tasks = TaskCatalog(settings.tasks_dir).resolve(selectors or ["*"])
        with console.status("validating tasks") as status:
            reports = run_task_ci(
                settings, tasks, options, lambda what: status.update(f"validating {what}"[:160])
            )
    except CabError as e:
        fail(e)
    console.print(_validate_table(reports, options))
    verdicts = [r.tests for r in reports if r.tests is not None]
    if ledger and verdicts:
        console.print(_ledger_table(verdicts))
    bad = sum(not r.ok for r in reports)
    if bad:
        fail(f"{bad} of {len(reports)} tasks failed validation", code=1)
    console.print(f"[green]all {len(reports)} tasks valid[/]")


def _validate_table(reports: list[TaskReport], options: CiOptions) -> Table:
    """One row per task: each check, the flake rate, the wall time, and what failed."""
    columns = ["task", "environment", "fails before", "passes after", "flake rate", "diff == expected"]
    columns += ["ledger held"] if options.ledger else []
    columns += ["oracle / noop"] if options.pipeline else []
    table = Table(*columns, "time", "detail")
    for r in reports:
        env = r.environment
        cells = [r.task.task_id, "-" if not env.present else _mark(env.ok)]
        v = r.tests
        if v is None:
            cells += ["-", "-", "-", "-"] + (["-"] if options.ledger else [])
        else:
            rate = f"{v.flake_rate:.2f} ({v.solution_failures}/{v.solution_runs})"
            cells += [
                _mark(v.fails_before),
                _mark(v.passes_after),
                rate if not v.solution_failures else f"[red]{rate}[/]",
            ]
            cells.append(_mark(v.diff_matches))
            if options.ledger:
                held = sum(e.held for e in v.exploits)
                shown = f"{held}/{len(v.exploits)}"
                cells.append(shown if held == len(v.exploits) else f"[red]{shown}[/]")
        if options.pipeline:
            cells.append("-" if r.pipeline is None else _mark(r.pipeline.ok))
        table.add_row(*cells, f"{r.duration_s:.1f}s", r.detail)
    return table


@tasks_app.command("ledger")
def ledger_() -> None:
    """The exploit ledger: each entry, the runners it applies to, and what its pass of 0 proves."""
    from cab_endpoint.ledger import LEDGER

    table = Table("entry (model scripted/forge-<entry>)", "runners", "a pass of 0 proves")
    for e in LEDGER:
        table.add_row(e.name, ", ".join(e.runners), e.proves)
    console.print(table)


def _ledger_table(verdicts: list[TaskVerdict]) -> Table:
    """Ledger entry x task: held (pass 0), PASSES (forged), or - (does not apply)."""
    names = sorted({e.name for v in verdicts for e in v.exploits})
    table = Table(
        "ledger entry", *(v.task_id for v in verdicts), title="exploit ledger (pass of a forged work dir)"
    )
    for name in names:
        row = []
        for v in verdicts:
            hit = next((e for e in v.exploits if e.name == name), None)
            row.append("-" if hit is None else "[green]0 held[/]" if hit.held else "[red]1 PASSES[/]")
        table.add_row(name, *row)
    return table


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]NO[/]"


from cab_cli.mutate_cmd import mutate  # noqa: E402  (the mutation generator has its own module)

tasks_app.command("mutate")(mutate)
