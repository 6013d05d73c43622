"""The sandbox: the one module that runs containers (with ``images.py``, the only ``docker`` importers).

Lifecycle of one container run, all inside :meth:`Sandbox.run`::

    create (labelled, limits, mounts) -> attach (stream output) -> start
      -> wait until exit or host deadline -> kill on deadline -> collect exit/OOM/timing
      -> remove (always, in ``finally``)

The in-container deadline is ``timeout -k 5 N`` wrapped around the command; the host deadline is
``N + grace`` and kills the container. Every container carries ``cab.managed=1`` plus the cell id,
attempt, host and owner pid, so :meth:`Sandbox.reap` can remove orphans whose owner is gone.

Docker's own exceptions are translated to :class:`cab_core.errors.SandboxError` in ``_docker_errors``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import docker  # noqa: TID251 - this is the sandbox module
import docker.errors  # noqa: TID251
import requests.exceptions
import structlog
from docker.utils.socket import STDERR, STDOUT, frames_iter  # noqa: TID251

from cab_core.errors import ImageError, SandboxError
from cab_workers.host.watchdog import DiskWatchdog

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


@contextlib.contextmanager
def _docker_errors(what: str) -> Iterator[None]:
    """Translate docker / transport exceptions into cab's error tree, with one line of context."""
    try:
        yield
    except docker.errors.ImageNotFound as e:
        raise ImageError(f"{what}: image not found ({e.explanation}); run `cab images build`") from e
    except docker.errors.APIError as e:
        raise SandboxError(f"{what}: docker API error: {e.explanation or e}") from e
    except docker.errors.DockerException as e:
        raise SandboxError(f"{what}: {e}") from e
    except requests.exceptions.RequestException as e:
        raise SandboxError(f"{what}: docker engine unreachable: {e}") from e


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
    device_requests: tuple[dict, ...] = ()
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


class _TailBuffer:
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


def _tmpfs_options(spec: ContainerSpec) -> dict[str, str] | None:
    """Docker ``tmpfs`` mounts of ``spec``: owned by the container user, exec allowed (builds run there)."""
    if not spec.tmpfs:
        return None
    uid, _, gid = spec.user.partition(":")
    owner = f",uid={uid},gid={gid or uid}" if uid.isdigit() else ""
    return {path: f"rw,exec,nosuid,nodev,size={spec.tmpfs_mb}m,mode=0755{owner}" for path in spec.tmpfs}


def _parse_ts(value: str | None) -> datetime | None:
    if not value or value.startswith("0001-"):
        return None
    head, _, frac = value.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00")


