"""`cab tasks list|validate`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cab_cli.common import console, fail, settings_from_env
from cab_core.errors import CabError

tasks_app = typer.Typer(help="Inspect and validate the task catalog.", no_args_is_help=True)


@tasks_app.command("list")
def list_() -> None:
    """Every task with its language, runner and expected changes."""
    from cab_scheduler.catalog import TaskCatalog

    try:
        tasks = TaskCatalog(settings_from_env().tasks_dir).all()
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
) -> None:
    """Prove each task: hidden tests fail on the work dir, pass with the reference, diff == expected."""
    from cab_scheduler.catalog import TaskCatalog
    from cab_workers.images import ImageBuilder
    from cab_workers.sandbox import Sandbox
    from cab_workers.taskcheck import check_task

    settings = settings_from_env()
    try:
        catalog = TaskCatalog(settings.tasks_dir)
        tasks = catalog.resolve(selectors or ["*"])
        sandbox = Sandbox()
        scorer = (
            ImageBuilder(
                sandbox, settings.images_dir, prefix=settings.image_prefix, ca_bundle=settings.ca_bundle
            )
            .ensure(["base"])[-1]
            .tag
        )
        table = Table("task", "fails before", "passes after", "diff == expected", "detail")
        bad = 0
        with console.status("validating tasks") as status:
            for task in tasks:
                status.update(f"validating {task.task_id}")
                v = check_task(task, catalog.paths(task.task_id), sandbox, scorer, settings.cab_home.ensure())
                bad += not v.ok
                table.add_row(
                    task.task_id,
                    _mark(v.fails_before),
                    _mark(v.passes_after),
                    _mark(v.diff_matches),
                    v.detail,
                )
    except CabError as e:
        fail(e)
    console.print(table)
    if bad:
        fail(f"{bad} of {len(tasks)} tasks failed validation", code=1)
    console.print(f"[green]all {len(tasks)} tasks valid[/]")


def _mark(ok: bool) -> str:
    return "[green]yes[/]" if ok else "[red]NO[/]"
