"""The page of one cell, in the seed pages' order: per-axis scores, run identity, timing, scorer
breakdown, run it yourself, terminal playback, trace spans (as a waterfall), model calls; then what
the seed pages lack: the test output tail, the agent's diff, and the agent's own output tail.

Everything here came from the store; everything an agent produced stays text (the template escapes
it) and secret-looking values are masked before they reach the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cab_core.schema import Artifact, ArtifactName, CellResult, FailureClass, Span
from cab_site import paths
from cab_site.present.redact import as_json, redact
from cab_site.present.rerun import run_it_yourself
from cab_site.present.scores import CALL_HEADS, axis_scores, call_row, identity_rows
from cab_site.present.values import iso_utc, tokens_line
from cab_site.svg import WaterfallSpan, waterfall


@dataclass(frozen=True)
class Sibling:
    """Another cell worth a link from this one."""

    label: str
    cell_id: str

    @property
    def path(self) -> str:
        return paths.cell_page(self.cell_id)


def _depths(spans: Sequence[Span]) -> dict[str, int]:
    by_id = {s.span_id: s for s in spans}
    depth: dict[str, int] = {}
    for s in spans:
        d, seen, cur = 0, {s.span_id}, s
        while cur.parent_id and cur.parent_id in by_id and cur.parent_id not in seen:
            seen.add(cur.parent_id)
            cur, d = by_id[cur.parent_id], d + 1
        depth[s.span_id] = d
    return depth


def _waterfall(result: CellResult) -> Any:
    if not result.spans:
        return None
    origin = min(s.started_at for s in result.spans)
    depth = _depths(result.spans)
    bars = [
        WaterfallSpan(
            name=s.name,
            kind=s.kind,
            start_ms=(s.started_at - origin).total_seconds() * 1000,
            duration_ms=s.duration_ms,
            depth=depth[s.span_id],
            error=redact(s.error) if s.error else None,
        )
        for s in result.spans
    ]
    return waterfall(bars)


def _breakdown(result: CellResult) -> list[tuple[str, str, str]]:
    if result.axes is None:
        return []
    rows = []
    for name in type(result.axes).model_fields:
        block = getattr(result.axes, name).model_dump(mode="json", by_alias=True)
        rows.append((name, ", ".join(block), as_json(block)))
    return rows


def _artifact(artifacts: Sequence[Artifact], name: ArtifactName) -> Artifact | None:
    return next((a for a in artifacts if a.name == name), None)


def cell_context(
    result: CellResult,
    artifacts: Sequence[Artifact],
    siblings: dict[str, list[Sibling]],
    *,
    artifact_problem: str | None = None,
) -> dict[str, Any]:
    """Size: one flat context with every section of the page, in page order, is easier to check
    against the seed pages than a dozen helpers returning fragments."""
    ident, timing, axes = result.identity, result.timing, result.axes
    failure = result.failure
    cast = _artifact(artifacts, ArtifactName.terminal)
    diff = _artifact(artifacts, ArtifactName.diff)
    passed = bool(axes and axes.pass_rate.passed)
    return {
        "title": f"{ident.tui} × {ident.model} · {ident.task_id}",
        "ident": ident,
        "category": ident.task_id.split("/", 1)[0],
        "passed": passed,
        "graded": failure.failure_class != FailureClass.infra,
        "failure": None
        if failure.failure_class == FailureClass.none
        else {
            "cls": failure.failure_class.value,
            "reason": redact(failure.reason) or "no reason recorded",
            "retried": failure.failure_class == FailureClass.infra and failure.retryable,
        },
        "scores": axis_scores(result),
        "identity": identity_rows(result),
        "timing": [
            ("started_at", iso_utc(timing.started_at)),
            ("ended_at", iso_utc(timing.ended_at)),
            ("duration", f"{timing.duration_s:.2f} s"),
            ("tokens", tokens_line(result)),
        ],
        "breakdown": _breakdown(result),
        "run_it_yourself": run_it_yourself(result),
        "cast": None if cast is None else {"text": cast.text(), "truncated": cast.truncated},
        "waterfall": _waterfall(result),
        "spans": [
            (
                s.span_id,
                s.parent_id,
                s.kind,
                s.name,
                f"{s.duration_ms:.0f} ms",
                as_json(s.attrs),
                redact(s.error),
            )
            for s in result.spans
        ],
        "call_heads": CALL_HEADS,
        "calls": [call_row(c) for c in result.model_calls],
        "stdout_tail": redact(axes.pass_rate.stdout_tail) if axes else "",
        "stderr_tail": redact(axes.pass_rate.stderr_tail) if axes else "",
        "diff": None
        if diff is None
        else {"text": redact(diff.text()), "truncated": diff.truncated, "bytes": diff.original_bytes},
        "output_tail": redact(result.agent_output_tail),
        "siblings": siblings,
        "artifact_problem": artifact_problem,
        "cell_badge": paths.cell_badge(ident.cell_id),
        "pair_badge": paths.pair_badge(ident.tui, ident.model),
        "task_page": paths.task_page(ident.task_id),
    }
