"""What the sandbox runs and what a run produced: the pure half of ``sandbox.py`` (no Docker here).

    ContainerSpec   what to run: image, argv, deadline, limits, mounts, labels (create_options: as
                    Docker's create takes it)
    ContainerRun    what came out: exit, timeout / OOM, output tail, timing
    OutputPump      the attach stream split into stdout / stderr tails, with the output limit
    LimitKill       the first limit a container broke, and the kill it triggers
    container_run   a ContainerRun from Docker's ``State`` and what the pump kept

AgentNetwork and Listed read the engine's answers about networks and containers. The labels every
cab container carries are here too, so the reaper's filters and the tests share them.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from cab_core.errors import SandboxError

log = structlog.get_logger(__name__)

LABEL_MANAGED = "cab.managed"
LABEL_CELL = "cab.cell_id"
LABEL_SWEEP = "cab.sweep_id"
LABEL_ATTEMPT = "cab.attempt"
LABEL_HOST = "cab.host"
LABEL_OWNER_PID = "cab.owner_pid"
LABEL_ROLE = "cab.role"
LABEL_WORKER = "cab.worker"

HOST_GRACE_S = 10.0
"""Host-side deadline is the in-container deadline plus this, like inspect_ai's."""

TIMEOUT_EXIT = 124
"""Exit code of coreutils ``timeout`` when the command ran out of time."""


ICC_OPTION = "com.docker.network.bridge.enable_icc"
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"


@dataclass(frozen=True)
class AgentNetwork:
    """The Docker network agent containers join, as the host sees it."""

    name: str
    gateway: str
    """The host's address on the network: where the model proxy listens."""
    bridge: str
    """The host-side bridge interface (for the egress lock's firewall rules)."""
    id: str = ""
    """Docker's id of the network (unambiguous where a name is not)."""


def isolated(attrs: Mapping[str, Any], *, internal: bool) -> bool:
    """A network (its Docker ``attrs``) is as cab makes it: ``internal`` as asked, containers unable to
    reach each other (``enable_icc=false``)."""
    return attrs.get("Internal") == internal and (attrs.get("Options") or {}).get(ICC_OPTION) == "false"


def agent_network(name: str, attrs: Mapping[str, Any], network_id: str) -> AgentNetwork:
    """The host's view of a network from its Docker ``attrs``; ``SandboxError`` without a gateway."""
    configs = attrs.get("IPAM", {}).get("Config") or []
    gateway = next((str(c["Gateway"]) for c in configs if c.get("Gateway")), None)
    bridge = (attrs.get("Options") or {}).get(BRIDGE_NAME_OPTION) or f"br-{network_id[:12]}"
    if gateway is None:
        raise SandboxError(f"network {name} has no gateway address")
    return AgentNetwork(name=name, gateway=gateway, bridge=bridge, id=network_id)


@dataclass(frozen=True)
class Listed:
    """One cab container as the engine's container listing shows it."""

    id: str
    name: str
    labels: dict[str, str]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Listed:
        """From a row of the engine's ``GET /containers/json`` (no name: the short id)."""
        return cls(
            row["Id"], (row.get("Names") or ["/" + row["Id"][:12]])[0].lstrip("/"), row.get("Labels") or {}
        )


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    """What to run. ``argv`` is wrapped in ``timeout -k 5 <deadline_s>`` by the sandbox."""

    name: str
    image: str
    argv: list[str]
    deadline_s: float
    env: dict[str, str] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    workdir: str = "/work"
    user: str = "1000:1000"
    cpus: float = 1.0
    memory_mb: int = 2048
    pids: int = 512
    network: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    device_requests: tuple[dict[str, Any], ...] = ()
    """Docker device requests in API form (``Driver``, ``DeviceIDs``, ``Capabilities``): one per GPU."""
    output_cap_bytes: int = 8 * 1024 * 1024
    """Bytes of output kept (the tail); the rest is counted and dropped."""
    output_limit_bytes: int | None = None
    """Total output after which the container is killed (``killed_for``); None: unlimited."""
    read_only_root: bool = False
    """Mount the image's filesystem read-only; only ``tmpfs`` paths and the mounts are writable."""
    tmpfs: tuple[str, ...] = ()
    """Writable in-memory folders (owned by ``user``, exec allowed); their pages count toward
    ``memory_mb``, so the memory limit bounds them too."""
    tmpfs_mb: int = 512
    """Size cap of each tmpfs folder."""
    disk_limit_mb: int | None = None
    """Disk the ``watch_dirs`` may use together before the container is killed; None: unwatched."""
    watch_dirs: tuple[str, ...] = ()
    """Host folders (the writable mounts) the disk watchdog measures."""


@dataclass
class ContainerRun:
    """What a container run produced."""

    exit_code: int | None
    timed_out: bool
    oom_killed: bool
    stdout: str
    stderr: str
    output_bytes: int
    truncated: bool
    started_at: datetime | None
    finished_at: datetime | None
    active_ms: float
    image_id: str | None
    error: str | None = None
    """Set when the container could not be run at all (infra)."""
    killed_for: str | None = None
    """Why the sandbox killed the container before its deadline (output flood, disk quota)."""


OutputSink = Callable[[float, str, str], None]
"""Called with (seconds since start, stream name, text) for every chunk of output."""


