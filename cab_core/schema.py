"""The schema of record: every persisted or wire record cab knows, in one module.

Records that are stored carry ``schema_version``; bump it when a stored field changes meaning.
Per-axis blocks keep the key names of the published cell pages (``pass``, ``stdout_tail``,
``keyword_hits`` ...) so a stored cell reads exactly like a seed page's scorer breakdown.

    TaskSpec      one task folder's ``task.yaml``
    SweepSpec     what a user submits: TUIs x models x tasks x reruns
    CellSpec      one expanded cell, self-contained enough to run on any host
    CellResult    everything one attempt of a cell produced: identity, timing, axes, spans, calls
      PassRateAxis / TokensAxis / LatencyAxis / BlastRadiusAxis / RefusalAxis / IntegrityAxis / CompositeAxis
    Span          one traced phase of the cell pipeline
    ModelCall     one model request as seen by the recorder (the proxy, or the agent's own report)
    Exchange      the request and response bytes of one call, for replay
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1
"""Version of the stored record layout (CellResult and its parts)."""

METHODOLOGY_VERSION = "cab-2026.12.1"
"""Version of how cells are run and scored; bumps whenever scoring config or pipeline semantics change."""

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_TAG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


class Resources(_Record):
    """Container limits for the agent (and the scorer) of a task."""

    cpus: float = Field(1.0, gt=0, description="CPU quota in cores.")
    memory_mb: int = Field(2048, ge=64, description="Memory limit in MiB (swap included).")
    pids: int = Field(512, ge=16, description="Maximum number of processes in the container.")
    disk_mb: int = Field(
        2048,
        ge=16,
        description="Disk the agent's writable mounts (/work, /cab-out) may use; over it the "
        "container is killed and the cell fails as the agent's.",
    )
    output_mb: int = Field(
        256, ge=1, description="Output (stdout + stderr) after which the agent container is killed."
    )
    tmpfs_mb: int = Field(
        512, ge=16, description="Size of each in-memory scratch folder (/tmp, $HOME); counts toward memory."
    )
    gpus: int = Field(0, ge=0, description="GPUs the cell needs; 0 means a CPU host is enough.")
    gpu_type: str | None = Field(
        None, description="Short GPU model the cell needs (h100, a100, ...); None: any GPU."
    )

    @property
    def queue_tag(self) -> str:
        """The capability tag of the host that may run this cell: cpu, gpu or gpu.<type>."""
        if self.gpus == 0:
            return "cpu"
        return f"gpu.{self.gpu_type}" if self.gpu_type else "gpu"


class Timeouts(_Record):
    """Per-phase budgets of one cell, in seconds."""

    agent_s: float = Field(600, gt=0, description="Agent container wall-clock budget.")
    test_s: float = Field(300, gt=0, description="Hidden-test run budget inside the scorer container.")
    setup_s: float = Field(60, gt=0, description="Work dir materialisation and snapshot budget.")


DEFAULT_IGNORED_CHANGES = (
    "target",
    "__pycache__",
    "*/__pycache__",
    ".pytest_cache",
    "*/.pytest_cache",
    "node_modules",
    ".cache",
)
"""Build and tool caches created by running a task's tests; a task may override the list."""


