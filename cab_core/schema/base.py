"""What every record shares: the base class, the version constants and the name patterns."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1
"""Version of the stored result layout (``CellResult`` and its parts) and of ``TaskSpec``."""

SPEC_SCHEMA_VERSION = 2
"""Version of the ``SweepSpec`` and ``CellSpec`` layout. 2: the endpoint is a record told apart by
``kind`` and the sweep's policy one ``policy`` record. 1 (flat strings and six fields copied into
every cell) still loads: it is upgraded on validation and stamped 2."""

METHODOLOGY_VERSION = "cab-2026.12.1"
"""Version of how cells are run and scored; bumps whenever scoring config or pipeline semantics change."""

SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
"""Task categories and slugs, sweep ids."""
TAG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
"""Capability tags of worker hosts (cpu, gpu.h100, cpu.large)."""
MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$")
"""Model ids: what a cell id can carry."""


class Record(BaseModel):
    """Base of every record: unknown keys are an error, aliases and names both load."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FrozenRecord(BaseModel):
    """A record shared by many others (one sweep's policy in every cell): immutable once built."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
