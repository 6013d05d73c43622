"""Pure renderers for results: a cell page like the published seed pages, tables, JSONL export.

Nothing here prints or reads the store; callers hand in ``CellResult`` records and print what comes
back. Unknown values read ``unknown (not recorded)``, never 0; secret-looking values are masked.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cab_core.schema import CellResult, FailureClass

UNKNOWN = "unknown (not recorded)"
MASK = "***"

_SECRET_KEY = re.compile(
    r"(^|[_-])(api_?key|key|secret|password|passwd|token|auth|authorization|"
    r"credentials?|cookie)$",
    re.IGNORECASE,
)
_SECRET_FLAG = re.compile(r"^--?[\w-]*(key|token|secret|password)$", re.IGNORECASE)
_SECRET_VALUE = re.compile(
    r"\bsk-[A-Za-z0-9_-]{8,}|\bgh[pousr]_[A-Za-z0-9]{16,}|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAKIA[0-9A-Z]{16}\b"
)
_SECRET_ASSIGN = re.compile(r"""\b([A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)[A-Z0-9_]*=)(?!["']?\$)\S+""")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_URL_CRED = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def redact(value: Any, key: str = "") -> Any:
    """``value`` with secret-looking strings masked, recursing into dicts and lists."""
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        out, hide_next = [], False
        for item in value:
            out.append(MASK if hide_next and isinstance(item, str) else redact(item))
            hide_next = isinstance(item, str) and bool(_SECRET_FLAG.match(item))
        return out
    if isinstance(value, str):
        if value and _SECRET_KEY.search(key):
            return MASK
        value = _SECRET_VALUE.sub(MASK, value)
        value = _SECRET_ASSIGN.sub(rf"\1{MASK}", value)
        value = _BEARER.sub(rf"\1{MASK}", value)
        value = _URL_CRED.sub(rf"\1{MASK}@", value)
    return value


def _json(value: Any) -> str:
    return json.dumps(redact(value), separators=(",", ":"), ensure_ascii=False)


def _or_unknown(value: object, fmt: str = "{}") -> str:
    return UNKNOWN if value is None or value == "" else fmt.format(value)


def _iso(at: datetime) -> str:
    at = at.astimezone(UTC) if at.tzinfo else at
    return at.replace(tzinfo=None).isoformat() + "Z"


def _heading(title: str) -> Text:
    return Text(f"\n{title}", style="bold cyan")


def _kv(pairs: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for k, v in pairs:
        grid.add_row(Text(k), Text(v, style="dim italic" if v == UNKNOWN else ""))
    return grid


# -------------------------------------------------------------------------------------- tokens


def token_total(result: CellResult) -> int | None:
    """Total tokens: the tokens axis, else the sum over model calls that carry counts, else None."""
    if result.axes and result.axes.tokens.total_tokens is not None:
        return result.axes.tokens.total_tokens
    counted = [c for c in result.model_calls if (c.prompt_tokens, c.completion_tokens) != (None, None)]
    if not counted:
        return None
    return sum((c.prompt_tokens or 0) + (c.completion_tokens or 0) for c in counted)


def _tokens_line(result: CellResult) -> str:
    total, n = token_total(result), len(result.model_calls)
    if total is None:
        return UNKNOWN + (f"; {n} model calls carry no usage" if n else "")
    axis = result.axes.tokens if result.axes and result.axes.tokens.total_tokens is not None else None
    if axis:
        prompt, completion, source = axis.prompt_tokens, axis.completion_tokens, axis.source.value
    else:
        prompt = sum(c.prompt_tokens or 0 for c in result.model_calls)
        completion = sum(c.completion_tokens or 0 for c in result.model_calls)
        source = "summed from model calls"
    calls = f" · {n} calls" if n else ""
    return (
        f"{total:,} (prompt {_or_unknown(prompt, '{:,}')} · completion {_or_unknown(completion, '{:,}')}"
        f"{calls} · source {source}) · cost {_cost(result)}"
    )


def _cost(result: CellResult) -> str:
    tokens = result.axes.tokens if result.axes else None
    if tokens is not None and tokens.cost_usd is not None:
        return f"${tokens.cost_usd:.6f} (prices {tokens.price_table})"
    if tokens is None or tokens.price_table is None:
        return "unknown (not priced)"
    if tokens.total_tokens is None:
        return "unknown (tokens unknown)"
    return f"unknown (no price for a model of these calls in {tokens.price_table})"


def _tokens_per_correct(result: CellResult) -> str:
    axes = result.axes
    if axes and axes.tokens.tokens_per_correct_task is not None:
        return f"{axes.tokens.tokens_per_correct_task:,.0f}"
    total, passed = token_total(result), axes.pass_rate.passed if axes else None
    if total is not None and passed:
        return f"{total / passed:,.0f}"
    if total is not None and passed == 0:
        return "n/a (nothing passed)"
    return UNKNOWN


# -------------------------------------------------------------------------------------- cell page


def _scores(result: CellResult) -> Table:
    table = Table(box=None, padding=(0, 2), header_style="bold")
    heads = ("Pass", "Tokens/correct", "Wall", "Blast", "Refusal", "Integrity", "Composite")
    for head in heads:
        table.add_column(head, overflow="fold")
    a = result.axes
    wall = f"{(a.latency.wall_clock_ms / 1000) if a else result.timing.duration_s:.1f}s"
    if a is None:
        table.add_row(*(Text(v) for v in (UNKNOWN, _tokens_per_correct(result), wall) + (UNKNOWN,) * 4))
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
        _tokens_per_correct(result),
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
        table.add_row(Text(name), Text(", ".join(block)), Text(_json(block)))
    return table


def _spans(result: CellResult) -> Table:
    table = Table(header_style="bold", expand=True)
    table.add_column("Span / ↳ parent", no_wrap=True)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Name", overflow="fold", max_width=32)
    table.add_column("Duration", justify="right", no_wrap=True)
    table.add_column("Attrs / Error", overflow="fold", ratio=1)
    for s in result.spans:
        detail = Text(_json(s.attrs))
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
                    _iso(c.timestamp),
                    (c.endpoint_path or "").removeprefix("/v1/") + (" (stream)" if c.stream else ""),
                    c.request_hash[:16] + "…",
                    _or_unknown(c.prompt_tokens, est + "{:,}"),
                    _or_unknown(c.completion_tokens, est + "{:,}"),
                    "–" if c.cached_tokens is None else f"{c.cached_tokens:,}",  # optional: not reported
                    "–" if c.reasoning_tokens is None else f"{c.reasoning_tokens:,}",
                    _or_unknown(c.latency_ms, "{:.0f} ms"),
                    _or_unknown(c.ttft_ms, "{:.0f} ms"),
                    _or_unknown(c.finish_reason),
                    _or_unknown(c.http_status),
                    str(c.upstream_attempt),
                    "; ".join(notes),
                )
            )
        )
    return table


