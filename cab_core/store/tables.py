"""Table layout of the result store (SQLAlchemy Core).

    sweeps        one row per submitted sweep: the SweepSpec as JSON
    cells         one row per (cell_id, attempt): query columns + the whole CellResult as JSON
    spans         the result's trace spans, replaced with their cell row
    model_calls   the result's model calls, replaced with their cell row
    exchanges     the bytes of those calls (zlib), replaced with their cell row: what replay answers from
    artifacts     the agent's diff and terminal recording (zlib), replaced with their cell row
    task_bundles  every task folder a sweep was submitted with, by content hash (cab_core.task_bundle)

``cells.record`` is the record of truth; every other cell column, ``spans`` and ``model_calls``
are derived from it on write so SQL can filter and aggregate without parsing JSON.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

JSONDoc = JSON().with_variant(JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL."""

metadata = MetaData()

sweeps = Table(
    "sweeps",
    metadata,
    Column("sweep_id", String(), primary_key=True),
    Column("spec", JSONDoc, nullable=False, comment="SweepSpec, model_dump(mode='json')"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # added with the store-held cell leases: defaults, so create_schema can ALTER them into older stores
    Column(
        "active", Boolean, nullable=False, server_default=text("true"), comment="The dispatcher visits it"
    ),
    Column("cancelled_at", Float, nullable=True, comment="Store clock (epoch s) of `cab cancel`; None: not"),
    Column("stopped", Text, nullable=True, comment="Why the budget stopped the sweep; None: not stopped"),
)

cells = Table(
    "cells",
    metadata,
    Column("cell_id", String(), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("sweep_id", String(), nullable=False),
    Column("tui", String(), nullable=False),
    Column("model", String(), nullable=False),
    Column("task_id", String(), nullable=False),
    Column("run", Integer, nullable=False),
    Column("failure_class", String(), nullable=False),
    Column("composite", Float, nullable=True, comment="None when the cell was never scored"),
    Column("pass", Integer, key="passed", nullable=True, comment="None when the cell was never scored"),
    Column("final", Boolean, nullable=False, comment="False for infra failures: resume reruns them"),
    Column("record", JSONDoc, nullable=False, comment="CellResult, model_dump(mode='json', by_alias=True)"),
    Column("schema_version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # added after the first release: nullable, so create_schema can ALTER them into older stores
    Column("total_tokens", Integer, nullable=True, comment="Recorded tokens; None when unknown"),
    Column("cost_usd", Float, nullable=True, comment="Cost under the price table; None when unknown"),
    Column("task_hash", String(), nullable=True, comment="Task content hash it ran; None before hashes"),
    Index("ix_cells_sweep", "sweep_id", "cell_id"),
)

spans = Table(
    "spans",
    metadata,
    Column("cell_id", String(), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("ordinal", Integer, primary_key=True, comment="Position in CellResult.spans"),
    Column("span_id", String(), nullable=False),
    Column("trace_id", String(), nullable=False),
    Column("parent_id", String(), nullable=True),
    Column("kind", String(), nullable=False),
    Column("name", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("attrs", JSONDoc, nullable=False),
    Column("error", Text, nullable=True),
    ForeignKeyConstraint(["cell_id", "attempt"], ["cells.cell_id", "cells.attempt"], ondelete="CASCADE"),
    Index("ix_spans_span_id", "span_id"),
)

model_calls = Table(
    "model_calls",
    metadata,
    Column("cell_id", String(), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("request_hash", String(), nullable=False),
    Column("model", String(), nullable=False),
    Column("prompt_tokens", Integer, nullable=True),
    Column("completion_tokens", Integer, nullable=True),
    Column("cached_tokens", Integer, nullable=True),
    Column("reasoning_tokens", Integer, nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("ttft_ms", Float, nullable=True),
    Column("finish_reason", String(), nullable=True),
    Column("http_status", Integer, nullable=True),
    Column("estimated", Boolean, nullable=False),
    Column("source", String(), nullable=False),
    ForeignKeyConstraint(["cell_id", "attempt"], ["cells.cell_id", "cells.attempt"], ondelete="CASCADE"),
)

exchanges = Table(
    "exchanges",
    metadata,
    Column("cell_id", String(), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("seq", Integer, primary_key=True, comment="ModelCall.seq of the try the agent got"),
    Column("request_hash", String(), nullable=False),
    Column("endpoint_path", String(), nullable=False),
    Column("http_status", Integer, nullable=False),
    Column("content_type", String(), nullable=False),
    Column("request_body", LargeBinary, nullable=False, comment="zlib"),
    Column("response_body", LargeBinary, nullable=False, comment="zlib"),
    ForeignKeyConstraint(["cell_id", "attempt"], ["cells.cell_id", "cells.attempt"], ondelete="CASCADE"),
)
"""Request and response bytes of every answered model call (``Exchange``), kept out of the record JSON."""

artifacts = Table(
    "artifacts",
    metadata,
    Column("cell_id", String(), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("name", String(), primary_key=True, comment="ArtifactName: terminal.cast, agent.diff"),
    Column("media_type", String(), nullable=False),
    Column("original_bytes", BigInteger, nullable=False, comment="Size before truncation"),
    Column("truncated", Boolean, nullable=False),
    Column("sha256", String(), nullable=False, comment="Of the kept body, before compression"),
    Column("body", LargeBinary, nullable=False, comment="zlib"),
    ForeignKeyConstraint(["cell_id", "attempt"], ["cells.cell_id", "cells.attempt"], ondelete="CASCADE"),
)
"""What an attempt left besides its scores (``Artifact``), kept out of the record JSON: added after the
first release, so ``create_schema`` creates it in older stores (``create_all`` adds missing tables)."""

planned = Table(
    "planned",
    metadata,
    Column("cell_id", String(), primary_key=True),
    Column("sweep_id", String(), nullable=False),
    Column("seq", Integer, nullable=False, comment="Expansion order; dispatch follows it"),
    Column("queue", String(), nullable=False, comment="Capability tag: cpu, gpu, gpu.<type>"),
    Column("tui", String(), nullable=False),
    Column("model", String(), nullable=False),
    Column("spec", JSONDoc, nullable=False, comment="CellSpec, model_dump(mode='json')"),
    Column("enqueued_at", DateTime(timezone=True), nullable=True, comment="None: waiting for dispatch"),
    Column(
        "after_attempt",
        Integer,
        nullable=False,
        default=0,
        comment="A final result counts only above this attempt (retry of final failures)",
    ),
    # the cell's lease and retry state: the store, not Redis, decides who runs a cell and when
    Column("fence", Integer, nullable=False, server_default=text("0"), comment="Bumped by every lease taken"),
    Column("holder", String(), nullable=True, comment="Worker holding the lease (None: nobody)"),
    Column("lease_until", Float, nullable=True, comment="Lease expiry, store clock (epoch s)"),
    Column(
        "tries",
        Integer,
        nullable=False,
        server_default=text("0"),
        comment="Leases taken since the last retry",
    ),
    Column("not_before", Float, nullable=True, comment="Backoff: not dispatched before (store clock)"),
    Column(
        "cancelled", Boolean, nullable=False, server_default=text("false"), comment="Cancelled, not rerun"
    ),
    Index("ix_planned_pending", "sweep_id", "enqueued_at", "seq"),
    # the dispatcher's per-round reads touch only undispatched rows, by queue, in order
    Index(
        "ix_planned_undispatched",
        "sweep_id",
        "queue",
        "seq",
        postgresql_where=text("enqueued_at IS NULL"),
        sqlite_where=text("enqueued_at IS NULL"),
    ),
)
"""Every cell a submitted sweep must produce: the dispatcher's work list and the status baseline."""

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("cell_id", String(), primary_key=True),
    Column("attempt", Integer, nullable=False, comment="Attempt whose agent produced this state"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("meta", JSONDoc, nullable=False, comment="Snapshot manifest, agent run summary, agent report"),
    Column("workdir", LargeBinary, nullable=False, comment="tar.gz of /work after the agent"),
)
"""Run/score checkpoints: a redelivery after the agent finished rescores instead of rerunning it."""

task_bundles = Table(
    "task_bundles",
    metadata,
    Column("task_hash", String(), primary_key=True, comment="cab_core.task_bundle.content_hash"),
    Column("task_id", String(), nullable=False, comment="category/slug it was packed from"),
    Column("size", Integer, nullable=False, comment="Bytes of the bundle"),
    Column("bundle", LargeBinary, nullable=False, comment="tar.gz written by cab_core.task_bundle.pack"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""Task folders by content: written by ``cab submit`` / ``cab run`` before the plan, never changed
(a hash names one content), fetched by hosts that lack a cell's task version."""
