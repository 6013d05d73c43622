"""Helpers every command shares: consoles, settings, the store, one-line failures.

Each command reads the settings once (:func:`load_settings`), with its own flags applied on top, and
hands them down; nothing below a command reads the environment.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, NoReturn

import structlog
import typer
from pydantic import ValidationError
from rich.console import Console

from cab_core.errors import CabError, ConfigError
from cab_core.logging import configure
from cab_core.settings import Settings
from cab_core.settings.env import explain

if TYPE_CHECKING:
    from cab_core.store import ResultStore

console = Console()
err_console = Console(stderr=True)
log = structlog.get_logger(__name__)

BrokerOpt = Annotated[
    str | None,
    typer.Option("--broker", help="Redis broker URL (default: CAB_BROKER_URL).", show_default=False),
]
StoreOpt = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Result store URL (default: CAB_STORE_URL; PostgreSQL in distributed mode).",
        show_default=False,
    ),
]
EndpointCheckOpt = Annotated[
    bool,
    typer.Option(
        "--endpoint-check/--no-endpoint-check",
        help="Ask a remote endpoint for its models before anything is stored (off: a host that cannot "
        "reach an endpoint the workers can).",
    ),
]
CONNECTION_FLAGS = {"broker.url": "--broker", "store.url": "--store"}
"""Setting -> the flag that overrides it, for the commands that take ``--broker`` / ``--store``."""


def wide_console() -> Console:
    """Tables and cell pages need room; never narrower than 160 columns (pipes and CI logs too)."""
    return Console(width=max(console.width, 160))


def load_settings(flags: Mapping[str, object] | None = None) -> Settings:
    """Read the settings once (``CAB_*``), apply the command's ``flags`` on top (dotted setting ->
    value; None: flag not given), and route logs to ``$CAB_HOME/logs/cab.log``.

    A value that does not validate is one error line; a deprecated variable one warning line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        try:
            settings = Settings().override(flags or {})
        except ValidationError as e:
            fail(ConfigError(explain(e, Settings)))
    configure(settings.cab_home.logs / "cab.log")
    for w in caught:
        if issubclass(w.category, DeprecationWarning):
            err_console.print(f"[yellow]warning:[/] {w.message}", highlight=False, soft_wrap=True)
            log.info("deprecated_setting", message=str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return settings


def connection(broker: str | None, store: str | None) -> dict[str, object]:
    """The ``--broker`` / ``--store`` flags as settings overrides."""
    return {"broker.url": broker, "store.url": store}


def store_for(settings: Settings) -> ResultStore:
    from cab_core.store import ResultStore

    store = ResultStore(settings.resolved_store_url)
    store.create_schema()
    return store


def fail(error: CabError | str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit; nothing else happens after bad input."""
    err_console.print(f"[red]error:[/] {error}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
