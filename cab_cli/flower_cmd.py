"""`cab flower`: Flower on cab's own Celery app, with HTTP basic auth on by default.

Flower is started through Celery's command machinery (``app.start(["flower", ...])``, the same path
as ``celery flower``), bound to the app :func:`cab_scheduler.celery_app.make_celery` builds, so it
reads the broker with the same serialisation and visibility timeout as every worker.

Auth policy:

* credentials come from ``CAB_FLOWER_BASIC_AUTH`` (``user:password``), never from argv, so they do
  not show in ``ps``; they are handed to Flower in-process and never printed;
* without them the command refuses (exit 2) unless ``--no-auth`` is given, which prints a warning;
* ``FLOWER_UNAUTHENTICATED_API`` is removed from the environment, so the REST API needs the same
  credentials as the UI (and stays closed entirely under ``--no-auth``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Annotated

import typer

from cab_cli.common import err_console, fail, settings_from_env
from cab_cli.distributed_cmd import BrokerOpt
from cab_core.errors import CabError

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
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5555,
    address: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    broker: BrokerOpt = None,
    no_auth: Annotated[
        bool,
        typer.Option(
            "--no-auth", help=f"Serve the UI without authentication (unsafe; default needs {AUTH_ENV})."
        ),
    ] = False,
    purge_offline_workers_s: Annotated[
        int, typer.Option(help="Forget workers that have been offline this long.")
    ] = 600,
) -> None:
    """Run Flower (the Celery web UI) on cab's broker; basic auth from CAB_FLOWER_BASIC_AUTH."""
    from cab_scheduler.celery_app import make_celery

    raw = os.environ.get(AUTH_ENV, "")
    auth: BasicAuth | None = None
    if raw:
        try:
            auth = parse_basic_auth(raw)
        except CabError as e:
            fail(e)
    elif not no_auth:
        fail(CabError(f"set {AUTH_ENV}=user:password for Flower's basic auth, or pass --no-auth to run open"))
    settings = settings_from_env()
    os.environ.pop(UNAUTHENTICATED_API_ENV, None)
    url = broker or settings.redis_url
    if auth is None:
        err_console.print(
            f"[bold red]WARNING: Flower runs WITHOUT authentication on {address}:{port}; anyone who can "
            f"reach it can see every cell and control workers. Set {AUTH_ENV} to protect it. "
            "(The REST API stays closed.)[/]",
            highlight=False,
            soft_wrap=True,
        )
    else:
        err_console.print(
            f"flower on http://{address}:{port} (basic auth as user {auth.user!r})",
            highlight=False,
            soft_wrap=True,
        )
    app = make_celery(url, visibility_timeout_s=settings.visibility_timeout_s)
    argv = flower_argv(port=port, address=address, auth=auth, purge_offline_workers_s=purge_offline_workers_s)
    try:
        code = app.start(argv=argv)
    except OSError as e:
        fail(CabError(f"flower cannot serve on {address}:{port}: {e.strerror or e}"))
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(flower)
