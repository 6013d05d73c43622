"""What ``cab config`` prints: every effective setting, grouped by component, and where it came from.

    broker
      url                   redis://:***@broker:6379/0   env CAB_BROKER_URL
      visibility_timeout_s  21600                        default (CAB_VISIBILITY_TIMEOUT_S)

A source is ``default (VAR)``, ``env VAR``, ``flag --name`` or ``deprecated VAR``. A secret's value
is never shown: a password inside a URL reads ``***``, a credential reads ``user:***`` or ``***``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, SecretStr

from cab_core.masking import MASK, mask_url
from cab_core.settings.env import DEPRECATED, leaves, read_env

ROOT_GROUP = "paths"
"""The group name of the settings at the root of the tree (home, tasks_dir, ...)."""


@dataclass(frozen=True)
class SettingLine:
    """One effective setting as ``cab config`` shows it."""

    group: str
    name: str
    value: str
    """The value as text; a secret is masked."""
    source: str


def mask_secret(value: object) -> str:
    """A secret setting as text that reveals no secret: URLs keep all but their password."""
    if value is None:
        return "(not set)"
    if isinstance(value, SecretStr):
        user, sep, _ = value.get_secret_value().partition(":")
        return f"{user}:{MASK}" if sep and user else MASK
    text = str(value)
    return mask_url(text) if "://" in text else MASK


def _show(value: object) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def describe(settings: BaseModel, environ: Mapping[str, str], flags: Mapping[str, str]) -> list[SettingLine]:
    """Every setting of ``settings`` with its source; ``flags`` maps dotted keys to the flag that set them
    (only flags that were given)."""
    origins = read_env(type(settings), environ).origins
    lines = []
    for leaf in leaves(type(settings)):
        value: object = settings
        for part in leaf.path:
            value = getattr(value, part)
        source = (
            f"flag {flags[leaf.key]}"
            if leaf.key in flags
            else origins.get(leaf.key, f"default ({leaf.env.name})")
        )
        group = leaf.path[0] if len(leaf.path) > 1 else ROOT_GROUP
        shown = mask_secret(value) if leaf.env.secret else _show(value)
        lines.append(SettingLine(group, leaf.path[-1], shown, source))
    return lines


def unknown_variables(settings: type[BaseModel], environ: Mapping[str, str]) -> list[str]:
    """Names of set ``CAB_*`` variables that no setting reads (typos, or another tool's); never values."""
    known = {leaf.env.name for leaf in leaves(settings)} | set(DEPRECATED.values())
    return sorted(k for k in environ if k.upper().startswith("CAB_") and k.upper() not in known)
