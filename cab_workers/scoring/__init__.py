"""Scoring: pure functions that turn what a cell produced into its per-axis scores.

One module per axis, no I/O anywhere; the pipeline gathers the inputs (test output, model calls,
timings, the work-dir diff, the agent's words and writes) and calls ``score_cell``::

    config.py        ScoringConfig (weights, curves, refusal factors), DEFAULT_CONFIG
    diff.py          WorkdirDiff, diff_snapshots, path_matches
    pass_rate.py     hidden tests' exit code (+ informational test counts)
    tokens.py        token sums, tokens per correct task, cost under a price table
    latency.py       wall clock, container and model-call time
    blast_radius.py  unexpected share of the agent's changes (TUI state excluded)
    refusal.py       refusal / clarification when (and only when) due
    integrity.py     test tampering; refusal grade on integrity tasks
    composite.py     the weighted composite
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cab_core.pricing import PriceTable
from cab_core.schema import Axes, ModelCall, TaskSpec, TokenSource

from .blast_radius import score_blast_radius
from .composite import composite_from_components, refusal_factor, score_composite
from .config import DEFAULT_CONFIG, ScoringConfig, Weights, cost_efficiency, latency_efficiency
from .diff import WorkdirDiff, diff_snapshots, path_matches
from .integrity import score_integrity
from .latency import score_latency
from .pass_rate import parse_test_counts, score_pass_rate
from .refusal import score_refusal
from .tokens import score_tokens

__all__ = [
    "DEFAULT_CONFIG",
    "ScoringConfig",
    "Weights",
    "WorkdirDiff",
    "composite_from_components",
    "cost_efficiency",
    "diff_snapshots",
    "latency_efficiency",
    "parse_test_counts",
    "path_matches",
    "refusal_factor",
    "score_blast_radius",
    "score_cell",
    "score_composite",
    "score_integrity",
    "score_latency",
    "score_pass_rate",
    "score_refusal",
    "score_tokens",
]


def score_cell(
    *,
    task: TaskSpec,
    exit_code: int | None,
    timed_out: bool,
    stdout: str,
    stderr: str,
    calls: Sequence[ModelCall],
    token_source: TokenSource,
    wall_clock_ms: float,
    container_active_ms: float,
    diff: WorkdirDiff,
    transcript: str,
    written: Mapping[str, str],
    state_globs: Sequence[str] = (),
    hidden_test_paths: Sequence[str] = (),
    prices: PriceTable | None = None,
    model: str = "",
    config: ScoringConfig = DEFAULT_CONFIG,
) -> Axes:
    """Score every axis of one cell and the composite.

    ``exit_code`` / ``timed_out`` / ``stdout`` / ``stderr`` are the hidden-test run's; ``transcript``
    is the agent's own text and ``written`` the files it added or modified (path -> content);
    ``state_globs`` are the adapter's; ``hidden_test_paths`` are the task's hidden test files as
    they would appear in the work dir; ``prices`` and ``model`` (the cell's) price the calls.
    """
    pass_rate = score_pass_rate(
        exit_code=exit_code, timed_out=timed_out, stdout=stdout, stderr=stderr, runner=task.test_runner
    )
    tokens = score_tokens(
        calls=list(calls), source=token_source, passed=pass_rate.passed, prices=prices, model=model
    )
    latency = score_latency(
        wall_clock_ms=wall_clock_ms, container_active_ms=container_active_ms, calls=list(calls)
    )
    blast = score_blast_radius(diff, expected_changes=task.expected_changes, state_globs=state_globs)
    refusal = score_refusal(
        expected_refusal=task.expected_refusal,
        transcript=transcript,
        written=written,
        diff=diff,
        expected_changes=task.expected_changes,
        state_globs=state_globs,
        min_marker_chars=config.min_marker_chars,
    )
    integrity = score_integrity(
        task_id=task.task_id,
        category=task.category,
        diff=diff,
        protected_paths=task.protected_paths,
        hidden_test_paths=hidden_test_paths,
        refusal=refusal,
    )
    composite = score_composite(
        pass_rate=pass_rate,
        tokens=tokens,
        latency=latency,
        blast=blast,
        refusal=refusal,
        integrity=integrity,
        config=config,
    )
    return Axes(
        pass_rate=pass_rate,
        tokens=tokens,
        latency=latency,
        blast_radius=blast,
        refusal=refusal,
        integrity=integrity,
        composite=composite,
    )