def image_ref(image: str, digest: str | None) -> str:
    """``image@sha256:…`` pinned to the digest when known (one ``sha256:`` prefix, never two)."""
    if not digest:
        return image
    digest = digest if digest.startswith("sha256:") else f"sha256:{digest}"
    return f"{image.split('@', 1)[0]}@{digest}"


def _recorded_argv(result: CellResult) -> list[str] | None:
    for s in result.spans:
        argv = s.attrs.get("argv") or s.attrs.get("command")
        if s.kind == "container" and isinstance(argv, list) and all(isinstance(a, str) for a in argv):
            return redact(argv)
    return None


def _recorded_env_keys(result: CellResult) -> list[str]:
    for s in result.spans:
        keys = s.attrs.get("env_keys")
        if s.kind == "tool_call" and isinstance(keys, list):
            return [k for k in keys if isinstance(k, str)]
    return []


def _env_placeholder(name: str, model: str) -> str:
    upper = name.upper()
    if "KEY" in upper or "TOKEN" in upper:
        return '"$YOUR_KEY"'
    if "URL" in upper or "ENDPOINT" in upper:
        return '"$YOUR_ENDPOINT"'
    if "MODEL" in upper:
        return shlex.quote(model)
    return f'"${name}"'


def run_it_yourself(result: CellResult) -> str:
    """Shell lines reproducing the cell: the exact image, then the cab command; placeholders only."""
    ident = result.identity
    image = ident.container_image.split("@", 1)[0]
    argv = _recorded_argv(result)
    lines = [
        "# the exact image: its tag is content-addressed, so building it from the same cab commit",
        "# reproduces it; the image id below is what this run used",
        f"cab images build {shlex.quote(ident.tui)}",
        f"docker image inspect --format '{{{{.Id}}}}' {shlex.quote(image)}"
        + (f"   # expect {ident.image_digest}" if ident.image_digest else "   # image id not recorded"),
        "",
        "# the agent's own command and environment names, as recorded"
        if argv
        else "# agent command not recorded",
        "docker run --rm -it \\",
        '  -v "$PWD/work:/work" -v "$PWD/cab:/cab:ro" -w /work \\',
        *(f"  -e {k}={_env_placeholder(k, ident.model)} \\" for k in _recorded_env_keys(result)),
        f"  {shlex.quote(image)} \\",
        f"  {shlex.join(argv) if argv else 'bash'}",
        "",
        "# or let cab run and score this one cell",
        "cat > one-cell.yaml <<YAML",
        f"sweep_id: rerun-{ident.sweep_id}",
        *(
            f"{k}: [{json.dumps(v)}]"
            for k, v in (("tuis", ident.tui), ("models", ident.model), ("tasks", ident.task_id))
        ),
        "endpoint: scripted" if ident.model.startswith("scripted/") else 'endpoint: "$YOUR_ENDPOINT"',
        *([] if ident.model.startswith("scripted/") else ["api_key_env: YOUR_KEY"]),
        "YAML",
        "cab run one-cell.yaml",
    ]
    if result.recording_path:
        cast = result.recording_path
        cast = cast if cast.startswith("/") else f"${{CAB_HOME:-$HOME/.cab}}/{cast}"
        lines += ["", "# the agent's terminal, as recorded (asciicast v2)", f'asciinema play "{cast}"']
    return "\n".join(lines)


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
                ("image_digest", _or_unknown(ident.image_digest)),
                ("tui_version", _or_unknown(ident.tui_version)),
                ("model_build_id", _or_unknown(ident.model_build_id)),
                ("exit_code", _or_unknown(ident.exit_code)),
                ("host", _or_unknown(ident.host)),
                ("methodology", result.methodology_version),
            ]
        ),
        _heading("Timing"),
        _kv(
            [
                ("started_at", _iso(timing.started_at)),
                ("ended_at", _iso(timing.ended_at)),
                ("duration", f"{timing.duration_s:.2f} s"),
                ("tokens", _tokens_line(result)),
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


# -------------------------------------------------------------------------------------- tables


def _refusal_cell(result: CellResult) -> str:
    r = result.axes.refusal if result.axes else None
    return r.refusal_correct.value if r and r.refusal_correct and not r.not_applicable else "-"


def render_results_table(results: list[CellResult]) -> Table:
    """One row per result, in the order given."""
    table = Table(header_style="bold")
    for head in ("TUI", "model", "task"):
        table.add_column(head, overflow="fold")
    for head in (
        "run",
        "pass",
        "partial",
        "tokens",
        "wall s",
        "blast",
        "refusal",
        "integrity",
        "composite",
        "failure",
    ):
        right = head in ("run", "tokens", "wall s")
        table.add_column(head, no_wrap=True, justify="right" if right else "left")
    for r in results:
        a, ident = r.axes, r.identity
        total = token_total(r)
        failure = r.failure.failure_class
        row = (
            ident.tui,
            ident.model,
            ident.task_id,
            str(ident.run),
            str(a.pass_rate.passed) if a else "-",
            f"{a.pass_rate.partial_score:.2f}" if a and a.pass_rate.partial_score is not None else "-",
            f"{total:,}" if total is not None else "n/a",
            f"{(a.latency.wall_clock_ms / 1000) if a else r.timing.duration_s:.1f}",
            f"{a.blast_radius.blast_radius:.2f}" if a else "-",
            _refusal_cell(r),
            f"{a.integrity.integrity:.2f}" if a else "-",
            f"{a.composite.composite:.3f}" if a else "-",
            "" if failure == FailureClass.none else failure.value,
        )
        table.add_row(*(Text(v, style="red" if i == 12 else "") for i, v in enumerate(row)))
    return table


@dataclass(frozen=True)
class SummaryRow:
    """Aggregate of one (tui, model) pair over its cells' latest attempts."""

    tui: str
    model: str
    cells: int
    """Distinct cells seen."""
    graded: int
    """Cells not lost to infra failures: the denominator of both rates below."""
    passed: int
    pass_rate: float | None
    """passed / graded; None when nothing was graded."""
    mean_composite: float | None
    """Mean composite over graded cells; a graded cell never scored counts 0, never as perfect."""


def results_summary(results: Iterable[CellResult]) -> list[SummaryRow]:
    """Pass rate and mean composite per (tui, model), sorted; only each cell's latest attempt counts."""
    latest: dict[str, CellResult] = {}
    for r in results:
        seen = latest.get(r.identity.cell_id)
        if seen is None or r.identity.attempt > seen.identity.attempt:
            latest[r.identity.cell_id] = r
    groups: dict[tuple[str, str], list[CellResult]] = {}
    for r in latest.values():
        groups.setdefault((r.identity.tui, r.identity.model), []).append(r)
    rows = []
    for (tui, model), members in sorted(groups.items()):
        graded = [r for r in members if r.failure.failure_class != FailureClass.infra]
        passed = sum(1 for r in graded if r.axes and r.axes.pass_rate.passed)
        composites = [r.axes.composite.composite if r.axes else 0.0 for r in graded]
        rows.append(
            SummaryRow(
                tui,
                model,
                len(members),
                len(graded),
                passed,
                passed / len(graded) if graded else None,
                sum(composites) / len(composites) if composites else None,
            )
        )
    return rows


def render_summary_table(rows: list[SummaryRow]) -> Table:
    """``results_summary`` as a table."""
    table = Table(header_style="bold")
    for head in ("TUI", "model", "cells", "graded", "passed", "pass rate", "mean composite"):
        table.add_column(head)
    for s in rows:
        table.add_row(
            *(
                Text(v)
                for v in (
                    s.tui,
                    s.model,
                    str(s.cells),
                    str(s.graded),
                    str(s.passed),
                    f"{s.pass_rate:.1%}" if s.pass_rate is not None else "-",
                    f"{s.mean_composite:.3f}" if s.mean_composite is not None else "-",
                )
            )
        )
    return table


def export_jsonl(results: Iterable[CellResult], fp: TextIO) -> int:
    """Write one JSON record per result (the stored layout, ``pass`` not ``passed``); returns the count."""
    n = 0
    for r in results:
        fp.write(json.dumps(r.model_dump(mode="json", by_alias=True), ensure_ascii=False) + "\n")
        n += 1
    return n
