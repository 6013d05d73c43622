"""Phase 3, score: the ``scoring`` span.

Hash the work dir again and diff it against the baseline (minus the task's ignored changes), keep the
agent's diff against the task's own files for the results pages (``artifacts``), grade
it in a fresh scorer container (in the task's environment image when it has one, else the shared
base; ``cab_workers.grading``: the graded tree with the task's harness put back, the hidden tests
and a canary), let the test run amend the attempt's failure, and score every axis from one
``ScoreInput`` (``cab_workers.scoring``, pure).
"""

from __future__ import annotations

from cab_core.errors import SandboxError, ScorerError
from cab_core.paths import TaskPaths, safe_name
from cab_core.schema import TokenSource
from cab_workers import scoring
from cab_workers.cell.artifacts import diff_artifact
from cab_workers.cell.failures import after_tests
from cab_workers.cell.ports import HostContext
from cab_workers.cell.run_record import AgentOutcome, CellRun, Prepared
from cab_workers.cell.snapshot import diff, manifest, read_texts, without_ignored
from cab_workers.grading.grade import Grading, grade
from cab_workers.scoring import ScoreInput, WorkdirDiff


def score(run: CellRun, ctx: HostContext, prepared: Prepared, outcome: AgentOutcome) -> None:
    """Grade the agent's final work dir and set ``run.axes``; raises (a CabError) when it cannot."""
    cell = run.cell
    with run.tracer.span("scoring", f"score:{cell.task.task_id}", test_command=cell.task.test_command) as s:
        after, after_git = manifest(run.paths.work)
        before = prepared.baseline
        change, ignored = without_ignored(
            diff(before.files, before.git_dirs, after, after_git), cell.task.ignore_changes
        )
        s.attrs["ignored_changes"] = len(ignored)
        _keep_diff(run, prepared.task_paths, change)
        written = read_texts(run.paths.work, [*change.added, *change.modified])
        grading = _grade(run, ctx, prepared.task_paths)
        s.attrs.update(
            exit_code=grading.run.exit_code,
            timed_out=grading.run.timed_out,
            harness_tampered=list(grading.harness.tampered),
            tests_excluded=list(grading.harness.excluded),
            declared_tests=len(grading.declared),
        )
        run.failure = after_tests(run.failure, grading.run, cell)
        inputs = _score_input(run, ctx, prepared, outcome, grading, change, written)
        run.axes = scoring.score_cell(inputs)
        run.grade_json = run.axes.model_dump_json(by_alias=True)


def _keep_diff(run: CellRun, task_paths: TaskPaths, change: WorkdirDiff) -> None:
    """The agent's diff against the task's own work dir, for the results pages; a cell is never failed
    for want of it (logged, and the result has no diff)."""
    try:
        run.diff = diff_artifact(task_paths.workdir, run.paths.work, change)
    except Exception as e:  # a tree the agent made unreadable, or a bug of ours: the score matters more
        run.log.warning("agent_diff_failed", error=f"{type(e).__name__}: {e}"[:300])
        return
    run.log.debug("agent_diff", diff_bytes=run.diff.original_bytes, truncated=run.diff.truncated)


def _score_input(
    run: CellRun,
    ctx: HostContext,
    prepared: Prepared,
    outcome: AgentOutcome,
    grading: Grading,
    change: WorkdirDiff,
    written: dict[str, str],
) -> ScoreInput:
    calls = outcome.report.model_calls
    return ScoreInput(
        task=run.cell.task,
        exit_code=grading.run.exit_code,
        timed_out=grading.run.timed_out,
        stdout=grading.run.stdout,
        stderr=grading.run.stderr,
        calls=calls,
        token_source=calls[0].source if calls else TokenSource.none,
        wall_clock_ms=run.elapsed_s() * 1000,
        container_active_ms=outcome.run.active_ms,
        diff=change,
        state_globs=prepared.adapter.state_globs,
        transcript=outcome.report.transcript,
        written=written,
        hidden_test_paths=list(grading.hidden_paths),
        report=grading.report,
        declared=grading.declared,
        canary=grading.canary,
        harness_tampered=grading.harness.tampered,
        tests_excluded=grading.harness.excluded,
        prices=ctx.prices,
        model=run.cell.model,
    )


def _grade(run: CellRun, ctx: HostContext, task_paths: TaskPaths) -> Grading:
    """Grade the agent's final /work in a fresh scorer container (see ``cab_workers.grading``)."""
    cell, paths = run.cell, run.paths
    if run.images is None:
        raise ScorerError("no scorer image: the cell's images were never obtained")
    scorer = run.images.scorer  # the task's environment image, else the shared base
    try:
        return grade(
            cell.task,
            task_paths,
            paths.work,
            paths.root / "score",
            ctx.sandbox,
            scorer,
            name=f"cab-score-{safe_name(cell.cell_id, run.attempt)}",
            labels=ctx.sandbox.labels_for(cell.cell_id, run.attempt, "scorer"),
        )
    except SandboxError as e:
        raise ScorerError(f"scorer container failed: {e}") from e
