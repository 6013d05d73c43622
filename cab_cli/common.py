"""Helpers every command shares: consoles, settings, the store, one-line failures."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

from cab_core.errors import CabError
from cab_core.logging import configure
from cab_core.settings import Settings

console = Console()
err_console = Console(stderr=True)


def wide_console() -> Console:
    """Tables and cell pages need room; never narrower than 160 columns (pipes and CI logs too)."""
    return Console(width=max(console.width, 160))


def settings_from_env() -> Settings:
    """Read settings once (``CAB_*``) and route logs to ``$CAB_HOME/logs/cab.log``."""
    settings = Settings()
    configure(settings.cab_home.logs / "cab.log")
    return settings


def store_for(settings: Settings):  # noqa: ANN201 - ResultStore, imported lazily
    from cab_core.store import ResultStore

    store = ResultStore(settings.resolved_store_url)
    store.create_schema()
    return store


def fail(error: CabError | str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit; nothing else happens after bad input."""
    err_console.print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
