"""``cab site build`` and ``cab site serve``: the results of one or more sweeps as a static website
(leaderboard, cell pages with terminal playback, task pages, badges), built from the result store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cab_cli.common import console, fail, load_settings, store_for
from cab_core.errors import CabError
from cab_core.settings import Settings

if TYPE_CHECKING:
    from cab_core.store import ResultStore
    from cab_site.model import BuildReport, TaskInfo

site_app = typer.Typer(
    help="Static website of sweep results: leaderboard, cell pages, badges.", no_args_is_help=True
)

DEFAULT_OUT = "site"
"""Under CAB_HOME, when no -o is given."""


def task_infos(settings: Settings, task_ids: set[str]) -> dict[str, TaskInfo]:
    """Prompt, language and validation state of the tasks this host's catalogue holds."""
    from cab_core.task_bundle import content_hash
    from cab_scheduler.catalog import TaskCatalog
    from cab_site.model import TaskInfo
    from cab_workers.taskci.validation_state import ValidationLog, state_of

    catalog = TaskCatalog(settings.tasks_dir)
    known = set(catalog.task_ids())
    log = ValidationLog(settings.cab_home.root / "validation")
    infos: dict[str, TaskInfo] = {}
    for task_id in sorted(task_ids & known):
        spec = catalog.load(task_id)
        record = log.load(task_id)
        state = state_of(record, content_hash(catalog.paths(task_id).root)).value
        detail = f" ({record.detail}, {record.validated_at:%Y-%m-%d})" if record and state != "never" else ""
        infos[task_id] = TaskInfo(task_id, spec.category, spec.language, spec.prompt, state + detail)
    return infos


def vendor_files(settings: Settings) -> dict[str, Path]:
    """The pinned terminal player's files by asset name (fetched once per host when missing)."""
    from cab_site.vendor import player_assets

    return player_assets(settings.cab_home.vendor)


def build(
    settings: Settings, store: ResultStore, sweep_ids: list[str], out: Path, *, quiet: bool = False
) -> BuildReport:
    """Build with a progress bar (none when ``quiet``: the live rebuilds of ``cab site serve``)."""
    from cab_site.build import build_site

    vendor = vendor_files(settings)

    def tasks(task_ids: set[str]) -> dict[str, TaskInfo]:
        return task_infos(settings, task_ids)

    if quiet:
        return build_site(store, sweep_ids, out, tasks=tasks, vendor=vendor)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        job = bar.add_task("site", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(job, description=stage, completed=done, total=total)

        return build_site(store, sweep_ids, out, tasks=tasks, vendor=vendor, progress=progress)


def _out(settings: Settings, output: Path | None) -> Path:
    return (output or settings.cab_home.root / DEFAULT_OUT).resolve()


@site_app.command("build")
def build_cmd(
    sweep_ids: Annotated[
        list[str], typer.Argument(help="Sweep ids; their cells are pooled on one leaderboard.")
    ],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Folder; default $CAB_HOME/site.")
    ] = None,
) -> None:
    """Write the site of the sweeps (again: only what changed since the last build)."""
    settings = load_settings()
    out = _out(settings, output)
    try:
        report = build(settings, store_for(settings), sweep_ids, out)
    except CabError as e:
        fail(e)
    console.print(
        f"site of {', '.join(sweep_ids)}: {report.cells} cells, {report.pages_written} files written, "
        f"{report.pages_unchanged} kept as they were, in {report.seconds:.1f} s"
    )
    console.print(f"  open  file://{out / 'index.html'}", soft_wrap=True, highlight=False)
    console.print(f"  or    cab site serve {out}", soft_wrap=True, highlight=False)


@site_app.command("serve")
def serve_cmd(
    directory: Annotated[Path | None, typer.Argument(help="Site folder; default $CAB_HOME/site.")] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    live: Annotated[
        list[str] | None,
        typer.Option("--live", help="Sweep id to rebuild as its cells land (repeat for several)."),
    ] = None,
) -> None:
    """Serve a built site on localhost; with --live, rebuild it as a running sweep's cells land."""
    from cab_site.live import LiveSource
    from cab_site.serve import serve

    settings = load_settings()
    out = _out(settings, directory)
    try:
        source = None
        if live:
            store = store_for(settings)
            build(settings, store, live, out)
            source = LiveSource(store, live, lambda: build(settings, store, live, out, quiet=True))
        elif not (out / "index.html").is_file():
            raise CabError(f"{out} holds no site; build one with `cab site build SWEEP -o {out}`")
        serve(
            out, host=host, port=port, live=source, announce=lambda line: console.print(line, soft_wrap=True)
        )
    except CabError as e:
        fail(e)
