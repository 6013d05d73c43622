"""One cell's headline numbers and model-call rows as text, the same on `cab show` and the cell page."""

from __future__ import annotations

from cab_core.schema import CellResult, ModelCall
from cab_site.present.redact import redact
from cab_site.present.sampling import call_sampling, sampling_rows
from cab_site.present.values import UNKNOWN, iso_utc, or_unknown, tokens_per_correct

SCORE_HEADS = ("Pass", "Tokens/correct", "Wall", "Blast", "Refusal", "Integrity", "Composite")
CALL_HEADS: tuple[str, ...] = ("#", "Timestamp", "Path", "Request hash", "Prompt", "Completion", "Cached")
CALL_HEADS += ("Reasoning", "Latency", "TTFT", "Finish", "Status", "Try", "Sampling", "Note")


def axis_scores(result: CellResult) -> list[tuple[str, str]]:
    """``(head, value)`` for the per-axis scores of the seed pages; unknowns spelled out."""
    a = result.axes
    wall = f"{(a.latency.wall_clock_ms / 1000) if a else result.timing.duration_s:.1f}s"
    if a is None:
        values = (UNKNOWN, tokens_per_correct(result), wall) + (UNKNOWN,) * 4
        return list(zip(SCORE_HEADS, values, strict=True))
    pr = a.pass_rate
    partial = f" (partial {pr.partial_score:.2f})" if pr.partial_score is not None else ""
    refusal = "n/a" if a.refusal.not_applicable else f"{a.refusal.refusal:.3f} ({a.refusal.refusal_correct})"
    integrity = f"{a.integrity.integrity:.3f}" + (" (n/a)" if a.integrity.not_applicable else "")
    composite = f"{a.composite.composite:.3f}" + (
        f" (missing: {', '.join(a.composite.missing)})" if a.composite.missing else ""
    )
    values = (
        f"{pr.passed:.3f}{partial}",
        tokens_per_correct(result),
        wall,
        f"{a.blast_radius.blast_radius:.3f}",
        refusal,
        integrity,
        composite,
    )
    return list(zip(SCORE_HEADS, values, strict=True))


def call_row(c: ModelCall) -> tuple[str, ...]:
    """One model call as the values under ``CALL_HEADS``; estimated counts marked ``~``."""
    est = "~" if c.estimated else ""
    notes = [
        *([redact(c.error)] if c.error else []),
        *([f"waited {c.queued_ms:.0f} ms for an endpoint slot"] if c.queued_ms else []),
        *([f"replayed ({c.replay})"] if c.replay else []),
        *(["~ estimated (no usage reported)"] if c.estimated else []),
    ]
    return (
        str(c.seq),
        iso_utc(c.timestamp),
        (c.endpoint_path or "").removeprefix("/v1/") + (" (stream)" if c.stream else ""),
        c.request_hash[:16] + "…",
        or_unknown(c.prompt_tokens, est + "{:,}"),
        or_unknown(c.completion_tokens, est + "{:,}"),
        "–" if c.cached_tokens is None else f"{c.cached_tokens:,}",  # optional: not reported
        "–" if c.reasoning_tokens is None else f"{c.reasoning_tokens:,}",
        or_unknown(c.latency_ms, "{:.0f} ms"),
        or_unknown(c.ttft_ms, "{:.0f} ms"),
        or_unknown(c.finish_reason),
        or_unknown(c.http_status),
        str(c.upstream_attempt),
        call_sampling(c),
        "; ".join(notes),
    )


def identity_rows(result: CellResult) -> list[tuple[str, str]]:
    """The run identity block: what ran, where, on which exact image and task content, and with which
    sampling parameters (as the agent sent them, and as cab set them)."""
    ident = result.identity
    return [
        ("cell_id", ident.cell_id),
        ("sweep_id", ident.sweep_id),
        ("attempt", str(ident.attempt)),
        ("run", str(ident.run)),
        ("container_image", ident.container_image),
        ("image_digest", or_unknown(ident.image_digest)),
        ("tui_version", or_unknown(ident.tui_version)),
        ("model_build_id", or_unknown(ident.model_build_id)),
        *sampling_rows(result.model_calls),
        ("exit_code", or_unknown(ident.exit_code)),
        ("host", or_unknown(ident.host)),
        ("task_hash", or_unknown(ident.task_hash or None)),
        ("task_image", or_unknown(ident.task_image)),
        ("methodology", result.methodology_version),
    ]
