"""Scoring: pure functions that turn what a cell produced into its per-axis scores.

One module per axis, no I/O anywhere; the pipeline gathers the inputs (test output, model calls,
timings, the work-dir diff, the agent's words and writes) and calls ``score_cell``::

    config.py        ScoringConfig (weights, curves, refusal factors), DEFAULT_CONFIG
    diff.py          WorkdirDiff, diff_snapshots, path_matches
    reports.py       runners' structured reports (JUnit XML, go/libtest/node JSON) -> RunnerReport
    evidence.py      declared hidden tests, and what a report proves about them and the canary
    pass_rate.py     pass from positive evidence in the report; partial score of declared tests
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
from .evidence import DeclaredTest
from .integrity import score_integrity
from .latency import score_latency
from .pass_rate import score_pass_rate
from .refusal import score_refusal
from .reports import RunnerReport
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
    report: RunnerReport | None = None,
    declared: Sequence[DeclaredTest] = (),
    canary: str | None = None,
    harness_tampered: Sequence[str] = (),
    tests_excluded: Sequence[str] = (),
    prices: PriceTable | None = None,
    model: str = "",
    config: ScoringConfig = DEFAULT_CONFIG,
) -> Axes:
    """Score every axis of one cell and the composite.

    ``exit_code`` / ``timed_out`` / ``stdout`` / ``stderr`` are the hidden-test run's, ``report``
    its structured report, ``declared`` the hidden tests that decide pass and ``canary`` the name of
    the must-fail test cab planted (see ``pass_rate``); ``harness_tampered`` / ``tests_excluded``
    come from building the graded tree (``cab_workers.grading.harness``). ``transcript`` is the
    agent's own text and ``written`` the files it added or modified (path -> content);
    ``state_globs`` are the adapter's; ``hidden_test_paths`` are the task's hidden test files as
    they would appear in the work dir; ``prices`` and ``model`` (the cell's) price the calls.
    """
    pass_rate = score_pass_rate(
        exit_code=exit_code,
        timed_out=timed_out,
        stdout=stdout,
        stderr=stderr,
        runner="script" if config.pass_from_exit_code else task.test_runner,
        report=report,
        declared=declared,
        canary=canary,
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
        run_record={"pass_rate": pass_rate.model_dump(mode="json", by_alias=True)},
        config=config,
    )
    integrity = score_integrity(
        task_id=task.task_id,
        category=task.category,
        diff=diff,
        protected_paths=task.protected_paths,
        hidden_test_paths=hidden_test_paths,
        refusal=refusal,
        harness_tampered=harness_tampered,
        tests_excluded=tests_excluded,
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
