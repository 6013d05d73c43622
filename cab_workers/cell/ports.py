"""What the cell pipeline needs from the host that runs it, and nothing more.

    HostContext     the worker host: sandbox, images, task folders, model access, GPUs, checkpoints
    CellImages      the images one cell runs in (agent, scorer, its task's environment image)
    ModelSession    one cell's access to its model while the agent runs (the recording proxy)
    SessionRecord   what the proxy saw of that access, returned when the session closes
    CheckpointPort  where the agent's finished state is kept until the cell is stored

``cab_workers.composition`` builds a ``HostContext`` for both modes; ``cab_core.store.checkpoints``
implements ``CheckpointPort``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cab_core.paths import CabHome, TaskPaths
from cab_core.pricing import PriceTable
from cab_core.schema import CellSpec, Exchange, ModelCall
from cab_workers.host.gpus import GpuSlots
from cab_workers.host.sandbox import Sandbox


class CheckpointPort(Protocol):
    """Saves, loads and drops one cell's checkpoint (``cab_workers.cell.checkpoint`` packs it)."""

    def save(self, cell_id: str, attempt: int, meta: dict[str, Any], workdir: bytes) -> bool: ...
    def load(self, cell_id: str) -> tuple[int, dict[str, Any], bytes] | None: ...
    def drop(self, cell_id: str) -> None: ...


@dataclass(frozen=True)
class SessionRecord:
    """What the recording proxy saw of one cell's model access."""

    calls: list[ModelCall]
    exchanges: list[Exchange]
    infra_failure: str | None
    """Set when the endpoint failed the agent (retries spent, replay miss): the cell is infra."""
    started: int = 0
    """Calls that reached the proxy, answered or not (0: the TUI never called its base URL)."""


class ModelSession:
    """One cell's access to its model while the agent runs: a base URL and a per-cell token that
    only the host's recording proxy accepts. ``close`` revokes the token (idempotent) and returns
    what the proxy recorded."""

    def __init__(
        self,
        base_url: str,
        token: str,
        close: Callable[[], SessionRecord],
        *,
        build_id: str | None = None,
        context_tokens: int | None = None,
    ) -> None:
        self.base_url, self.token = base_url, token
        self.build_id = build_id
        """What the endpoint says it is (weights digest, server build), when it says; None: unknown."""
        self.context_tokens = context_tokens
        """The model's context as its server serves it (a local server's slot, vLLM's max_model_len);
        None: unknown, each TUI keeps its own default."""
        self._close = close
        self._closed: SessionRecord | None = None

    def close(self) -> SessionRecord:
        if self._closed is None:
            self._closed = self._close()
        return self._closed


@dataclass(frozen=True)
class CellImages:
    """The images one cell runs in: its TUI's, on the task's environment image when the task has one."""

    agent: str
    """The agent image's tag."""
    scorer: str
    """The scorer image's tag: the task image, else the shared base."""
    task_image: str | None = None
    """The task environment image's tag; None: the task has no environment (shared images)."""
    task_image_id: str | None = None
    built: bool = False
    """This call built an image for the cell (task image or TUI on it)."""
    pulled: bool = False
    """This call pulled an image from the registry."""
    build_s: float = 0.0
    """Seconds this call spent getting images (lock waits, pulls, builds): not setup time."""


@dataclass(frozen=True)
class HostContext:
    """What a worker host provides to every cell it runs."""

    home: CabHome
    sandbox: Sandbox
    task_root: Callable[[CellSpec], TaskPaths]
    """cell -> the folder of its task version (``task_hash``; ``cab_workers.host.task_cache``): present
    and verified, or a CabError (the cell fails as infra, never runs against other content)."""
    images: Callable[[str, TaskPaths, Callable[[str], None]], CellImages]
    """(adapter image name, the cell's task folder, progress) -> the cell's images, obtained when
    missing (built once per host, or pulled); an ImageError (infra) when they cannot be had."""
    open_model: Callable[[CellSpec], ModelSession]
    """Opens this cell's access to its model (the recording proxy) for the agent's run."""
    network: str | None
    """Docker network agent containers join (internal: only the endpoint is reachable)."""
    host: str = ""
    keep_workdirs: bool = False
    gpu_slots: GpuSlots | None = None
    """This host's GPUs, one cell per GPU; None on CPU-only hosts."""
    checkpoints: CheckpointPort | None = None
    """Where the agent's finished state is kept until the cell is stored (distributed mode)."""
    prices: PriceTable | None = None
    """Prices the cell's model calls (``TokensAxis.cost_usd``); None records every cost as unknown."""
