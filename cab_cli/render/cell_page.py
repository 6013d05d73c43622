"""The page of one cell, laid out like the published seed pages: scores, identity, timing, scorer
breakdown, spans, model calls, the head of the agent's diff and how to run it yourself."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cab_core.schema import ArtifactName, CellResult, FailureClass
from cab_site.present.redact import as_json, redact
from cab_site.present.rerun import run_it_yourself
from cab_site.present.scores import CALL_HEADS, axis_scores, call_row, identity_rows
from cab_site.present.values import UNKNOWN, iso_utc, tokens_line


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
    pairs = axis_scores(result)
    for head, _ in pairs:
        table.add_column(head, overflow="fold")
    table.add_row(*(Text(v) for _, v in pairs))
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
    for head in CALL_HEADS:
        table.add_column(head, overflow="fold")
    for c in result.model_calls:
        table.add_row(*(Text(v) for v in call_row(c)))
    return table


DIFF_LINES = 60
"""Lines of the agent's diff ``cab show`` prints; the results site shows it whole."""

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c != 0x09}
"""Control characters written visibly: the diff is the agent's, and must not drive the terminal."""

_DIFF_STYLES = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def _diff(result: CellResult) -> RenderableType:
    """The head of the agent's diff as plain Text (no markup is parsed), escapes made visible."""
    diff = next((a for a in result.artifacts if a.name == ArtifactName.diff), None)
    if diff is None:
        return Text("No diff was kept for this attempt.", style="italic")
    lines = diff.text().split("\n")
    lines = lines[:-1] if lines and not lines[-1] else lines
    shown = Text()
    for line in lines[:DIFF_LINES]:
        style = next((st for prefix, st in _DIFF_STYLES if line.startswith(prefix)), "")
        shown.append(line.translate(_CONTROL) + "\n", style=style)
    left = len(lines) - DIFF_LINES
    if left > 0 or diff.truncated:
        more = f"{max(left, 0)} more lines" + (
            f"; the stored diff was cut at {len(diff.body):,} of {diff.original_bytes:,} bytes"
            if diff.truncated
            else ""
        )
        shown.append(f"({more}; the results site shows what was kept)", style="dim italic")
    elif not lines:
        shown.append("The agent changed nothing.", style="italic")
    return shown


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
        _kv(identity_rows(result)),
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
        _heading("Agent diff"),
        _diff(result),
        _heading("Run it yourself"),
        Text("Exact image; results are comparable, not identical (model nondeterminism).", style="dim"),
        Text(run_it_yourself(result)),
    ]
    return Group(*parts)
