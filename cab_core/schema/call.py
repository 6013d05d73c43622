"""What the recorder saw of a cell: its traced phases (``Span``), its model calls (``ModelCall``) and
the bytes of those calls (``Exchange``), kept for ``cab replay``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field

from cab_core.schema.base import Record


class TokenSource(StrEnum):
    proxy = "proxy"
    tui_stdout = "tui_stdout"
    none = "none"


class Span(Record):
    """One traced phase; ids are 32 hex chars like the seed pages'."""

    trace_id: str
    span_id: str
    parent_id: str | None = None
    kind: str = Field(description="task_setup, endpoint, tool_call, container, adapter_run, scoring, cleanup")
    name: str
    started_at: datetime
    duration_ms: float = Field(ge=0, allow_inf_nan=False)
    attrs: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class ModelCall(Record):
    """One model request/response pair."""

    seq: int = Field(ge=0, description="Order within the cell, from 0.")
    timestamp: datetime
    request_hash: str = Field(description="sha256 of the canonical request body.")
    model: str = ""
    prompt_tokens: int | None = Field(None, ge=0)
    completion_tokens: int | None = Field(None, ge=0)
    cached_tokens: int | None = Field(None, ge=0)
    reasoning_tokens: int | None = Field(None, ge=0)
    latency_ms: float | None = Field(None, ge=0, allow_inf_nan=False)
    ttft_ms: float | None = Field(None, ge=0, allow_inf_nan=False)
    finish_reason: str | None = None
    http_status: int | None = None
    estimated: bool = False
    source: TokenSource = TokenSource.tui_stdout
    endpoint_path: str | None = Field(None, description="Request path, e.g. /v1/chat/completions.")
    stream: bool | None = Field(None, description="Whether the call was streamed (SSE).")
    upstream_attempt: int = Field(
        1, ge=1, description="1 for the first try; retries of 429/5xx/resets count up."
    )
    error: str | None = Field(None, description="Transport or upstream error of this try (retried or final).")
    queued_ms: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="Time the call waited for a slot of the endpoint's concurrency cap.",
    )
    replay: Literal["hash", "order"] | None = Field(
        None,
        description="Set when the answer came from a recorded cell (``cab replay``): matched by request "
        "hash, or by position when the agent's request differed from the recorded one.",
    )
    sampling: dict[str, Any] = Field(
        default_factory=dict,
        description="Sampling parameters in the request body as the agent sent it (temperature, top_p, "
        "seed, max_tokens, stop, reasoning_effort, ...): JSON scalars verbatim, long strings and lists "
        "cut, objects summarised; a key the agent did not send is absent (cab_workers/proxy/sampling.py).",
    )
    sampling_forced: dict[str, Any] = Field(
        default_factory=dict,
        description="What cab set in the body sent upstream in place of the agent's values (the sweep's "
        "``sampling`` policy), by the name it was sent under; empty when the call went as the agent "
        "wrote it.",
    )


class Exchange(Record):
    """The bytes of one model call as the agent saw them: what ``cab replay`` answers from.

    Only the try whose answer reached the agent is kept (retried upstream faults are not). Stored in
    their own table, compressed, never inside the ``CellResult`` JSON.
    """

    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    seq: int = Field(ge=0, description="``ModelCall.seq`` of the try whose answer the agent got.")
    request_hash: str
    endpoint_path: str = Field(description="e.g. /v1/chat/completions")
    http_status: int
    content_type: str = ""
    request_body: bytes = b""
    response_body: bytes = Field(b"", description="As relayed (an SSE stream is kept whole, events intact).")
