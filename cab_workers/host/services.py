"""Long-running service containers (a local model server): the sandbox's other half that talks to Docker.

:meth:`Sandbox.run` runs a cell's container to completion; a service instead starts, stays up while the
host's cells use it, and is removed by its owner. It carries the same ``cab.managed`` / host / owner-pid
labels, so :meth:`Sandbox.reap` removes one whose owner died. It runs unprivileged, with no capabilities,
on a network of its own: the host's proxy reaches it at its address there, agents cannot.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import docker  # noqa: TID251 - service containers are sandbox territory
import docker.errors  # noqa: TID251

from cab_core.errors import SandboxError
from cab_workers.host.containers import LABEL_HOST, LABEL_MANAGED, LABEL_OWNER_PID, LABEL_ROLE
from cab_workers.host.sandbox import Sandbox

LOG_TAIL_LINES = 20
"""Lines of a service's log an error about it carries."""


@dataclass(frozen=True)
class ServiceSpec:
    """A service container: image, network, environment, limits and (optionally) a host port."""

    name: str
    image: str
    network: str
    """The network's id (or its name, when that is unique)."""
    port: int
    """The port the service listens on inside the container."""
    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    cpus: float | None = None
    memory_mb: int | None = None
    device_requests: tuple[dict[str, Any], ...] = ()
    """Docker device requests in API form (``Driver``, ``Count`` or ``DeviceIDs``, ``Capabilities``)."""
    publish: tuple[str, int] | None = None
    """Also publish ``port`` on the host at (address, port) (port 0: any free one); None: not published."""


@dataclass(frozen=True)
class RunningService:
    """A started service: where this host reaches it."""

    name: str
    container_id: str
    address: str
    """Its address on ``ServiceSpec.network`` (reachable from the host, not from agents)."""
    port: int
    host_port: int | None = None
    """The published host port, when ``ServiceSpec.publish`` asked for one."""
    image_id: str = ""


def service_options(spec: ServiceSpec, host: str) -> dict[str, Any]:
    """Keyword arguments of Docker's ``containers.run`` for ``spec`` (no SDK objects; see ``Services``)."""
    options: dict[str, Any] = {
        "image": spec.image,
        "name": spec.name,
        "detach": True,
        "environment": dict(spec.env),
        "labels": {
            **spec.labels,
            LABEL_MANAGED: "1",
            LABEL_HOST: host,
            LABEL_OWNER_PID: str(os.getpid()),
            LABEL_ROLE: "service",
        },
        "network": spec.network,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "init": True,
    }
    if spec.cpus is not None:
        options["nano_cpus"] = int(spec.cpus * 1e9)
    if spec.memory_mb is not None:
        options["mem_limit"] = options["memswap_limit"] = f"{spec.memory_mb}m"
    if spec.publish is not None:
        address, port = spec.publish
        options["ports"] = {f"{spec.port}/tcp": (address, port or None)}
    return options


class Services:
    """Start, inspect and remove service containers on the sandbox's engine."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def start(self, spec: ServiceSpec) -> RunningService:
        """Start ``spec`` (a leftover container of the same name is removed first) and return where it
        listens; SandboxError when the engine refuses."""
        client = self.sandbox.client
        with contextlib.suppress(docker.errors.NotFound):
            client.containers.get(spec.name).remove(force=True, v=True)
        requests = [
            docker.types.DeviceRequest(
                driver=d.get("Driver", ""),
                count=int(d.get("Count", 0)),
                device_ids=d.get("DeviceIDs") or [],
                capabilities=d.get("Capabilities") or [],
            )
            for d in spec.device_requests
        ]
        try:
            container = client.containers.run(
                **service_options(spec, self.sandbox.host),
                device_requests=requests or None,
                log_config=docker.types.LogConfig(type="json-file", config={"max-size": "10m"}),
            )
            container.reload()
        except docker.errors.DockerException as e:
            self.remove(spec.name)  # created but not started (a bad device request, a port taken)
            raise SandboxError(f"starting service {spec.name} ({spec.image}): {e}") from e
        attrs: dict[str, Any] = container.attrs
        networks = attrs.get("NetworkSettings", {}).get("Networks", {}).values()
        address = next((str(n["IPAddress"]) for n in networks if n.get("IPAddress")), "")
        if not address:
            self.remove(spec.name)
            raise SandboxError(f"service {spec.name} got no address on network {spec.network}")
        return RunningService(
            name=spec.name,
            container_id=str(container.id or ""),
            address=address,
            port=spec.port,
            host_port=_published(attrs, spec) if spec.publish is not None else None,
            image_id=str(attrs.get("Image") or ""),
        )

    def state(self, name: str) -> str | None:
        """The container's state (``running``, ``exited``...), None when it is gone."""
        try:
            container = self.sandbox.client.containers.get(name)
        except docker.errors.NotFound:
            return None
        except docker.errors.DockerException as e:
            raise SandboxError(f"inspecting service {name}: {e}") from e
        return str(container.attrs.get("State", {}).get("Status") or "")

    def logs(self, name: str, lines: int = LOG_TAIL_LINES) -> str:
        """The tail of a service's log ('' when it is gone)."""
        try:
            raw = self.sandbox.client.containers.get(name).logs(tail=lines)
        except docker.errors.DockerException:
            return ""
        return bytes(raw).decode(errors="replace")

    def remove(self, name: str) -> None:
        """Stop and remove a service; already gone is fine."""
        with contextlib.suppress(docker.errors.NotFound):
            try:
                self.sandbox.client.containers.get(name).remove(force=True, v=True)
            except docker.errors.APIError as e:
                if e.status_code not in (404, 409):  # 409: removal already in progress
                    raise SandboxError(f"removing service {name}: {e}") from e


def _published(attrs: Mapping[str, Any], spec: ServiceSpec) -> int | None:
    bindings = attrs.get("NetworkSettings", {}).get("Ports", {}).get(f"{spec.port}/tcp") or []
    for binding in bindings:
        with contextlib.suppress(TypeError, ValueError):
            return int(binding.get("HostPort"))
    return None
