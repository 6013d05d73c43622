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
from collections.abc import Iterator
from typing import Any

import docker  # noqa: TID251 - this is the sandbox module
import docker.errors  # noqa: TID251
import requests.exceptions
import structlog
from docker.models.containers import Container  # noqa: TID251
from docker.utils.socket import STDERR, STDOUT, frames_iter  # noqa: TID251

from cab_core.errors import ImageError, SandboxError
from cab_workers.host.containers import (
    HOST_GRACE_S,
    ICC_OPTION,
    LABEL_ATTEMPT,
    LABEL_CELL,
    LABEL_HOST,
    LABEL_MANAGED,
    LABEL_OWNER_PID,
    LABEL_ROLE,
    LABEL_SWEEP,
    LABEL_WORKER,
    TIMEOUT_EXIT,
    AgentNetwork,
    ContainerRun,
    ContainerSpec,
    LimitKill,
    Listed,
    Mount,
    OutputPump,
    OutputSink,
    agent_network,
    container_run,
    create_options,
    isolated,
    pid_alive,
)
from cab_workers.host.watchdog import disk_watchdog

__all__ = [
    "HOST_GRACE_S",
    "LABEL_ATTEMPT",
    "LABEL_CELL",
    "LABEL_HOST",
    "LABEL_MANAGED",
    "LABEL_OWNER_PID",
    "LABEL_ROLE",
    "LABEL_SWEEP",
    "LABEL_WORKER",
    "TIMEOUT_EXIT",
    "AgentNetwork",
    "ContainerRun",
    "ContainerSpec",
    "Mount",
    "OutputSink",
    "Sandbox",
    "pid_alive",
]
"""The sandbox's interface; the records and labels are defined in ``containers.py`` (no Docker there)."""

log = structlog.get_logger(__name__)


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
        with _docker_errors(f"network {name}"):
            net = self._network(name)
            if net is not None:
                net.reload()
                if not isolated(net.attrs, internal=internal):
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
                    name,
                    driver="bridge",
                    internal=internal,
                    options={ICC_OPTION: "false"},
                    labels={LABEL_MANAGED: "1"},
                )
                net = self._network(name) or net  # two hosts' processes may have raced: the oldest wins
            return agent_network(name, net.attrs, net.id or "")

    def _network(self, name: str) -> Any:
        """The network named exactly ``name`` (Docker's filter also matches longer names), reloaded; of
        several (processes that raced to create it), the oldest, the others removed when unused."""
        found = sorted(
            (n for n in self.client.networks.list(names=[name]) if n.name == name),
            key=lambda n: (str(n.attrs.get("Created", "")), n.id or ""),
        )
        for extra in found[1:]:
            with contextlib.suppress(docker.errors.APIError):
                extra.remove()  # refused while a container is attached: then it stays, unused by cab
        if not found:
            return None
        found[0].reload()
        return found[0]

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
        with _docker_errors(f"creating container {spec.name}"):
            container = self.client.containers.create(
                **create_options(spec),
                log_config=docker.types.LogConfig(type="none"),
                device_requests=[
                    docker.types.DeviceRequest(
                        driver=d.get("Driver", ""),
                        device_ids=d.get("DeviceIDs") or [],  # what the SDK makes of a missing one
                        capabilities=d.get("Capabilities") or [],
                    )
                    for d in spec.device_requests
                ]
                or None,
            )
        try:
            return self._run_created(container, spec, sink)
        finally:
            with contextlib.suppress(Exception):
                container.remove(force=True, v=True)

    def _run_created(
        self, container: Container, spec: ContainerSpec, sink: OutputSink | None
    ) -> ContainerRun:
        """Attach, start, wait until exit or the host deadline, then read the run back from Docker."""
        with _docker_errors(f"attaching to {spec.name}"):
            # by id; the SDK types it optional, and the name (unique on the engine) is the same container
            target = container.id or spec.name
            sock = self.client.api.attach_socket(target, params={"stdout": 1, "stderr": 1, "stream": 1})
        kill = LimitKill(spec.name, container.kill)
        pump = OutputPump(spec, sink, kill, {STDOUT: "stdout", STDERR: "stderr"})
        frames = frames_iter(sock, tty=False)  # type: ignore[no-untyped-call]  # unannotated in types-docker
        reader = pump.thread(frames)
        with disk_watchdog(spec, kill):
            with _docker_errors(f"starting {spec.name}"):
                container.start()
            exit_code, host_timeout = _wait(container, spec.deadline_s + HOST_GRACE_S)
        reader.join(timeout=10)
        _close_attach_socket(sock)
        with self._stopped_lock:
            if spec.name in self._stopped:
                self._stopped.discard(spec.name)
                raise SandboxError(f"{spec.name} was stopped by an interrupt")
        with _docker_errors(f"inspecting {spec.name}"):
            container.reload()
        state: dict[str, Any] = container.attrs.get("State", {})
        image_id: str | None = container.attrs.get("Image")
        return container_run(spec, state, exit_code, host_timeout=host_timeout, pump=pump, image_id=image_id)

    def _remove_stale(self, name: str) -> None:
        """A container with our deterministic name left by a crashed earlier run of this attempt."""
        with contextlib.suppress(docker.errors.NotFound):
            old = self.client.containers.get(name)
            log.warning("sandbox_stale_container_removed", container=name)
            old.remove(force=True, v=True)

    # -- reaping -------------------------------------------------------------------------------

    def _listed(self, *labels: str) -> list[Listed]:
        """This host's cab containers carrying ``labels``, in one engine call.

        The SDK's ``containers.list`` inspects every container it lists, one call each, and fails
        with NotFound when one is removed in between (a cell finishing while a reaper looks).
        """
        with _docker_errors("listing cab containers"):
            rows = self.client.api.containers(
                all=True, filters={"label": [f"{LABEL_MANAGED}=1", f"{LABEL_HOST}={self.host}", *labels]}
            )
        return [Listed.from_row(r) for r in rows]

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


def _wait(container: Container, timeout_s: float) -> tuple[int | None, bool]:
    """(exit code, host timeout): wait for the exit; past ``timeout_s`` kill it and wait 30 s more."""
    try:
        return int(container.wait(timeout=timeout_s).get("StatusCode", -1)), False
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        with contextlib.suppress(Exception):
            container.kill()
        with contextlib.suppress(Exception):
            return int(container.wait(timeout=30).get("StatusCode", -1)), True
        return None, True


def _close_attach_socket(sock: object) -> None:
    """The SDK hands back a SocketIO over the raw socket; close both, or the fd leaks."""
    for obj in (sock, getattr(sock, "_sock", None), getattr(sock, "_response", None)):
        close = getattr(obj, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()
