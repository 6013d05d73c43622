"""TUI adapters, one module per TUI, and the registry that names them.

Each adapter module ``cab_workers/adapters/<tui>.py`` defines ``ADAPTER``, one instance of its
adapter class; ``ADAPTERS`` maps the TUI name (as sweeps spell it) to it, found by scanning this
package, so a new TUI is one new module (plus its image under ``images/``). ``get_adapter`` raises
``ConfigError`` for a name cab does not know. Adapters are pure, so one shared instance each.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from cab_core.errors import ConfigError
from cab_workers.adapters.base import Adapter, AgentLaunch, AgentReport, EndpointWiring


def _discover() -> dict[str, Adapter]:
    found: dict[str, Adapter] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        adapter = getattr(importlib.import_module(f"{__name__}.{module}"), "ADAPTER", None)
        if adapter is not None:
            if adapter.name in found:
                raise RuntimeError(f"two adapters are named {adapter.name!r}")
            found[adapter.name] = adapter
    return found


ADAPTERS: Mapping[str, Adapter] = MappingProxyType(_discover())
"""Every adapter cab ships, by TUI name (read-only)."""


def get_adapter(name: str) -> Adapter:
    """The adapter of TUI ``name``; ``ConfigError`` when cab has none."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise ConfigError(f"unknown TUI {name!r}; known: {', '.join(sorted(ADAPTERS))}") from None


__all__ = ["ADAPTERS", "Adapter", "AgentLaunch", "AgentReport", "EndpointWiring", "get_adapter"]
