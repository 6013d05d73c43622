"""The adapter contract: how cab launches one TUI and reads back what it did.

An adapter is pure: it turns a cell plus the endpoint wiring into an ``AgentLaunch`` (image, argv,
environment, config files) and parses the TUI's own output after the run. It never talks to Docker;
the pipeline does that with what the adapter returns.

Container layout the adapter can rely on (see ``cab_core.paths``)::

    /work       the task work dir (rw), a git repo with one commit: the snapshot
    /cab        files from AgentLaunch.files (ro); /cab/prompt.txt always holds the task prompt
    /cab-out    scratch for agent-side reports (rw), e.g. usage.jsonl
    scratch     each of ``scratch_dirs`` (rw, tmpfs); the rest of the image is read-only when
                ``read_only_root``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from cab_core.schema import CellSpec, ModelCall


@dataclass(frozen=True)
class EndpointWiring:
    """How the agent reaches the model, as seen from inside its container."""

    base_url: str
    """OpenAI-compatible base URL ending in ``/v1``."""
    api_key: str
    """Per-cell token; never the endpoint's real key."""
    model: str
    """Model id as the sweep names it."""
    context_tokens: int | None = None
    """The model's context as its server serves it; None: unknown (a TUI keeps its own default)."""


@dataclass(frozen=True)
class AgentLaunch:
    """Everything the sandbox needs to start the agent."""

    image: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    """Relative path under /cab -> content. ``prompt.txt`` is added by the pipeline."""


@dataclass(frozen=True)
class AgentReport:
    """What the adapter read back from the TUI's output after the run."""

    model_calls: list[ModelCall]
    """Calls the TUI reported itself (fallback when no proxy recorded them)."""
    transcript: str
    """What the agent said (assistant text), for refusal scanning. No tool output, no JSON keys."""
    handshake_failed: bool = False
    """The TUI could not speak to the endpoint at all (protocol mismatch, auth, unknown model)."""
    detail: str = ""
    """One line explaining a handshake failure or crash."""


@runtime_checkable
class Adapter(Protocol):
    """One TUI. Implementations live in ``cab_workers/adapters/<tui>.py``."""

    name: str
    """TUI name as sweeps spell it."""
    image_name: str
    """Image repository name under the cab prefix, e.g. ``reference`` -> ``cab/reference``."""
    state_globs: tuple[str, ...]
    """Work-dir globs of the TUI's own state (caches, history): reported but never blast radius."""
    read_only_root: bool
    """The TUI runs with the image's filesystem read-only (only ``scratch_dirs`` and the mounts are
    writable); False for a TUI that must write elsewhere."""
    scratch_dirs: tuple[str, ...]
    """Folders the TUI writes besides /work and /cab-out (its $HOME, /tmp): in-memory, size-capped."""

    def launch(self, cell: CellSpec, wiring: EndpointWiring, image: str) -> AgentLaunch:
        """Build the command line, environment and config files for this cell."""
        ...

    def report(self, stdout: str, stderr: str, exit_code: int | None, out_dir: Path) -> AgentReport:
        """Parse the TUI's output (and /cab-out files) after the run."""
        ...
