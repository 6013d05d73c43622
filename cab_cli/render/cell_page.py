"""The page of one cell, laid out like the published seed pages: scores, identity, timing, scorer
breakdown, spans, model calls and how to run it yourself."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cab_cli.render.redact import as_json, redact
from cab_cli.render.rerun import run_it_yourself
from cab_cli.render.values import UNKNOWN, iso_utc, or_unknown, tokens_line, tokens_per_correct
from cab_core.schema import CellResult, FailureClass


def _heading(title: str) -> Text:
    return Text(f"\n{title}", style="bold cyan")


def _kv(pairs: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for k, v in pairs:
        grid.add_row(Text(k), Text(v, style="dim italic" if v == UNKNOWN else ""))
    return grid


def _scores(result: CellResult) -> Table:
    table = Table(box=None, padding=(0, 2), header_style="bold")
    heads = ("Pass", "Tokens/correct", "Wall", "Blast", "Refusal", "Integrity", "Composite")
    for head in heads:
        table.add_column(head, overflow="fold")
    a = result.axes
    wall = f"{(a.latency.wall_clock_ms / 1000) if a else result.timing.duration_s:.1f}s"
    if a is None:
        table.add_row(*(Text(v) for v in (UNKNOWN, tokens_per_correct(result), wall) + (UNKNOWN,) * 4))
        return table
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
    table.add_row(*(Text(v) for v in values))
    return table


def _breakdown(result: CellResult) -> RenderableType:
    if result.axes is None:
        return Text("Not scored: the cell failed before grading.", style="italic")
    table = Table(header_style="bold", expand=True)
    table.add_column("Axis", no_wrap=True)
    table.add_column("Keys", ratio=1, overflow="fold")
    table.add_column("Values", ratio=3, overflow="fold")
    for name in type(result.axes).model_fields:
        block = getattr(result.axes, name).model_dump(mode="json", by_alias=True)
        table.add_row(Text(name), Text(", ".join(block)), Text(as_json(block)))
    return table


def _spans(result: CellResult) -> Table:
    table = Table(header_style="bold", expand=True)
    table.add_column("Span / ↳ parent", no_wrap=True)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Name", overflow="fold", max_width=32)
    table.add_column("Duration", justify="right", no_wrap=True)
    table.add_column("Attrs / Error", overflow="fold", ratio=1)
    for s in result.spans:
        detail = Text(as_json(s.attrs))
        if s.error:
            detail.append(f"\nerror: {redact(s.error)}", style="red")
        ids = Text(s.span_id)
        if s.parent_id:
            ids.append(f"\n↳ {s.parent_id}", style="dim")
        table.add_row(ids, Text(s.kind), Text(s.name), Text(f"{s.duration_ms:.0f} ms"), detail)
    return table


def _calls(result: CellResult) -> RenderableType:
    if not result.model_calls:
        return Text("No model calls were recorded for this run.", style="italic")
    table = Table(header_style="bold", expand=True)
    heads = ("#", "Timestamp", "Path", "Request hash", "Prompt", "Completion", "Cached", "Reasoning")
    for head in (*heads, "Latency", "TTFT", "Finish", "Status", "Try", "Note"):
        table.add_column(head, overflow="fold")
    for c in result.model_calls:
        est = "~" if c.estimated else ""
        notes = [
            *([redact(c.error)] if c.error else []),
            *([f"waited {c.queued_ms:.0f} ms for an endpoint slot"] if c.queued_ms else []),
            *([f"replayed ({c.replay})"] if c.replay else []),
            *(["~ estimated (no usage reported)"] if c.estimated else []),
        ]
        table.add_row(
            *(
                Text(v)
                for v in (
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
                    "; ".join(notes),
                )
            )
        )
    return table


def render_cell(result: CellResult) -> Group:
    """One cell as a page: the seed page's sections, with unknowns spelled out."""
    ident, timing = result.identity, result.timing
    parts: list[RenderableType] = [
        Text(f"{ident.tui} × {ident.model}", style="bold"),
        Text(ident.task_id.split("/", 1)[0], style="dim"),
        Text(ident.task_id),
    ]
    failure = result.failure.failure_class
    if failure != FailureClass.none:
        retry = " (retried on resume)" if failure == FailureClass.infra else ""
        reason = redact(result.failure.reason) or "no reason recorded"
        parts.append(Text(f"FAILED [{failure.value}]{retry}: {reason}", style="bold red"))
    parts += [
        _heading("Per-axis scores"),
        _scores(result),
        _heading("Run identity"),
        _kv(
            [
                ("cell_id", ident.cell_id),
                ("sweep_id", ident.sweep_id),
                ("attempt", str(ident.attempt)),
                ("run", str(ident.run)),
                ("container_image", ident.container_image),
                ("image_digest", or_unknown(ident.image_digest)),
                ("tui_version", or_unknown(ident.tui_version)),
                ("model_build_id", or_unknown(ident.model_build_id)),
                ("exit_code", or_unknown(ident.exit_code)),
                ("host", or_unknown(ident.host)),
                ("task_hash", or_unknown(ident.task_hash or None)),
                ("methodology", result.methodology_version),
            ]
        ),
        _heading("Timing"),
        _kv(
            [
                ("started_at", iso_utc(timing.started_at)),
                ("ended_at", iso_utc(timing.ended_at)),
                ("duration", f"{timing.duration_s:.2f} s"),
                ("tokens", tokens_line(result)),
            ]
        ),
        _heading("Scorer breakdown"),
        _breakdown(result),
        _heading(f"Trace spans ({len(result.spans)})"),
        _spans(result),
        _heading(f"Model calls ({len(result.model_calls)})"),
        _calls(result),
        _heading("Run it yourself"),
        Text("Exact image; results are comparable, not identical (model nondeterminism).", style="dim"),
        Text(run_it_yourself(result)),
    ]
    return Group(*parts)
