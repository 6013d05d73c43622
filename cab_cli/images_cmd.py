"""`cab images build|list`: cab's images, and with ``--tasks`` the tasks' environment images and the
TUIs layered on them (``cab_workers.host.images``; what is built, pulled or cached is decided there)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cab_cli.common import console, fail, load_settings
from cab_core.errors import CabError
from cab_core.settings import Settings

if TYPE_CHECKING:
    from cab_workers.host.images import ImageBuilder, ImageRef

images_app = typer.Typer(help="Build and list cab's images.", no_args_is_help=True)

_SHOWN = (": built ", "up to date", "created locally", "pull failed", ": pulled ", ": pushed ", "push to ")
"""Progress lines worth a line of their own on the console; the rest only update the status line."""


def _builder(settings: Settings, wheelhouse: Path | None = None) -> ImageBuilder:
    from cab_workers.composition import host_image_builder
    from cab_workers.host.sandbox import Sandbox

    extra = {"tasks_dir": settings.tasks_dir} | ({"wheelhouse": wheelhouse} if wheelhouse else {})
    return host_image_builder(settings, Sandbox(), **extra)


@images_app.command("build")
def build(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Images to build; default base and reference (`worker` and the TUIs, e.g. `opencode`, "
            "when named; `cab images list` names them all). With --tasks: the TUIs to layer on each "
            "task's image (default: none).",
        ),
    ] = None,
    tasks: Annotated[
        str | None,
        typer.Option(
            "--tasks",
            help="Also build the environment images of these tasks (`polyglot/*`, `*`, a task id; "
            "comma-separated), and each named TUI on each of them.",
            show_default=False,
        ),
    ] = None,
    ca_bundle: Annotated[
        Path | None,
        typer.Option(
            "--ca-bundle",
            help="Extra CA bundle (PEM) for pip/npm/apt inside builds (default: CAB_CA_BUNDLE).",
            show_default=False,
        ),
    ] = None,
    wheelhouse: Annotated[
        Path | None,
        typer.Option(help="Folder of dependency wheels for the worker image, tried before the index."),
    ] = None,
) -> None:
    """Build missing images (content-addressed tags: unchanged images are not rebuilt; with
    CAB_IMAGE_REGISTRY set, pulled from there when it has them, and pushed there when built)."""
    settings = load_settings({"ca_bundle": ca_bundle})
    try:
        builder = _builder(settings, wheelhouse)
        if tasks is None:
            refs = _build_named(builder, names)
        else:
            refs = _build_for_tasks(builder, settings, tasks.split(","), names or [])
    except CabError as e:
        fail(e)
    for ref in refs:
        console.print(f"[green]ok[/] {ref.name:<10} {ref.tag}  {ref.image_id}  [dim]{ref.source}[/]")


def _build_named(builder: ImageBuilder, names: list[str] | None) -> list[ImageRef]:
    with console.status("building images") as status:
        return builder.ensure(names or None, progress=_reporter(status.update))


def _build_for_tasks(
    builder: ImageBuilder, settings: Settings, selectors: list[str], tuis: list[str]
) -> list[ImageRef]:
    """The selected tasks' environment images, then each of ``tuis`` on each of them, under a bar."""
    from cab_scheduler.catalog import TaskCatalog

    catalog = TaskCatalog(settings.tasks_dir)
    selected = [catalog.paths(t.task_id) for t in catalog.resolve([s for s in selectors if s.strip()])]
    with_env = [p for p in selected if p.has_environment]
    console.print(
        f"{len(selected)} tasks selected, {len(with_env)} with an environment; "
        f"TUIs on each: {', '.join(tuis) or 'none'}"
    )
    for name in tuis:
        builder.folder(name)  # an unknown TUI fails now, not after the first task's build
    refs = builder.ensure(["base"], progress=lambda m: None)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        job = bar.add_task("task images", total=len(with_env) * (1 + len(tuis)))
        report = _reporter(lambda msg: bar.update(job, description=msg[:90]), bar.console.print)
        for paths in with_env:
            task_ref = builder.ensure_task_image(paths, report)
            assert task_ref is not None, "has_environment was checked"
            refs.append(task_ref)
            bar.advance(job)
            for name in tuis:
                refs.append(builder.ensure_on(name, task_ref.tag, report))
                bar.advance(job)
    return refs


def _reporter(
    status: Callable[[str], object], echo: Callable[[str], object] = console.print
) -> Callable[[str], None]:
    """A progress callback: every line updates ``status``; milestones are also echoed."""

    def progress(msg: str) -> None:
        status(msg[:120])
        if any(marker in msg for marker in _SHOWN):
            echo(f"  {msg}")

    return progress


@images_app.command("list")
def list_() -> None:
    """Show every image cab builds, its content tag, whether it is built and which build makes it:
    a bare `cab images build`, by name (e.g. `cab images build worker`), or `--tasks` (the tasks'
    environment images)."""
    from cab_workers.host.images import describe

    settings = load_settings()
    try:
        rows = describe(_builder(settings))
    except CabError as e:
        fail(e)
    table = Table("image", "version", "tag", "built", "image id (digest)", "default")
    shown = {"true": "yes", "false": "by name", "task": "--tasks"}
    for row in rows:
        table.add_row(
            row["name"],
            row["version"] or "-",
            row["tag"],
            row["built"],
            row["image_id"] or "-",
            shown.get(row["default"] or "", "?"),
        )
    console.print(table)
