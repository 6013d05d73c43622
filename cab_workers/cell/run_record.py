"""The record of one cell attempt, as the pipeline's phases fill it in (``cab_workers.cell.pipeline``).

``CellRun`` is the one mutable record: every field the ``CellResult`` needs, set as soon as a phase
learns it, so that ``finish`` can write a result whatever phase failed. Between phases, frozen values
name the states that exist (never a ``None`` that a later phase must assume away)::

    Baseline      the work dir's manifest before the agent ran
    AgentOutcome  the agent container's run, the adapter's report, the model exchanges
    Restored      an earlier delivery's Baseline and AgentOutcome, from its checkpoint
    Prepared      what ``prepare`` hands on: the adapter, the task's folder, the baseline, and a
                  Restored when the agent already ran (then the cell is only rescored)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from structlog.typing import FilteringBoundLogger

from cab_core.paths import CabHome, CellPaths, TaskPaths, safe_name
from cab_core.schema import Artifact, Axes, CellSpec, Exchange, Failure
from cab_workers.adapters.base import Adapter, AgentReport
from cab_workers.cell.ports import CellImages, ModelSession
from cab_workers.cell.snapshot import Manifest
from cab_workers.cell.tracing import Tracer
from cab_workers.host.sandbox import ContainerRun


@dataclass(frozen=True)
class Baseline:
    """The work dir before the agent ran, hashed on the host (``snapshot.manifest``)."""

    files: Manifest
    git_dirs: list[str]
    """Nested ``.git`` folders."""


@dataclass(frozen=True)
class AgentOutcome:
    """What the agent's run left, besides the work dir."""

    run: ContainerRun
    report: AgentReport
    """The adapter's report, with the proxy's calls and the model's words when it recorded them."""
    exchanges: list[Exchange]
    """The model calls' bytes, as the proxy recorded them (for replay)."""


@dataclass(frozen=True)
class Restored:
    """An earlier delivery's agent run, restored from its checkpoint: the cell is only rescored."""

    from_attempt: int
    baseline: Baseline
    outcome: AgentOutcome
    meta: dict[str, Any]
    """The checkpoint's JSON; its classification is read when the run is rescored."""


@dataclass(frozen=True)
class Prepared:
    """What the prepare phase hands to the next ones."""

    adapter: Adapter
    task_paths: TaskPaths
    baseline: Baseline
    restored: Restored | None
    """Set when the agent already ran in an earlier delivery."""


def _no_report() -> AgentReport:
    return AgentReport(model_calls=[], transcript="")


@dataclass
class CellRun:
    """One attempt of one cell, filled in phase by phase; ``finish`` turns it into its CellResult."""

    cell: CellSpec
    attempt: int
    paths: CellPaths
    """The attempt's scratch folder (work dir, agent files, output)."""
    log: FilteringBoundLogger
    """Bound to the cell, sweep and attempt."""
    started_at: datetime
    t0: float
    """``time.monotonic()`` at the start: every duration is measured from here."""
    tracer: Tracer = field(default_factory=Tracer)
    image: str = ""
    """The agent image's tag, once known."""
    image_id: str | None = None
    tui_version: str | None = None
    images: CellImages | None = None
    """The cell's images (agent, scorer, task environment), once obtained."""
    restored_from: int | None = None
    """The attempt whose checkpoint this one rescores (set as soon as one is loaded)."""
    session: ModelSession | None = None
    """The agent's model access, open from the agent's run until ``finish`` closes it."""
    recording: Path | None = None
    agent_run: ContainerRun | None = None
    report: AgentReport = field(default_factory=_no_report)
    exchanges: list[Exchange] = field(default_factory=list)
    failure: Failure = field(default_factory=Failure)
    axes: Axes | None = None
    grade_json: str = ""
    """The axes as stored, hashed into the result's digests."""
    diff: Artifact | None = None
    """The agent's diff, once the score phase has made it (``artifacts.diff_artifact``)."""

    @classmethod
    def begin(cls, cell: CellSpec, home: CabHome, attempt: int, log: FilteringBoundLogger) -> CellRun:
        """Start the attempt's clock, its trace and its bound logger."""
        bound = log.bind(cell_id=cell.cell_id, sweep_id=cell.sweep_id, attempt=attempt)
        started_at = datetime.now(UTC)
        t0 = time.monotonic()
        tracer = Tracer()
        paths = CellPaths(home.cells / safe_name(cell.cell_id, attempt))
        return cls(cell, attempt, paths, bound, started_at, t0, tracer)

    def elapsed_s(self) -> float:
        return time.monotonic() - self.t0

    def adopt(self, outcome: AgentOutcome) -> None:
        """Take a restored agent run as this attempt's own."""
        self.agent_run, self.report, self.exchanges = outcome.run, outcome.report, outcome.exchanges
