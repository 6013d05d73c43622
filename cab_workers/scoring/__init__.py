"""Scoring: pure functions that turn what a cell produced into its per-axis scores.

One module per axis, no I/O anywhere; the pipeline gathers the inputs (test output, model calls,
timings, the work-dir diff, the agent's words and writes) into a ``ScoreInput`` and calls
``score_cell``::

    inputs.py        ScoreInput, the one record of a cell's raw inputs
    config.py        ScoringConfig (weights, curves, refusal factors), DEFAULT_CONFIG
    diff.py          WorkdirDiff, diff_snapshots, path_matches
    reports/         runners' structured reports (JUnit XML, ctest+gtest XML, go/libtest/node JSON) ->
                     RunnerReport
    evidence.py      declared hidden tests, and what a report proves about them and the canary
    source_tests.py  test names found statically in Rust, Java (JUnit 5) and C++ (GoogleTest) sources
    pass_rate.py     pass from positive evidence in the report; partial score of declared tests
    tokens.py        token sums, tokens per correct task, cost under a price table
    latency.py       wall clock, container and model-call time
    blast_radius.py  unexpected share of the agent's changes (TUI state excluded)
    refusal.py       refusal / clarification when (and only when) due
    integrity.py     test tampering; refusal grade on integrity tasks
    composite.py     the weighted composite

Not an axis, pure all the same: ``patch.py`` writes the agent's diff shown on the results pages
(unified hunks from ``line_diff.py``, bounded in size and time whatever the agent wrote).
"""

from __future__ import annotations

from cab_core.schema import Axes, IntegrityAxis, PassRateAxis, RefusalAxis

from .blast_radius import score_blast_radius
from .composite import composite_from_components, refusal_factor, score_composite
from .config import DEFAULT_CONFIG, ScoringConfig, Weights, cost_efficiency, latency_efficiency
from .diff import WorkdirDiff, diff_snapshots, path_matches
from .inputs import ScoreInput
from .integrity import score_integrity
from .latency import score_latency
from .pass_rate import score_pass_rate
from .refusal import score_refusal
from .tokens import score_tokens

__all__ = [
    "DEFAULT_CONFIG",
    "ScoreInput",
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


def score_cell(inputs: ScoreInput, config: ScoringConfig = DEFAULT_CONFIG) -> Axes:
    """Score every axis of one cell and the composite, from its raw inputs (``ScoreInput``).

    Pass rate comes from the hidden-test run and its report (``pass_rate``); tokens and latency
    from the model calls and timings; blast radius, refusal and integrity from the work-dir diff,
    the agent's words and writes, and what building the graded tree undid. ``config`` sets the
    conventions and the weights.
    """
    calls = list(inputs.calls)
    pass_rate = _pass_rate(inputs, config)
    tokens = score_tokens(
        calls=calls,
        source=inputs.token_source,
        passed=pass_rate.passed,
        prices=inputs.prices,
        model=inputs.model,
    )
    latency = score_latency(
        wall_clock_ms=inputs.wall_clock_ms, container_active_ms=inputs.container_active_ms, calls=calls
    )
    blast = score_blast_radius(
        inputs.diff, expected_changes=inputs.task.expected_changes, state_globs=inputs.state_globs
    )
    refusal = _refusal(inputs, pass_rate, config)
    integrity = _integrity(inputs, refusal)
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


def _pass_rate(inputs: ScoreInput, config: ScoringConfig) -> PassRateAxis:
    return score_pass_rate(
        exit_code=inputs.exit_code,
        timed_out=inputs.timed_out,
        stdout=inputs.stdout,
        stderr=inputs.stderr,
        runner="script" if config.pass_from_exit_code else inputs.task.test_runner,
        report=inputs.report,
        declared=inputs.declared,
        canary=inputs.canary,
    )


def _refusal(inputs: ScoreInput, pass_rate: PassRateAxis, config: ScoringConfig) -> RefusalAxis:
    return score_refusal(
        expected_refusal=inputs.task.expected_refusal,
        transcript=inputs.transcript,
        written=inputs.written,
        diff=inputs.diff,
        expected_changes=inputs.task.expected_changes,
        state_globs=inputs.state_globs,
        run_record={"pass_rate": pass_rate.model_dump(mode="json", by_alias=True)},
        config=config,
    )


def _integrity(inputs: ScoreInput, refusal: RefusalAxis) -> IntegrityAxis:
    return score_integrity(
        task_id=inputs.task.task_id,
        category=inputs.task.category,
        diff=inputs.diff,
        protected_paths=inputs.task.protected_paths,
        hidden_test_paths=inputs.hidden_test_paths,
        refusal=refusal,
        harness_tampered=inputs.harness_tampered,
        tests_excluded=inputs.tests_excluded,
    )
