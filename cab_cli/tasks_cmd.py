"""`cab tasks list|validate`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cab_cli.common import console, fail, load_settings
from cab_core.errors import CabError
from cab_core.settings import Settings

if TYPE_CHECKING:
    from cab_workers.cell.taskcheck import TaskVerdict

tasks_app = typer.Typer(help="Inspect and validate the task catalog.", no_args_is_help=True)


@tasks_app.command("list")
def list_() -> None:
    """Every task with its language, runner and expected changes."""
    from cab_scheduler.catalog import TaskCatalog

    try:
        tasks = TaskCatalog(load_settings().tasks_dir).all()
    except CabError as e:
        fail(e)
    table = Table("task", "language", "runner", "expected changes", "refusal")
    for t in tasks:
        table.add_row(
            t.task_id,
            t.language,
            t.test_runner,
            ", ".join(t.expected_changes),
            "yes" if t.expected_refusal else "",
        )
    console.print(table)


@tasks_app.command("validate")
def validate(
    selectors: Annotated[
        list[str] | None, typer.Argument(help="Tasks (category/slug, category/*); default all.")
    ] = None,
    exploit: Annotated[
        list[str] | None, typer.Option("--exploit", help="Run only these ledger entries (repeatable).")
    ] = None,
    ledger: Annotated[bool, typer.Option("--ledger/--no-ledger", help="Run the exploit ledger.")] = True,
) -> None:
    """Prove each task: hidden tests fail on the work dir, pass with the reference, diff == expected,
    and no entry of the exploit ledger forges a pass."""
    from cab_endpoint.ledger import LEDGER

    unknown = sorted(set(exploit or []) - {e.name for e in LEDGER})
    if unknown:
        fail(f"unknown ledger entry {', '.join(unknown)}: `cab tasks ledger` lists them")
    settings = load_settings()
    try:
        table, verdicts = _check_tasks(settings, selectors or ["*"], exploit, ledger)
    except CabError as e:
        fail(e)
    console.print(table)
    if ledger:
        console.print(_ledger_table(verdicts))
    bad = sum(not v.ok for v in verdicts)
    if bad:
        fail(f"{bad} of {len(verdicts)} tasks failed validation", code=1)
    console.print(f"[green]all {len(verdicts)} tasks valid[/]")


def _check_tasks(
    settings: Settings, selectors: list[str], exploit: list[str] | None, ledger: bool
) -> tuple[Table, list[TaskVerdict]]:
    """Validate the selected tasks one after the other under a status line; one table row each."""
    from cab_scheduler.catalog import TaskCatalog
    from cab_workers.cell.taskcheck import check_task
    from cab_workers.host.images import ImageBuilder
    from cab_workers.host.sandbox import Sandbox

    catalog = TaskCatalog(settings.tasks_dir)
    tasks = catalog.resolve(selectors)
    sandbox = Sandbox()
    builder = ImageBuilder(
        sandbox, settings.images_dir, prefix=settings.image_prefix, ca_bundle=settings.ca_bundle
    )
    scorer = builder.ensure(["base"])[-1].tag
    table = Table("task", "fails before", "passes after", "diff == expected", "ledger held", "detail")
    verdicts = []
    with console.status("validating tasks") as status:
        for task in tasks:
            v = check_task(
                task,
                catalog.paths(task.task_id),
                sandbox,
                scorer,
                settings.cab_home.ensure(),
                exploits=exploit,
                ledger=ledger,
                progress=lambda what: status.update(f"validating {what}"),
            )
            verdicts.append(v)
            held = sum(e.held for e in v.exploits)
            shown = f"{held}/{len(v.exploits)}"
            table.add_row(
                task.task_id,
                _mark(v.fails_before),
                _mark(v.passes_after),
                _mark(v.diff_matches),
                shown if held == len(v.exploits) else f"[red]{shown}[/]",
                v.detail,
            )
    return table, verdicts


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