class Sandbox:
    """A handle on the local Docker engine."""

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        with _docker_errors("connecting to docker"):
            self.client = client or docker.from_env(timeout=120)
        self.host = socket.gethostname()
        self._stopped: set[str] = set()
        self.extra_labels: dict[str, str] = {}
        """Added to every container's labels (a distributed worker sets ``cab.worker``)."""
        self._stopped_lock = threading.Lock()

    # -- engine / images -----------------------------------------------------------------------

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except Exception:
            return False

    def image_id(self, tag: str) -> str | None:
        """The image's content id (``sha256:...``), or None when the tag is absent."""
        try:
            return str(self.client.images.get(tag).id)
        except docker.errors.ImageNotFound:
            return None

    def image_label(self, tag: str, key: str) -> str | None:
        """One label of an image (e.g. ``cab.tui.version``), or None."""
        try:
            labels = self.client.images.get(tag).labels or {}
        except docker.errors.ImageNotFound:
            return None
        return labels.get(key)

    def ensure_network(self, name: str, *, internal: bool) -> AgentNetwork:
        """Create the agents' network if missing: a bridge, ``internal`` (no route out), containers
        unable to reach each other (``enable_icc=false``). A network of that name made otherwise (by
        an older cab) is recreated when no container is attached, else refused."""
        options = {ICC_OPTION: "false"}
        with _docker_errors(f"network {name}"):
            found = self.client.networks.list(names=[name])
            net = found[0] if found else None
            if net is not None:
                net.reload()
                if (
                    net.attrs.get("Internal") != internal
                    or (net.attrs.get("Options") or {}).get(ICC_OPTION) != "false"
                ):
                    if net.attrs.get("Containers"):
                        raise SandboxError(
                            f"network {name} lets containers reach each other or the internet, and "
                            "containers are attached; stop them and rerun (cab recreates it isolated)"
                        )
                    log.warning("sandbox_network_recreated", network=name, reason="not isolated")
                    net.remove()
                    net = None
            if net is None:
                net = self.client.networks.create(
                    name, driver="bridge", internal=internal, options=options, labels={LABEL_MANAGED: "1"}
                )
                net.reload()
            gateway = next(
                (
                    str(c["Gateway"])
                    for c in net.attrs.get("IPAM", {}).get("Config") or []
                    if c.get("Gateway")
                ),
                None,
            )
            bridge = (net.attrs.get("Options") or {}).get(BRIDGE_NAME_OPTION) or f"br-{net.id[:12]}"
        if gateway is None:
            raise SandboxError(f"network {name} has no gateway address")
        return AgentNetwork(name=name, gateway=gateway, bridge=bridge)

    # -- running -------------------------------------------------------------------------------

    def labels_for(self, cell_id: str, attempt: int, role: str) -> dict[str, str]:
        return {
            LABEL_MANAGED: "1",
            LABEL_CELL: cell_id,
            LABEL_SWEEP: cell_id.split("/", 1)[0],
            LABEL_ATTEMPT: str(attempt),
            LABEL_HOST: self.host,
            LABEL_OWNER_PID: str(os.getpid()),
            LABEL_ROLE: role,
            **self.extra_labels,
        }

    def run(self, spec: ContainerSpec, sink: OutputSink | None = None) -> ContainerRun:
        """Run a container to completion or deadline; always removes it. Never raises for the
        command's own failure; raises :class:`SandboxError` / :class:`ImageError` for infra."""
        self._remove_stale(spec.name)
        deadline = max(1, int(spec.deadline_s + 0.999))
        argv = ["timeout", "-k", "5", str(deadline), *spec.argv]
        with _docker_errors(f"creating container {spec.name}"):
            container = self.client.containers.create(
                image=spec.image,
                entrypoint=argv[:1],
                command=argv[1:],
                name=spec.name,
                environment=spec.env,
                working_dir=spec.workdir,
                user=spec.user,
                labels=spec.labels,
                network=spec.network,
                network_disabled=spec.network is None,
                volumes={
                    m.source: {"bind": m.target, "mode": "ro" if m.read_only else "rw"} for m in spec.mounts
                },
                nano_cpus=int(spec.cpus * 1e9),
                mem_limit=f"{spec.memory_mb}m",
                memswap_limit=f"{spec.memory_mb}m",
                pids_limit=spec.pids,
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                read_only=spec.read_only_root,
                tmpfs=_tmpfs_options(spec),
                init=True,
                log_config=docker.types.LogConfig(type="none"),
                device_requests=[
                    docker.types.DeviceRequest(
                        driver=d.get("Driver", ""),
                        device_ids=d.get("DeviceIDs"),
                        capabilities=d.get("Capabilities"),
                    )
                    for d in spec.device_requests
                ]
                or None,
                stdin_open=False,
                tty=False,
            )
        try:
            return self._run_created(container, spec, sink)
        finally:
            with contextlib.suppress(Exception):
                container.remove(force=True, v=True)

    def _run_created(self, container, spec: ContainerSpec, sink: OutputSink | None) -> ContainerRun:
        out, err = _TailBuffer(spec.output_cap_bytes), _TailBuffer(spec.output_cap_bytes)
        with _docker_errors(f"attaching to {spec.name}"):
            sock = self.client.api.attach_socket(container.id, params={"stdout": 1, "stderr": 1, "stream": 1})
        t0 = time.monotonic()
        buffers = {STDOUT: (out, "stdout"), STDERR: (err, "stderr")}
        killed_for: list[str] = []

        def kill_for(reason: str) -> None:
            """Kill the container for breaking a limit; the first reason is the one reported."""
            if not killed_for:
                killed_for.append(reason)
                log.warning("sandbox_limit_kill", container=spec.name, reason=reason)
                with contextlib.suppress(Exception):
                    container.kill()

        def pump() -> None:
            limit = spec.output_limit_bytes
            with contextlib.suppress(Exception):
                for stream_id, data in frames_iter(sock, tty=False):
                    buf, name = buffers.get(stream_id, (out, "stdout"))
                    buf.add(data)
                    if sink is not None and buf.total <= spec.output_cap_bytes:
                        sink(time.monotonic() - t0, name, data.decode("utf-8", errors="replace"))
                    if limit is not None and out.total + err.total > limit and not killed_for:
                        kill_for(f"flooded its output (over {limit // (1 << 20)} MiB)")

        reader = threading.Thread(target=pump, name=f"attach-{spec.name}", daemon=True)
        reader.start()
        watchdog = (
            DiskWatchdog(
                spec.watch_dirs,
                spec.disk_limit_mb << 20,
                lambda used: kill_for(
                    f"exceeded its disk quota ({used >> 20} MiB written, limit {spec.disk_limit_mb} MiB)"
                ),
                name=f"disk-{spec.name}",
            )
            if spec.disk_limit_mb is not None and spec.watch_dirs
            else contextlib.nullcontext()
        )
        with watchdog:
            with _docker_errors(f"starting {spec.name}"):
                container.start()
            host_timeout = False
            exit_code: int | None = None
            try:
                status = container.wait(timeout=spec.deadline_s + HOST_GRACE_S)
                exit_code = int(status.get("StatusCode", -1))
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                host_timeout = True
                with contextlib.suppress(Exception):
                    container.kill()
                with contextlib.suppress(Exception):
                    exit_code = int(container.wait(timeout=30).get("StatusCode", -1))
        reader.join(timeout=10)
        _close_attach_socket(sock)
        with self._stopped_lock:
            if spec.name in self._stopped:
                self._stopped.discard(spec.name)
                raise SandboxError(f"{spec.name} was stopped by an interrupt")
        with _docker_errors(f"inspecting {spec.name}"):
            container.reload()
        state = container.attrs.get("State", {})
        started, finished = _parse_ts(state.get("StartedAt")), _parse_ts(state.get("FinishedAt"))
        active_ms = (finished - started).total_seconds() * 1000 if started and finished else 0.0
        return ContainerRun(
            exit_code=exit_code,
            timed_out=host_timeout
            or exit_code == TIMEOUT_EXIT
            # `timeout -k` escalated to SIGKILL: 137 at (not before) the deadline
            or (
                exit_code == 137 and not state.get("OOMKilled") and active_ms >= spec.deadline_s * 1000 - 500
            ),
            oom_killed=bool(state.get("OOMKilled")),
            stdout=out.text(),
            stderr=err.text(),
            output_bytes=out.total + err.total,
            truncated=out.total > out.size or err.total > err.size,
            started_at=started,
            finished_at=finished,
            active_ms=active_ms,
            image_id=container.attrs.get("Image"),
            killed_for=killed_for[0] if killed_for else None,
        )

    def _remove_stale(self, name: str) -> None:
        """A container with our deterministic name left by a crashed earlier run of this attempt."""
        with contextlib.suppress(docker.errors.NotFound):
            old = self.client.containers.get(name)
            log.warning("sandbox_stale_container_removed", container=name)
            old.remove(force=True, v=True)

    # -- reaping -------------------------------------------------------------------------------

    def _listed(self, *labels: str) -> list[_Listed]:
        """This host's cab containers carrying ``labels``, in one engine call.

        The SDK's ``containers.list`` inspects every container it lists, one call each, and fails
        with NotFound when one is removed in between (a cell finishing while a reaper looks).
        """
        with _docker_errors("listing cab containers"):
            rows = self.client.api.containers(
                all=True, filters={"label": [f"{LABEL_MANAGED}=1", f"{LABEL_HOST}={self.host}", *labels]}
            )
        return [
            _Listed(r["Id"], (r.get("Names") or ["/" + r["Id"][:12]])[0].lstrip("/"), r.get("Labels") or {})
            for r in rows
        ]

    def _remove_id(self, container_id: str, name: str) -> None:
        with _docker_errors(f"removing {name}"):
            try:
                self.client.api.remove_container(container_id, force=True, v=True)
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as e:
                if e.status_code != 409:  # 409: removal already in progress
                    raise

    def reap(self, *, only_dead_owners: bool = True, owner_pid: int | None = None) -> list[str]:
        """Remove this host's cab containers whose owning process is gone.

        ``owner_pid`` instead removes that process's own containers (after an interrupt);
        ``only_dead_owners=False`` removes every cab container on this host.
        """
        removed: list[str] = []
        for c in self._listed():
            pid = int(c.labels.get(LABEL_OWNER_PID, "0") or 0)
            if owner_pid is not None:
                if pid != owner_pid:
                    continue
            elif only_dead_owners and pid and pid_alive(pid):
                continue
            if owner_pid == os.getpid():
                with self._stopped_lock:
                    self._stopped.add(c.name)
            self._remove_id(c.id, c.name)
            removed.append(c.name)
            log.info("sandbox_reaped", container=c.name, cell_id=c.labels.get(LABEL_CELL))
        return removed

    def stop_cell(self, cell_id: str, attempt: int | None = None) -> list[str]:
        """Kill this host's containers of one cell attempt (every attempt when None: a takeover from a
        holder that froze or died); their runs end as :class:`SandboxError` ("stopped by an interrupt")."""
        stopped: list[str] = []
        wanted = [f"{LABEL_CELL}={cell_id}"] + ([f"{LABEL_ATTEMPT}={attempt}"] if attempt is not None else [])
        for c in self._listed(*wanted):
            with self._stopped_lock:
                self._stopped.add(c.name)
            self._remove_id(c.id, c.name)
            stopped.append(c.name)
        return stopped

    def containers_by_cell(self, worker: str) -> dict[str, list[str]]:
        """cell id -> names of the containers worker ``worker`` started on this host."""
        out: dict[str, list[str]] = {}
        for c in self._listed(f"{LABEL_WORKER}={worker}"):
            out.setdefault(c.labels.get(LABEL_CELL, ""), []).append(c.name)
        return out

    def remove(self, name: str) -> None:
        """Remove a container by name; already gone (or being removed) is fine."""
        self._remove_id(name, name)

    def managed_containers(self) -> list[str]:
        """Names of every cab container on this host (for tests and doctor)."""
        return [c.name for c in self._listed()]


@dataclass(frozen=True)
class _Listed:
    id: str
    name: str
    labels: dict[str, str]


def _close_attach_socket(sock: object) -> None:
    """The SDK hands back a SocketIO over the raw socket; close both, or the fd leaks."""
    for obj in (sock, getattr(sock, "_sock", None), getattr(sock, "_response", None)):
        if obj is not None:
            with contextlib.suppress(Exception):
                obj.close()  # type: ignore[attr-defined]


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (one we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
