"""What the site builder is given besides the store, and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TaskInfo:
    """A task as its page shows it; the CLI reads it from the task catalogue on the building host."""

    task_id: str
    """``category/slug``."""
    category: str
    language: str | None
    prompt: str
    validation: str
    """What ``cab tasks validate`` last concluded (valid, INVALID, stale, never), with its detail."""


@dataclass(frozen=True)
class BuildReport:
    """What one ``build_site`` call did."""

    out: Path
    cells: int
    """Cells on the site (the latest attempt of each)."""
    pages_written: int
    """Files written because their content changed (pages, badges, assets)."""
    pages_unchanged: int
    """Pages and badges kept because what they are built from is the same as at the last build."""
    seconds: float
