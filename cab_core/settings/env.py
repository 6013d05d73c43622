"""Reading the settings tree from flat ``CAB_*`` environment variables, and saying where each came from.

Each field's variable is declared beside it (:class:`cab_core.settings.components.Env`); this module
walks the tree, so the names are written once. Names match case-insensitively, as pydantic-settings
does. A deprecated name is still read, with a :class:`DeprecationWarning`, when its successor is unset.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

from cab_core.settings.components import Component, Env

DEPRECATED = {"CAB_BROKER_URL": "CAB_REDIS_URL"}
"""Current variable -> the old name still read (with a warning) when the current one is unset."""


@dataclass(frozen=True)
class Leaf:
    """One setting: its place in the tree (``("broker", "url")`` or ``("home",)``) and its variable."""

    path: tuple[str, ...]
    env: Env
    info: FieldInfo

    @property
    def key(self) -> str:
        """Dotted name, e.g. ``broker.url``."""
        return ".".join(self.path)


def _envs(info: FieldInfo) -> list[Env]:
    return [m for m in info.metadata if isinstance(m, Env)]


def _component(info: FieldInfo) -> type[Component] | None:
    kind = info.annotation
    return kind if isinstance(kind, type) and issubclass(kind, Component) else None


def leaves(root: type[BaseModel]) -> Iterator[Leaf]:
    """Every setting of the tree rooted at ``root``, root fields first, in declaration order."""
    for name, info in root.model_fields.items():
        for env in _envs(info):
            yield Leaf((name,), env, info)
    for name, info in root.model_fields.items():
        component = _component(info)
        if component is None:
            continue
        for sub, sub_info in component.model_fields.items():
            for env in _envs(sub_info):
                yield Leaf((name, sub), env, sub_info)


@dataclass(frozen=True)
class EnvRead:
    """What the environment says: values to validate (nested like the tree) and each one's origin."""

    values: dict[str, Any]
    origins: dict[str, str]
    """Dotted key -> ``env CAB_X`` or ``deprecated CAB_OLD`` (absent: not set in the environment)."""
    deprecated: list[str]
    """Deprecated variables that were read, or set and ignored."""


def read_env(root: type[BaseModel], environ: Mapping[str, str]) -> EnvRead:
    """The values ``environ`` sets for the tree of ``root`` (no validation, no warning)."""
    upper = {k.upper(): v for k, v in environ.items()}
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    deprecated: list[str] = []
    for leaf in leaves(root):
        name, origin = leaf.env.name, f"env {leaf.env.name}"
        old = DEPRECATED.get(name)
        if old is not None and old in upper:
            deprecated.append(old)
            if name not in upper:
                name, origin = old, f"deprecated {old}"
        if name not in upper:
            continue
        target = values
        for part in leaf.path[:-1]:
            target = target.setdefault(part, {})
        target[leaf.path[-1]] = upper[name]
        origins[leaf.key] = origin
    return EnvRead(values, origins, deprecated)


def deprecation_message(old: str) -> str:
    new = next(n for n, o in DEPRECATED.items() if o == old)
    return f"{old} is deprecated: set {new} instead (it wins when both are set)"


class FlatEnvSource(PydanticBaseSettingsSource):
    """The pydantic-settings source of :class:`cab_core.settings.Settings`: flat variables, nested values."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the whole tree at once

    def __call__(self) -> dict[str, Any]:
        read = read_env(self.settings_cls, os.environ)
        for old in read.deprecated:
            warnings.warn(deprecation_message(old), DeprecationWarning, stacklevel=2)
        return read.values


def explain(error: ValidationError, root: type[BaseModel]) -> str:
    """A settings validation error as one line naming the variables to fix (values never echoed:
    one may hold a secret)."""
    names = {leaf.path: leaf.env.name for leaf in leaves(root)}
    parts = []
    for item in error.errors():
        loc = tuple(str(p) for p in item["loc"])
        parts.append(f"{names.get(loc, '.'.join(loc))}: {item['msg']}")
    return "invalid settings: " + "; ".join(parts)
