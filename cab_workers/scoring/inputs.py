"""``ScoreInput``: everything ``score_cell`` reads about one cell, in one record.

The pipeline's score phase (``cab_workers.cell.phase_score``) gathers it from the graded run, the
agent's report and the work-dir diff; tests and rescoring tools build it by hand from raw inputs.
Only the first fields are required; the rest default to "nothing recorded".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cab_core.pricing import PriceTable
from cab_core.schema import ModelCall, TaskSpec, TokenSource

from .diff import WorkdirDiff
from .evidence import DeclaredTest
from .reports import RunnerReport


@dataclass(frozen=True)
class ScoreInput:
    """The raw inputs of one cell's scores (see ``score_cell``)."""

    task: TaskSpec
    exit_code: int | None
    """Exit code of the hidden-test run; None if it never ran."""
    timed_out: bool
    """The hidden-test run hit its deadline."""
    stdout: str
    """The hidden-test run's stdout (kept as a tail on the pass-rate axis)."""
    stderr: str
    """The hidden-test run's stderr (kept as a tail on the pass-rate axis)."""
    calls: Sequence[ModelCall]
    """The agent's model calls (the proxy's record, else the TUI's own report)."""
    token_source: TokenSource
    """Where ``calls`` came from (``TokenSource.none`` when there are none)."""
    wall_clock_ms: float
    """The cell's time from start to scoring."""
    container_active_ms: float
    """Time the agent container ran."""
    diff: WorkdirDiff
    """What the agent changed in the work dir (ignored changes removed)."""
    transcript: str
    """The agent's own text (assistant messages), for refusal scanning."""
    written: Mapping[str, str]
    """Files the agent added or modified: path -> content."""
    state_globs: Sequence[str] = ()
    """The adapter's own state files (never the agent's work)."""
    hidden_test_paths: Sequence[str] = ()
    """The task's hidden test files as they would appear in the work dir."""
    report: RunnerReport | None = None
    """The hidden-test run's structured report (None: the runner wrote none)."""
    declared: Sequence[DeclaredTest] = ()
    """The hidden tests that decide pass."""
    canary: str | None = None
    """Name of the must-fail test cab planted (None: none was planted)."""
    harness_tampered: Sequence[str] = ()
    """Harness paths the agent changed, added or removed (``cab_workers.grading.harness``)."""
    tests_excluded: Sequence[str] = ()
    """Agent-added test files the graded tree left out of the run (not a violation)."""
    prices: PriceTable | None = None
    """Prices ``calls`` (None: every cost unknown)."""
    model: str = ""
    """The cell's model, the key into ``prices``."""
