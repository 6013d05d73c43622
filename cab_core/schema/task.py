"""A task, as its folder declares it: ``TaskSpec`` with its container limits and phase budgets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from cab_core.schema.base import SCHEMA_VERSION, SLUG, Record


class Resources(Record):
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


class Timeouts(Record):
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


class GeneratedBy(Record):
    """Where a generated task came from (``cab tasks mutate``), so it can be regenerated."""

    source: str = Field(description="Task id (category/slug) of the task it was generated from.")
    source_hash: str = Field(description="Content hash of the source task folder when it was generated.")
    operator: str = Field(description="The mutation operator applied (negate-condition, off-by-one, ...).")
    seed: int = Field(description="Seed that ordered the candidate mutants.")
    rank: int = Field(ge=1, description="Position of this mutant in the seed's order (1-based).")


class TaskSpec(Record):
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
    test_runner: Literal["cargo", "pytest", "go", "node", "script", "junit", "ctest", "tsc"] = Field(
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
    generated_by: GeneratedBy | None = Field(
        None, description="Provenance of a generated task (the mutation generator); None: written by hand."
    )

    @property
    def task_id(self) -> str:
        """``category/slug``, the id used in cell ids and results."""
        return f"{self.category}/{self.slug}"

    @field_validator("category", "slug")
    @classmethod
    def _slug_like(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(f"{v!r} must be lowercase letters, digits, '.', '_' or '-'")
        return v

    @field_validator("test_command")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("test_command must name a program")
        return v
