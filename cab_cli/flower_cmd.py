"""`cab flower`: Flower on cab's own Celery app, with HTTP basic auth on by default.

Flower is started through Celery's command machinery (``app.start(["flower", ...])``, the same path
as ``celery flower``), bound to the app :func:`cab_scheduler.celery_app.make_celery` builds, so it
reads the broker with the same serialisation and visibility timeout as every worker.

Auth policy:

* credentials come from ``CAB_FLOWER_BASIC_AUTH`` (``user:password``, read with the other settings),
  never from argv, so they do not show in ``ps``; they are handed to Flower in-process and never
  printed (``cab config`` shows ``user:***``);
* without them the command refuses (exit 2) unless ``--no-auth`` is given, which prints a warning;
* ``FLOWER_UNAUTHENTICATED_API`` is removed from the environment, so the REST API needs the same
  credentials as the UI (and stays closed entirely under ``--no-auth``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated

import typer

from cab_cli.common import BrokerOpt, err_console, fail, load_settings
from cab_core.errors import CabError
from cab_core.settings import FlowerSettings

AUTH_ENV = "CAB_FLOWER_BASIC_AUTH"
"""Environment variable holding ``user:password`` for Flower's basic auth."""

UNAUTHENTICATED_API_ENV = "FLOWER_UNAUTHENTICATED_API"
"""Flower's switch that opens the REST API without auth; cab always removes it."""

TASK_COLUMNS = "name,args,kwargs,state,received,runtime,worker"
"""Columns of Flower's /tasks page: args and kwargs carry the cell id and its axes (see dispatch)."""


@dataclass(frozen=True)
class BasicAuth:
    """One ``user:password`` credential; ``repr`` and ``str`` never show the password."""

    user: str
    password: str

    @property
    def flower_value(self) -> str:
        return f"{self.user}:{self.password}"

    def __repr__(self) -> str:
        return f"BasicAuth(user={self.user!r}, password=***)"

    __str__ = __repr__


def parse_basic_auth(raw: str) -> BasicAuth:
    """``user:password`` -> :class:`BasicAuth`; errors say what to fix and never echo the value."""
    user, sep, password = raw.partition(":")
    if not sep or not user or not password:
        raise CabError(f"{AUTH_ENV} must be 'user:password' with both parts non-empty")
    if "," in raw:
        # Flower splits its basic_auth option on commas into several credentials.
        raise CabError(f"{AUTH_ENV} must not contain ',' (Flower would split it into several credentials)")
    if any(c.isspace() for c in user):
        raise CabError(f"{AUTH_ENV}: the user name must not contain whitespace")
    return BasicAuth(user, password)


def flower_argv(
    *, port: int, address: str, auth: BasicAuth | None, purge_offline_workers_s: int
) -> list[str]:
    """Arguments of ``celery flower`` for cab (the password is in here: never log this list)."""
    argv = [
        "flower",
        f"--port={port}",
        f"--address={address}",
        "--persistent=False",
        f"--purge_offline_workers={purge_offline_workers_s}",
        f"--tasks_columns={TASK_COLUMNS}",
    ]
    if auth is not None:
        argv.append(f"--basic_auth={auth.flower_value}")
    return argv


def flower(
    port: Annotated[
        int | None,
        typer.Option(help="Port to listen on (default: CAB_FLOWER_PORT, 5555).", show_default=False),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            help="Address to listen on (default: CAB_FLOWER_ADDRESS, 127.0.0.1).", show_default=False
        ),
    ] = None,
    broker: BrokerOpt = None,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth", help=f"Serve the UI without authentication (unsafe; default needs {AUTH_ENV})."
        ),
    ] = False,
    purge_offline_workers_s: Annotated[
        int | None,
        typer.Option(
            help="Forget workers offline this long (default: CAB_FLOWER_PURGE_OFFLINE_S, 600).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run Flower (the Celery web UI) on cab's broker; basic auth from CAB_FLOWER_BASIC_AUTH."""
    from cab_scheduler.celery_app import make_celery

    settings = load_settings(
        {
            "broker.url": broker,
            "flower.port": port,
            "flower.address": address,
            "flower.purge_offline_workers_s": purge_offline_workers_s,
        }
    )
    config = settings.flower
    auth = _auth(config, no_auth)
    os.environ.pop(UNAUTHENTICATED_API_ENV, None)
    where = f"{config.address}:{config.port}"
    _say_how_it_is_served(where, auth)
    app = make_celery(settings.broker)
    argv = flower_argv(
        port=config.port,
        address=config.address,
        auth=auth,
        purge_offline_workers_s=config.purge_offline_workers_s,
    )
    try:
        code = app.start(argv=argv)
    except OSError as e:
        fail(CabError(f"flower cannot serve on {where}: {e.strerror or e}"))
    if code:
        raise typer.Exit(code)


def _auth(config: FlowerSettings, no_auth: bool) -> BasicAuth | None:
    """The credential from ``CAB_FLOWER_BASIC_AUTH``; without one, refuse unless ``--no-auth``."""
    raw = config.basic_auth.get_secret_value() if config.basic_auth else ""
    if raw:
        try:
            return parse_basic_auth(raw)
        except CabError as e:
            fail(e)
    if not no_auth:
        fail(CabError(f"set {AUTH_ENV}=user:password for Flower's basic auth, or pass --no-auth to run open"))
    return None


def _say_how_it_is_served(where: str, auth: BasicAuth | None) -> None:
    if auth is None:
        err_console.print(
            f"[bold red]WARNING: Flower runs WITHOUT authentication on {where}; anyone who can "
            f"reach it can see every cell and control workers. Set {AUTH_ENV} to protect it. "
            "(The REST API stays closed.)[/]",
            highlight=False,
            soft_wrap=True,
        )
    else:
        err_console.print(
            f"flower on http://{where} (basic auth as user {auth.user!r})", highlight=False, soft_wrap=True
        )


def register(app: typer.Typer) -> None:
    app.command()(flower)
