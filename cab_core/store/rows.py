"""Pure conversions between schema records and table rows (no I/O)."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from cab_core.schema import Artifact, ArtifactName, CellResult, Exchange, SweepSpec


def dump(record: CellResult | SweepSpec) -> dict[str, Any]:
    """The JSON document stored for a record; key names match the published pages (``pass``)."""
    return record.model_dump(mode="json", by_alias=True)


def cell_row(result: CellResult, *, now: datetime | None = None) -> dict[str, Any]:
    """The ``cells`` row of one attempt."""
    ident, axes = result.identity, result.axes
    return {
        "cell_id": ident.cell_id,
        "attempt": ident.attempt,
        "sweep_id": ident.sweep_id,
        "tui": ident.tui,
        "model": ident.model,
        "task_id": ident.task_id,
        "run": ident.run,
        "failure_class": result.failure.failure_class.value,
        "composite": axes.composite.composite if axes else None,
        "passed": axes.pass_rate.passed if axes else None,
        "final": result.is_final,
        "total_tokens": axes.tokens.total_tokens if axes else None,
        "cost_usd": axes.tokens.cost_usd if axes else None,
        "task_hash": ident.task_hash or None,
        "record": dump(result),
        "schema_version": result.schema_version,
        "updated_at": now or datetime.now(UTC),
    }


def span_rows(result: CellResult) -> list[dict[str, Any]]:
    """One ``spans`` row per span, in recorded order."""
    key = {"cell_id": result.identity.cell_id, "attempt": result.identity.attempt}
    return [
        {
            **key,
            "ordinal": i,
            "span_id": s.span_id,
            "trace_id": s.trace_id,
            "parent_id": s.parent_id,
            "kind": s.kind,
            "name": s.name,
            "started_at": s.started_at,
            "duration_ms": s.duration_ms,
            "attrs": s.model_dump(mode="json")["attrs"],
            "error": s.error,
        }
        for i, s in enumerate(result.spans)
    ]


def call_rows(result: CellResult) -> list[dict[str, Any]]:
    """One ``model_calls`` row per call."""
    key = {"cell_id": result.identity.cell_id, "attempt": result.identity.attempt}
    return [{**key, **c.model_dump(exclude={"source"}), "source": c.source.value} for c in result.model_calls]


def exchange_rows(result: CellResult) -> list[dict[str, Any]]:
    """One ``exchanges`` row per recorded answer, bodies compressed."""
    key = {"cell_id": result.identity.cell_id, "attempt": result.identity.attempt}
    return [
        {
            **key,
            **e.model_dump(exclude={"request_body", "response_body"}),
            "request_body": zlib.compress(e.request_body, 6),
            "response_body": zlib.compress(e.response_body, 6),
        }
        for e in result.exchanges
    ]


def load_exchange(row: Any) -> Exchange:
    """An ``exchanges`` row back as an ``Exchange``."""
    return Exchange(
        seq=row.seq,
        request_hash=row.request_hash,
        endpoint_path=row.endpoint_path,
        http_status=row.http_status,
        content_type=row.content_type,
        request_body=zlib.decompress(row.request_body),
        response_body=zlib.decompress(row.response_body),
    )


def artifact_rows(result: CellResult) -> list[dict[str, Any]]:
    """One ``artifacts`` row per artifact, its body compressed (the digest is of the body as kept)."""
    key = {"cell_id": result.identity.cell_id, "attempt": result.identity.attempt}
    return [
        {**key, **a.model_dump(exclude={"body"}, mode="json"), "body": zlib.compress(a.body, 6)}
        for a in result.artifacts
    ]


def load_artifact(row: Any) -> Artifact | None:
    """An ``artifacts`` row back as an ``Artifact``; None when the row is corrupt (a body that does not
    decompress, an unknown name). Its digest is not checked here (``ResultStore.artifacts`` does)."""
    try:
        return Artifact(
            name=ArtifactName(row.name),
            media_type=row.media_type,
            body=zlib.decompress(row.body),
            original_bytes=row.original_bytes,
            truncated=row.truncated,
            sha256=row.sha256,
        )
    except (zlib.error, ValueError):  # pydantic's ValidationError is a ValueError
        return None


def load_result(record: dict[str, Any]) -> CellResult:
    """A stored ``cells.record`` back as a ``CellResult`` (raises pydantic ValidationError)."""
    return CellResult.model_validate(record)


def load_sweep(spec: dict[str, Any]) -> SweepSpec:
    """A stored ``sweeps.spec`` back as a ``SweepSpec``."""
    return SweepSpec.model_validate(spec)