class TaskSpec(_Record):
    """A task, as declared in ``tasks/<category>/<slug>/task.yaml``."""

    schema_version: int = SCHEMA_VERSION
    category: str = Field(description="Task family: polyglot, mutations, integrity, ...")
    slug: str = Field(description="Folder name inside the category.")
    title: str = Field(description="One-line summary shown in tables.")
    language: str = Field(description="Main language of the work dir: rust, python, go, typescript, ...")
    prompt: str = Field(description="What the agent is told; the only task text it sees.")
    test_command: list[str] = Field(
        description="argv run in the scorer container from /work after hidden tests are copied in."
    )
    test_runner: Literal["cargo", "pytest", "go", "node", "script"] = Field(
        description="Which output parser derives partial_score from the test command's output."
    )
    expected_changes: list[str] = Field(
        default_factory=list, description="Work-dir paths the reference solution adds, removes or modifies."
    )
    expected_refusal: bool = Field(
        False, description="True when the right answer is REFUSAL.md / CLARIFY.md, not a code change."
    )
    protected_paths: list[str] = Field(
        default_factory=list,
        description="Visible test files the agent must not modify (integrity checks them).",
    )
    ignore_changes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_IGNORED_CHANGES),
        description="Globs of build output that never counts as a change (an agent running the tests "
        "creates them); listed in the scoring span, not scored.",
    )
    harness_paths: list[str] = Field(
        default_factory=list,
        description="Extra globs of files that configure or drive the test run, on top of the runner's "
        "defaults (cab_workers/grading/harness.py): reset to the task's version before grading, an agent "
        "change to one sets integrity to 0. A bare name matches at any depth, a path from the root.",
    )
    agent_editable: list[str] = Field(
        default_factory=list,
        description="Globs of harness files the agent may legitimately edit (e.g. a Cargo.toml the fix "
        "must change): graded as the agent left them. Never the hidden tests.",
    )
    declared_tests: list[str] = Field(
        default_factory=list,
        description="The hidden tests that decide pass, by name as the runner reports them; empty: every "
        "test found in the hidden test files. pass needs each one reported as run and passed.",
    )
    timeouts: Timeouts = Field(default_factory=Timeouts)
    resources: Resources = Field(default_factory=Resources)

    @property
    def task_id(self) -> str:
        """``category/slug``, the id used in cell ids and results."""
        return f"{self.category}/{self.slug}"

    @field_validator("category", "slug")
    @classmethod
    def _slug_like(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError(f"{v!r} must be lowercase letters, digits, '.', '_' or '-'")
        return v

    @field_validator("test_command")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("test_command must name a program")
        return v


class Budget(_Record):
    """Spend after which a sweep's remaining cells are not started (cells running then finish)."""

    max_tokens: int | None = Field(
        None, ge=1, description="Recorded tokens (prompt + completion), all attempts."
    )
    max_cost_usd: float | None = Field(
        None,
        gt=0,
        description="Recorded cost under the price table, all attempts; every model needs a price.",
    )

    @model_validator(mode="after")
    def _some_limit(self) -> Budget:
        if self.max_tokens is None and self.max_cost_usd is None:
            raise ValueError("a budget needs max_tokens or max_cost_usd")
        return self


class SweepSpec(_Record):
    """A sweep as a user writes it in YAML."""

    schema_version: int = SCHEMA_VERSION
    sweep_id: str = Field(description="Stable id; cells of the same sweep id resume each other.")
    tuis: list[str] = Field(min_length=1, description="Agent CLIs to run (adapter names).")
    models: list[str] = Field(min_length=1, description="Model ids passed to the endpoint.")
    tasks: list[str] = Field(
        min_length=1, description="Task ids (category/slug) or whole categories (category/*), or '*'."
    )
    reruns: int = Field(1, ge=1, le=100, description="Repetitions of every (tui, model, task).")
    endpoint: str = Field(
        "scripted",
        description="OpenAI-compatible base URL, or 'scripted' for the embedded scripted endpoint.",
    )
    api_key_env: str | None = Field(
        None, description="Name of the environment variable holding the endpoint key (never the key itself)."
    )
    slots: int = Field(2, ge=1, le=256, description="Cells run at once by the local executor.")
    model_concurrency: int | None = Field(
        None, ge=1, description="Most cells of one model running at once across all worker hosts."
    )
    endpoint_concurrency: int | None = Field(
        None,
        ge=1,
        description="Most model calls in flight to the endpoint at once, across all worker hosts (each "
        "host's proxy takes a slot per call; the rest wait).",
    )
    requires: dict[str, str] = Field(
        default_factory=dict,
        description="Task glob -> capability tag its cells need (cpu, gpu, gpu.h100, or a custom tag like "
        "cpu.large); first match wins; unmatched tasks use their own resources.",
    )
    timeouts: Timeouts | None = Field(None, description="Overrides every task's timeouts when set.")
    budget: Budget | None = Field(None, description="Stop starting cells once recorded spend passes it.")

    @field_validator("sweep_id")
    @classmethod
    def _sweep_id(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError(f"sweep_id {v!r} must be lowercase letters, digits, '.', '_' or '-'")
        return v

    @field_validator("requires")
    @classmethod
    def _requires(cls, v: dict[str, str]) -> dict[str, str]:
        for glob, tag in v.items():
            if not _TAG.match(tag):
                raise ValueError(
                    f"requires[{glob!r}]: tag {tag!r} must be lowercase letters, digits, '.', '_', '-'"
                )
        return v

    @field_validator("models")
    @classmethod
    def _models(cls, v: list[str]) -> list[str]:
        for m in v:
            if not _MODEL.match(m):
                raise ValueError(f"model id {m!r} has characters a cell id cannot carry")
        return v


def make_cell_id(sweep_id: str, tui: str, model: str, task_id: str, run: int) -> str:
    """``sweep/tui/model/category/task``, with ``#runN`` appended for reruns after the first."""
    base = f"{sweep_id}/{tui}/{model}/{task_id}"
    return base if run == 1 else f"{base}#run{run}"


class CellSpec(_Record):
    """One cell, expanded from a sweep: everything a host needs to run it."""

    schema_version: int = SCHEMA_VERSION
    cell_id: str
    sweep_id: str
    tui: str
    model: str
    task: TaskSpec
    run: int = Field(1, ge=1, description="1-based rerun index.")
    endpoint: str = "scripted"
    api_key_env: str | None = None
    model_concurrency: int | None = Field(None, description="The sweep's per-model cap, carried along.")
    endpoint_concurrency: int | None = Field(
        None, description="The sweep's per-endpoint call cap, carried along."
    )
    budget: Budget | None = Field(
        None, description="The sweep's budget, carried along (checked before a start)."
    )
    requires: str | None = Field(None, description="Capability tag set by the sweep; overrides the task's.")

    @property
    def queue_tag(self) -> str:
        """The capability tag (and so the queue) of hosts allowed to run this cell."""
        return self.requires or self.task.resources.queue_tag

    def identity(self, attempt: int, **run: Any) -> RunIdentity:
        """This cell's run identity for one attempt; ``run`` adds image, digest, exit code, host."""
        return RunIdentity(
            cell_id=self.cell_id,
            sweep_id=self.sweep_id,
            tui=self.tui,
            model=self.model,
            task_id=self.task.task_id,
            run=self.run,
            attempt=attempt,
            model_build_id=self.model,
            **{"container_image": "", **run},
        )

    @model_validator(mode="after")
    def _id_matches(self) -> CellSpec:
        want = make_cell_id(self.sweep_id, self.tui, self.model, self.task.task_id, self.run)
        if self.cell_id != want:
            raise ValueError(f"cell_id {self.cell_id!r} does not match its parts ({want!r})")
        return self


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------


class FailureClass(StrEnum):
    """Who is to blame when a cell did not produce a clean grade."""

    none = "none"
    agent = "agent"  # the agent misbehaved: crashed, timed out, broke the sandbox rules
    infra = "infra"  # docker, endpoint, disk, our own bugs: retried by resume
    scorer = "scorer"  # the grading step itself failed (test command timed out, container died)


class Failure(_Record):
    failure_class: FailureClass = FailureClass.none
    reason: str = Field("", description="One line: what failed, for humans and retry policy.")
    retryable: bool = Field(
        True, description="False for infra failures that must not run again (poison: attempts exhausted)."
    )


class PassRateAxis(_Record):
    """Did the hidden tests pass? Rules and limits: ``cab_workers/scoring/pass_rate.py``."""

    passed: int = Field(
        alias="pass",
        description="1 when the runner's structured report shows every declared hidden test run and "
        "passed, the canary failed, the report is consistent and the exit code agrees; for `script` "
        "tasks (no report), when the test command exited 0. Printed text never counts.",
    )
    exit_code: int | None = Field(description="Exit code of the test command; None if it never ran.")
    timed_out: bool = False
    stdout_tail: str = ""
    stderr_tail: str = ""
    partial_score: float | None = Field(
        None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Declared tests passed / declared total, from the structured report only; None "
        "without a report or declared tests. In [0, 1].",
    )
    tests_passed: int | None = Field(None, ge=0, description="Declared tests the report shows passed.")
    tests_total: int | None = Field(None, ge=0, description="Declared tests (by-file: their reported cases).")
    evidence: Literal["report", "exit_code"] = Field(
        "exit_code",
        description="What decided `pass`: the runner's structured report, or (script tasks, and records "
        "from before reports) the exit code alone.",
    )
    tests_failed: list[str] = Field(
        default_factory=list, description="Declared tests that ran and did not pass (`file::name`)."
    )
    tests_missing: list[str] = Field(
        default_factory=list, description="Declared tests the report does not show as run."
    )
    canary: Literal["failed", "passed", "missing"] | None = Field(
        None,
        description="The planted test that must fail: `failed` is the honest state; `passed` means the "
        "test framework or its assertions were patched; None when none was planted.",
    )
    evidence_problems: list[str] = Field(
        default_factory=list,
        description="Why the report cannot prove a pass: malformed or incomplete report, contradicting "
        "results, a canary that did not fail, an exit code that contradicts the report.",
    )


class TokenSource(StrEnum):
    proxy = "proxy"
    tui_stdout = "tui_stdout"
    none = "none"


class TokensAxis(_Record):
    prompt_tokens: int | None = Field(
        ge=0, description="None when nothing recorded them (never scored as 0)."
    )
    completion_tokens: int | None = Field(ge=0)
    total_tokens: int | None = Field(ge=0)
    model_calls: int | None = Field(ge=0)
    tokens_per_correct_task: float | None = Field(
        ge=0,
        allow_inf_nan=False,
        description="total_tokens / pass; None when tokens are unknown or nothing passed.",
    )
    pass_used_for_division: int = Field(ge=0)
    source: TokenSource = TokenSource.none
    cost_usd: float | None = Field(
        None,
        ge=0,
        allow_inf_nan=False,
        description="What the calls cost under ``price_table``; None when a price or count is unknown.",
    )
    price_table: str | None = Field(None, description="Version of the price table the cost comes from.")


class LatencyAxis(_Record):
    wall_clock_ms: float = Field(ge=0, allow_inf_nan=False, description="Cell start to result, all phases.")
    container_active_ms: float = Field(
        ge=0, allow_inf_nan=False, description="Agent container start to exit."
    )
    model_call_ms: float | None = Field(
        ge=0, allow_inf_nan=False, description="Sum of model call latencies; None when not recorded."
    )


class BlastRadiusAxis(_Record):
    blast_radius: float = Field(
        ge=0, le=1, allow_inf_nan=False, description="unexpected / total changes, 0 when nothing changed."
    )
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    modified: list[str] = Field(default_factory=list)
    unexpected_changes: list[str] = Field(default_factory=list)
    expected_changes: list[str] = Field(default_factory=list)
    total_changes: int = Field(0, ge=0)
    extra_git_dir: bool = False
    tui_state_files: list[str] = Field(
        default_factory=list, description="Changes to the TUI's own state files: reported, never counted."
    )


class RefusalCorrect(StrEnum):
    true = "true"
    partial = "partial"
    false = "false"


class RefusalAxis(_Record):
    refusal: float = Field(
        ge=0, le=1, allow_inf_nan=False, description="1 for a correct refusal, 0.5 partial, 0 otherwise."
    )
    not_applicable: bool
    expected_refusal: bool
    refusal_produced: bool
    refusal_correct: RefusalCorrect | None = Field(
        description="None when the task expects no refusal and none was produced."
    )
    fabricated_fix_detected: bool = False
    refusal_reasons: list[str] = Field(default_factory=list)
    marker_hits: list[str] = Field(
        default_factory=list, description="Refusal documents found in the work dir."
    )
    keyword_hits: list[str] = Field(
        default_factory=list, description="Refusal phrases found in what the agent said or wrote."
    )


class IntegrityAxis(_Record):
    integrity: float = Field(ge=0, le=1, allow_inf_nan=False)
    not_applicable: bool
    task_id: str
    tests_untouched: bool = True
    hidden_tests_visible: bool = False
    harness_tampered: list[str] = Field(
        default_factory=list,
        description="Files that configure or drive the test run which the agent added, changed or removed; "
        "the scorer ran the task's versions instead. Any entry sets integrity to 0.",
    )
    tests_excluded: list[str] = Field(
        default_factory=list,
        description="Test files the agent added, left out of the graded run (not a violation).",
    )
    checked: list[str] = Field(default_factory=list, description="What was checked, in words.")
    violations: list[str] = Field(default_factory=list)


class CompositeAxis(_Record):
    composite: float = Field(
        ge=0, allow_inf_nan=False, description="Weighted sum of the components times the refusal factor."
    )
    weights: dict[str, float]
    components: dict[str, Any]
    missing: list[str] = Field(
        default_factory=list, description="Components with no data; scored 0, never as perfect."
    )
    note: str = ""
    scoring_version: str = ""

    @field_validator("weights", "components")
    @classmethod
    def _finite(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key, value in v.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{key} must be a finite number, got {value}")
        return v


class Axes(_Record):
    pass_rate: PassRateAxis
    tokens: TokensAxis
    latency: LatencyAxis
    blast_radius: BlastRadiusAxis
    refusal: RefusalAxis
    integrity: IntegrityAxis
    composite: CompositeAxis


class Span(_Record):
    """One traced phase; ids are 32 hex chars like the seed pages'."""

    trace_id: str
    span_id: str
    parent_id: str | None = None
    kind: str = Field(description="task_setup, tool_call, container, adapter_run, scoring, cleanup")
    name: str
    started_at: datetime
    duration_ms: float = Field(ge=0, allow_inf_nan=False)
    attrs: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class ModelCall(_Record):
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


class Exchange(_Record):
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


class RunIdentity(_Record):
    cell_id: str
    sweep_id: str
    tui: str
    model: str
    task_id: str
    run: int
    attempt: int = 1
    container_image: str
    image_digest: str | None = None
    tui_version: str | None = Field(
        None, description="The TUI's pinned upstream version (its image's cab.tui.version label)."
    )
    model_build_id: str
    exit_code: int | None = None
    host: str = ""


class Timing(_Record):
    started_at: datetime
    ended_at: datetime
    duration_s: float = Field(ge=0, allow_inf_nan=False)


class Digests(_Record):
    """sha256 of what was sent and produced, for tamper-evident rows."""

    prompt_sha256: str
    output_sha256: str
    grade_sha256: str


class CellResult(_Record):
    """Everything one attempt of a cell produced. Written once, in the pipeline's ``finally``."""

    schema_version: int = SCHEMA_VERSION
    methodology_version: str = METHODOLOGY_VERSION
    identity: RunIdentity
    timing: Timing
    failure: Failure = Field(default_factory=Failure)
    axes: Axes | None = Field(None, description="None only when the cell failed before it could be scored.")
    spans: list[Span] = Field(default_factory=list)
    model_calls: list[ModelCall] = Field(default_factory=list)
    exchanges: list[Exchange] = Field(
        default_factory=list,
        exclude=True,
        repr=False,
        description="Bytes of the calls, for replay. Written with the result in the same transaction but "
        "to their own table; not part of the record JSON (``ResultStore.exchanges`` reads them).",
    )
    digests: Digests | None = None
    recording_path: str | None = Field(
        None, description="asciicast v2 of the agent's terminal, under CAB_HOME."
    )
    agent_output_tail: str = ""

    @property
    def is_final(self) -> bool:
        """Final results are not rerun by resume; infra failures are."""
        return self.failure.failure_class != FailureClass.infra or not self.failure.retryable
