"""`cab images build|list`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cab_cli.common import console, fail, load_settings
from cab_core.errors import CabError

images_app = typer.Typer(help="Build and list cab's images.", no_args_is_help=True)


@images_app.command("build")
def build(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="Images to build; default base and reference (`worker` and the TUIs, e.g. `opencode`, "
            "when named; `cab images list` names them all)."
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
    """Build missing images (content-addressed tags: unchanged images are not rebuilt)."""
    from cab_workers.host.images import ImageBuilder
    from cab_workers.host.sandbox import Sandbox

    settings = load_settings({"ca_bundle": ca_bundle})
    try:
        builder = ImageBuilder(
            Sandbox(),
            settings.images_dir,
            prefix=settings.image_prefix,
            ca_bundle=settings.ca_bundle,
            tasks_dir=settings.tasks_dir,
            wheelhouse=wheelhouse,
        )
        with console.status("building images") as status:

            def progress(msg: str) -> None:
                status.update(msg[:120])
                if (
                    ": built " in msg
                    or "up to date" in msg
                    or "created locally" in msg
                    or "pull failed" in msg
                ):
                    console.print(f"  {msg}")

            refs = builder.ensure(names or None, progress=progress)
    except CabError as e:
        fail(e)
    for ref in refs:
        console.print(f"[green]ok[/] {ref.name:<10} {ref.tag}  {ref.image_id}")


@images_app.command("list")
def list_() -> None:
    """Show every image cab builds, its content tag, whether it is built and whether a bare
    `cab images build` builds it (the others are built by name, e.g. `cab images build worker`)."""
    from cab_workers.host.images import ImageBuilder, describe
    from cab_workers.host.sandbox import Sandbox

    settings = load_settings()
    try:
        builder = ImageBuilder(
            Sandbox(), settings.images_dir, prefix=settings.image_prefix, tasks_dir=settings.tasks_dir
        )
        rows = describe(builder)
    except CabError as e:
        fail(e)
    table = Table("image", "version", "tag", "built", "image id (digest)", "default")
    for row in rows:
        default = "yes" if row["default"] == "true" else "by name"
        table.add_row(
            row["name"], row["version"] or "-", row["tag"], row["built"], row["image_id"] or "-", default
        )
    console.print(table)
