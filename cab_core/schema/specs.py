"""What a user submits and what it expands into: ``SweepSpec`` and its ``CellSpec`` cells."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator, model_validator

from cab_core.schema.base import MODEL, SLUG, SPEC_SCHEMA_VERSION, Record
from cab_core.schema.endpoint import LOCAL_MODEL
from cab_core.schema.policy import SweepPolicy, lift_flat_policy
from cab_core.schema.result import RunIdentity
from cab_core.schema.task import TaskSpec, Timeouts


class SweepSpec(Record):
    """A sweep as a user writes it in YAML.

    The policy keys (``endpoint``, ``model_concurrency``, ``budget``, ``requires``, ``sampling``, and a URL
    endpoint's ``api_key_env`` / ``endpoint_concurrency``) are written at the top level of the file;
    they load into ``policy``, which is how a sweep is stored. A file may nest them under ``policy:``
    instead, but not use both forms at once.
    """

    schema_version: int = SPEC_SCHEMA_VERSION
    sweep_id: str = Field(description="Stable id; cells of the same sweep id resume each other.")
    tuis: list[str] = Field(min_length=1, description="Agent CLIs to run (adapter names).")
    models: list[str] = Field(min_length=1, description="Model ids passed to the endpoint.")
    tasks: list[str] = Field(
        min_length=1, description="Task ids (category/slug) or whole categories (category/*), or '*'."
    )
    reruns: int = Field(1, ge=1, le=100, description="Repetitions of every (tui, model, task).")
    slots: int = Field(2, ge=1, le=256, description="Cells run at once by the local executor.")
    timeouts: Timeouts | None = Field(None, description="Overrides every task's timeouts when set.")
    policy: SweepPolicy = Field(
        default_factory=SweepPolicy,
        description="Endpoint, per-model cap, budget and capability tags: shared by every cell.",
    )

    @model_validator(mode="before")
    @classmethod
    def _flat_policy(cls, data: Any) -> Any:
        return lift_flat_policy(data)

    @field_validator("sweep_id")
    @classmethod
    def _sweep_id(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"sweep_id {v!r} must be lowercase letters, digits, '.', '_' or '-'")
        return v

    @field_validator("models")
    @classmethod
    def _models(cls, v: list[str]) -> list[str]:
        for m in v:
            if not MODEL.match(m):
                raise ValueError(f"model id {m!r} has characters a cell id cannot carry")
        return v

    @model_validator(mode="after")
    def _local_models(self) -> SweepSpec:
        spec = self.policy.endpoint
        if spec.kind == "local":
            for m in self.models:
                name = spec.model or m
                if spec.model is not None and m != spec.model:
                    raise ValueError(
                        f"endpoint local:{spec.model} serves the model {spec.model!r} only, but models "
                        f"lists {m!r}; use `endpoint: local` to give each model its own server"
                    )
                if not LOCAL_MODEL.match(name):
                    raise ValueError(
                        f"model {m!r} is not a local model name (images/model-<name>/): lowercase "
                        "letters, digits, '.', '_' or '-'"
                    )
        return self


def make_cell_id(sweep_id: str, tui: str, model: str, task_id: str, run: int) -> str:
    """``sweep/tui/model/category/task``, with ``#runN`` appended for reruns after the first."""
    base = f"{sweep_id}/{tui}/{model}/{task_id}"
    return base if run == 1 else f"{base}#run{run}"


class CellSpec(Record):
    """One cell, expanded from a sweep: everything a host needs to run it.

    A version-1 record (the sweep's endpoint, key variable, caps, budget and resolved tag copied in
    as six fields) loads as this layout: see ``cab_core.schema.policy``.
    """

    schema_version: int = SPEC_SCHEMA_VERSION
    cell_id: str
    sweep_id: str
    tui: str
    model: str
    task: TaskSpec
    run: int = Field(1, ge=1, description="1-based rerun index.")
    task_hash: str = Field(
        "",
        description="Content hash of the whole task folder at submit time (cab_core.task_bundle): a host "
        "runs the cell only against that content, fetching the stored bundle when it lacks it. Empty in "
        "records written before tasks travelled by content (the host's own folder is used).",
    )
    policy: SweepPolicy = Field(
        default_factory=SweepPolicy,
        description="The sweep's policy (endpoint, per-model cap, budget, requires), the same record "
        "for every cell of the sweep.",
    )

    @model_validator(mode="before")
    @classmethod
    def _version_1(cls, data: Any) -> Any:
        return lift_flat_policy(data, requires_is_tag=True)

    @property
    def queue_tag(self) -> str:
        """The capability tag (and so the queue) of hosts allowed to run this cell: the sweep's
        ``requires`` for its task, else what the task's resources need."""
        return self.policy.tag_for(self.task.task_id) or self.task.resources.queue_tag

    def same_plan(self, stored: Mapping[str, Any]) -> bool:
        """True when ``stored`` (a planned cell's JSON, of any layout version) runs exactly as this cell
        does: every field equal, the sweep's ``requires`` compared by the tag it gives this task."""
        if stored == self.model_dump(mode="json"):
            return True
        return CellSpec.model_validate(stored)._plan_view() == self._plan_view()

    def _plan_view(self) -> dict[str, Any]:
        view = self.model_dump(mode="json", exclude={"policy": {"requires"}})
        view["requires"] = self.policy.tag_for(self.task.task_id)
        return view

    def identity(self, attempt: int, **run: Any) -> RunIdentity:
        """This cell's run identity for one attempt; ``run`` adds image, digest, exit code, host and
        the model build id (default: the model id, when the endpoint did not say)."""
        return RunIdentity(
            cell_id=self.cell_id,
            sweep_id=self.sweep_id,
            tui=self.tui,
            model=self.model,
            task_id=self.task.task_id,
            run=self.run,
            attempt=attempt,
            task_hash=self.task_hash,
            **{"container_image": "", "model_build_id": self.model, **run},
        )

    @model_validator(mode="after")
    def _id_matches(self) -> CellSpec:
        want = make_cell_id(self.sweep_id, self.tui, self.model, self.task.task_id, self.run)
        if self.cell_id != want:
            raise ValueError(f"cell_id {self.cell_id!r} does not match its parts ({want!r})")
        return self
