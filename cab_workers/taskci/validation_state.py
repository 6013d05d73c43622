"""What ``cab tasks validate`` last concluded about each task, kept under ``CAB_HOME``::

    $CAB_HOME/validation/
    └── <category>/<slug>.json     one ValidationRecord: the task's content hash, the result, ...

A record belongs to the task content it was made for (``cab_core.task_bundle.content_hash``): once
the folder changes, the record is *stale*, whatever it said. :func:`state_of` is the one rule; ``cab
tasks list`` shows it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

VALIDATION_SCHEMA_VERSION = 1


class ValidationState(StrEnum):
    """How a task stands, as ``cab tasks list`` prints it."""

    valid = "valid"
    invalid = "INVALID"
    stale = "stale"
    """Validated, but the task's content changed since."""
    never = "never"


class ValidationRecord(BaseModel):
    """One validation run of one task."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int = VALIDATION_SCHEMA_VERSION
    task_id: str = Field(description="category/slug.")
    task_hash: str = Field(description="Content hash of the task folder that was validated.")
    result: Literal["valid", "invalid"]
    flake_rate: float | None = Field(
        None, description="Failed runs / runs of the solution's hidden tests; None when not measured."
    )
    flake_runs: int = Field(0, description="How many times the solution's hidden tests ran.")
    checks: list[str] = Field(
        default_factory=list, description="Checks that ran: tests, flake, ledger, pipeline, environment."
    )
    detail: str = Field("", description="Why it failed, or 'ok'.")
    duration_s: float = Field(0.0, description="Wall time of the task's validation.")
    validated_at: datetime = Field(description="When it ran (UTC).")
    cab_version: str = Field(description="cab's version that ran it.")


def cab_version() -> str:
    try:
        return version("cab")
    except PackageNotFoundError:
        return "unknown"


def now() -> datetime:
    return datetime.now(UTC)


def state_of(record: ValidationRecord | None, task_hash: str) -> ValidationState:
    """never (no record), stale (recorded for other content), else valid or INVALID as recorded."""
    if record is None:
        return ValidationState.never
    if record.task_hash != task_hash:
        return ValidationState.stale
    return ValidationState.valid if record.result == "valid" else ValidationState.invalid


class ValidationLog:
    """The records under ``<root>`` (``$CAB_HOME/validation``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, task_id: str) -> Path:
        category, _, slug = task_id.partition("/")
        return self.root / category / f"{slug}.json"

    def load(self, task_id: str) -> ValidationRecord | None:
        """The task's record; None when there is none or it cannot be read (then it counts as never)."""
        try:
            return ValidationRecord.model_validate(json.loads(self.path(task_id).read_text()))
        except (OSError, ValueError, ValidationError):
            return None

    def save(self, record: ValidationRecord) -> Path:
        """Write ``record`` atomically (a reader never sees half a file)."""
        path = self.path(record.task_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(record.model_dump_json(indent=2) + "\n")
        tmp.replace(path)
        return path
