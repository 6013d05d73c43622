"""`cab config`: the effective settings, one per line, grouped by component, and where each came from.

The values are the ones every other command reads (the same ``Settings``, the same flags); a source
is ``default (VAR)``, ``env VAR``, ``flag --name`` or ``deprecated VAR``. Secrets (the Flower
credential, passwords inside the store and broker URLs) are masked; ``CAB_*`` variables that no
setting reads are listed by name only (a typo shows up here), never with their values.
"""

from __future__ import annotations

import os

import typer

from cab_cli.common import CONNECTION_FLAGS, BrokerOpt, StoreOpt, connection, load_settings
from cab_core.settings import Settings
from cab_core.settings.report import SettingLine, describe, unknown_variables


def format_lines(lines: list[SettingLine]) -> list[str]:
    """A header per group, then ``name  value  source`` in aligned columns (``lines`` come grouped)."""
    name_w = max(len(line.name) for line in lines)
    value_w = min(max(len(line.value) for line in lines), 60)
    out: list[str] = []
    group = None
    for line in lines:
        if line.group != group:
            group = line.group
            out.append(group)
        out.append(f"  {line.name:<{name_w}}  {line.value:<{value_w}}  {line.source}")
    return out


def config(broker: BrokerOpt = None, store: StoreOpt = None) -> None:
    """Print the effective settings and where each came from (default, env var, flag); secrets masked."""
    flags = connection(broker, store)
    settings = load_settings(flags)
    given = {key: CONNECTION_FLAGS[key] for key, value in flags.items() if value is not None}
    for row in format_lines(describe(settings, os.environ, given)):
        typer.echo(row)
    unknown = unknown_variables(Settings, os.environ)
    if unknown:
        typer.echo(f"\nset but not cab settings (values not shown): {', '.join(unknown)}")


def register(app: typer.Typer) -> None:
    app.command()(config)