class TailBuffer:
    """Keeps the last ``cap`` bytes of a stream and counts the rest."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.chunks: list[bytes] = []
        self.size = 0
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        self.chunks.append(data)
        self.size += len(data)
        while self.size > self.cap and len(self.chunks) > 1:
            self.size -= len(self.chunks.pop(0))
        if self.size > self.cap:
            self.chunks[0] = self.chunks[0][self.size - self.cap :]
            self.size = self.cap

    def text(self) -> str:
        return b"".join(self.chunks).decode("utf-8", errors="replace")


class LimitKill:
    """Kills the container for breaking a limit; the first reason is the one reported."""

    def __init__(self, container_name: str, kill: Callable[[], object]) -> None:
        self.container_name = container_name
        self._kill = kill
        self._reasons: list[str] = []

    @property
    def reason(self) -> str | None:
        return self._reasons[0] if self._reasons else None

    def __call__(self, reason: str) -> None:
        if not self._reasons:
            self._reasons.append(reason)
            log.warning("sandbox_limit_kill", container=self.container_name, reason=reason)
            with contextlib.suppress(Exception):  # already gone: the limit was still broken
                self._kill()


class OutputPump:
    """Reads the attach stream's frames into one tail per stream, feeds ``sink``, enforces the output
    limit of ``spec`` (run on its own thread by the sandbox)."""

    def __init__(
        self, spec: ContainerSpec, sink: OutputSink | None, kill: LimitKill, streams: Mapping[int, str]
    ) -> None:
        self.spec, self.sink, self.kill = spec, sink, kill
        self.out, self.err = TailBuffer(spec.output_cap_bytes), TailBuffer(spec.output_cap_bytes)
        self._buffers = {
            sid: (self.err if name == "stderr" else self.out, name) for sid, name in streams.items()
        }
        self.t0 = time.monotonic()

    def consume(self, frames: Iterable[tuple[int, bytes]]) -> None:
        """Drain ``frames`` ((stream id, bytes) pairs); a broken stream just ends the output."""
        limit = self.spec.output_limit_bytes
        try:
            for stream_id, data in frames:
                buf, name = self._buffers.get(stream_id, (self.out, "stdout"))
                buf.add(data)
                if self.sink is not None and buf.total <= self.spec.output_cap_bytes:
                    self.sink(time.monotonic() - self.t0, name, data.decode("utf-8", errors="replace"))
                if limit is not None and self.out.total + self.err.total > limit and self.kill.reason is None:
                    self.kill(f"flooded its output (over {limit // (1 << 20)} MiB)")
        except Exception:  # the socket closed under us (container removed): the output ends there
            return

    def thread(self, frames: Iterable[tuple[int, bytes]]) -> threading.Thread:
        """A started daemon thread draining ``frames``."""
        reader = threading.Thread(
            target=self.consume, args=(frames,), name=f"attach-{self.spec.name}", daemon=True
        )
        reader.start()
        return reader


def create_options(spec: ContainerSpec) -> dict[str, Any]:
    """Keyword arguments of Docker's ``containers.create`` for ``spec`` (the sandbox adds the SDK's own
    objects: log config and device requests): ``argv`` under ``timeout -k 5``, limits, no privileges."""
    deadline = max(1, int(spec.deadline_s + 0.999))
    argv = ["timeout", "-k", "5", str(deadline), *spec.argv]
    return {
        "image": spec.image,
        "entrypoint": argv[:1],
        "command": argv[1:],
        "name": spec.name,
        "environment": spec.env,
        "working_dir": spec.workdir,
        "user": spec.user,
        "labels": spec.labels,
        "network": spec.network,
        "network_disabled": spec.network is None,
        "volumes": {m.source: {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts},
        "nano_cpus": int(spec.cpus * 1e9),
        "mem_limit": f"{spec.memory_mb}m",
        "memswap_limit": f"{spec.memory_mb}m",
        "pids_limit": spec.pids,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "read_only": spec.read_only_root,
        "tmpfs": tmpfs_options(spec),
        "init": True,
        "stdin_open": False,
        "tty": False,
    }


def tmpfs_options(spec: ContainerSpec) -> dict[str, str] | None:
    """Docker ``tmpfs`` mounts of ``spec``: owned by the container user, exec allowed (builds run there)."""
    if not spec.tmpfs:
        return None
    uid, _, gid = spec.user.partition(":")
    owner = f",uid={uid},gid={gid or uid}" if uid.isdigit() else ""
    return {path: f"rw,exec,nosuid,nodev,size={spec.tmpfs_mb}m,mode=0755{owner}" for path in spec.tmpfs}


def parse_docker_time(value: str | None) -> datetime | None:
    """A Docker ``State`` timestamp (nanoseconds, ``Z``) as an aware datetime; None when unset."""
    if not value or value.startswith("0001-"):
        return None
    head, _, frac = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


def container_run(
    spec: ContainerSpec,
    state: Mapping[str, Any],
    exit_code: int | None,
    *,
    host_timeout: bool,
    pump: OutputPump,
    image_id: str | None,
) -> ContainerRun:
    """The run's record from Docker's ``State`` of the exited container and what the pump kept."""
    started, finished = parse_docker_time(state.get("StartedAt")), parse_docker_time(state.get("FinishedAt"))
    active_ms = (finished - started).total_seconds() * 1000 if started and finished else 0.0
    out, err = pump.out, pump.err
    return ContainerRun(
        exit_code=exit_code,
        timed_out=host_timeout
        or exit_code == TIMEOUT_EXIT
        # `timeout -k` escalated to SIGKILL: 137 at (not before) the deadline
        or (exit_code == 137 and not state.get("OOMKilled") and active_ms >= spec.deadline_s * 1000 - 500),
        oom_killed=bool(state.get("OOMKilled")),
        stdout=out.text(),
        stderr=err.text(),
        output_bytes=out.total + err.total,
        truncated=out.total > out.size or err.total > err.size,
        started_at=started,
        finished_at=finished,
        active_ms=active_ms,
        image_id=image_id,
        killed_for=pump.kill.reason,
    )


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
