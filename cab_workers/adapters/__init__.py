"""TUI adapters, one module per TUI, and the registry that names them.

``ADAPTERS`` maps a TUI name (as sweeps spell it) to its adapter; ``get_adapter`` looks one up and
raises ``ConfigError`` for a name cab does not know. Adapters are pure, so one shared instance each.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from cab_core.errors import ConfigError
from cab_workers.adapters.base import Adapter, AgentLaunch, AgentReport, EndpointWiring
from cab_workers.adapters.reference import ReferenceAdapter

ADAPTERS: Mapping[str, Adapter] = MappingProxyType({a.name: a for a in (ReferenceAdapter(),)})
"""Every adapter cab ships, by TUI name (read-only)."""


def get_adapter(name: str) -> Adapter:
    """The adapter of TUI ``name``; ``ConfigError`` when cab has none."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise ConfigError(f"unknown TUI {name!r}; known: {', '.join(sorted(ADAPTERS))}") from None


__all__ = ["ADAPTERS", "Adapter", "AgentLaunch", "AgentReport", "EndpointWiring", "get_adapter"]
