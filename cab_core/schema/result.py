"""One attempt of a cell as stored: ``CellResult`` with its identity, timing, failure and digests."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from cab_core.schema.artifact import Artifact
from cab_core.schema.axes import Axes
from cab_core.schema.base import METHODOLOGY_VERSION, SCHEMA_VERSION, Record
from cab_core.schema.call import Exchange, ModelCall, Span


class FailureClass(StrEnum):
    """Who is to blame when a cell did not produce a clean grade."""

    none = "none"
    agent = "agent"  # the agent misbehaved: crashed, timed out, broke the sandbox rules
    infra = "infra"  # docker, endpoint, disk, our own bugs: retried by resume
    scorer = "scorer"  # the grading step itself failed (test command timed out, container died)


class Failure(Record):
    failure_class: FailureClass = FailureClass.none
    reason: str = Field("", description="One line: what failed, for humans and retry policy.")
    retryable: bool = Field(
        True, description="False for infra failures that must not run again (poison: attempts exhausted)."
    )


class RunIdentity(Record):
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
    task_hash: str = Field(
        "",
        description="Content hash of the task folder the cell ran (cab_core.task_bundle); empty before "
        "tasks travelled by content.",
    )
    task_image: str | None = Field(
        None,
        description="The task environment's image tag the agent image was layered on; None: shared base.",
    )
    task_image_id: str | None = Field(None, description="Docker image id of ``task_image``.")


class Timing(Record):
    started_at: datetime
    ended_at: datetime
    duration_s: float = Field(ge=0, allow_inf_nan=False)


class Digests(Record):
    """sha256 of what was sent and produced, for tamper-evident rows."""

    prompt_sha256: str
    output_sha256: str
    grade_sha256: str


class CellResult(Record):
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
    artifacts: list[Artifact] = Field(
        default_factory=list,
        exclude=True,
        repr=False,
        description="The agent's diff and terminal recording, at most one of each (fewer when the cell "
        "failed before they existed). Written with the result in the same transaction but to their own "
        "table; not part of the record JSON (``ResultStore.artifacts`` reads them).",
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
