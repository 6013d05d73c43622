"""From inside an agent container, only the model proxy answers: no internet, no other host port,
no other container, no cloud metadata address, no Docker socket. A probe container on Docker's
default bridge is the control: the same host port answers there, so the probe can see an open port."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from cab_core.errors import SandboxError
from cab_workers.composition import AGENT_NETWORK, LocalHost
from cab_workers.host.sandbox import ContainerSpec, Sandbox
from tests.conftest import wait_for

pytestmark = pytest.mark.docker

PROBE = r"""
import json, os, socket, sys, urllib.request
targets, proxy = json.loads(sys.argv[1]), sys.argv[2]
def default_gateway():
    for line in open("/proc/net/route").read().splitlines()[1:]:
        iface, dest, gw = line.split()[:3]
        if dest == "00000000":
            return socket.inet_ntoa(bytes.fromhex(gw)[::-1])
def tcp(host, port):
    host = default_gateway() if host == "@gateway" else host
    try:
        socket.create_connection((host, port), 3).close()
        return "open"
    except socket.timeout:
        return "timeout"
    except OSError as e:
        return "refused" if e.errno == 111 else f"errno {e.errno}"
out = {name: tcp(h, p) for name, (h, p) in targets.items()}
try:
    socket.getaddrinfo("example.com", 443)
    out["dns"] = "resolved"
except OSError:
    out["dns"] = "failed"
out["docker_socket"] = [p for p in ("/var/run/docker.sock", "/run/docker.sock") if os.path.exists(p)]
if proxy:
    try:
        out["proxy"] = urllib.request.urlopen(proxy + "/health", timeout=5).status
    except Exception as e:
        out["proxy"] = repr(e)
print(json.dumps(out))
"""


def probe(
    sandbox: Sandbox, image: str, network: str, targets: dict[str, tuple[str, int]], proxy: str = ""
) -> dict[str, Any]:
    run = sandbox.run(
        ContainerSpec(
            name=f"cab-test-probe-{uuid.uuid4().hex[:8]}",
            image=image,
            argv=["python3", "-c", PROBE, json.dumps(targets), proxy],
            deadline_s=60,
            network=network,
            read_only_root=True,
            tmpfs=("/tmp",),
            labels=sandbox.labels_for("test/egress", 1, "probe"),
        )
    )
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.fixture
def host_listener() -> Iterator[int]:
    """A service of this host listening on every address, as sshd or a dashboard would."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                srv.accept()[0].close()
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(5)
    srv.close()


@pytest.fixture
def neighbour(local_host: LocalHost) -> Iterator[str]:
    """A second container on the agents' network, serving HTTP on port 8000; yields its address."""
    sandbox, image = local_host.sandbox, local_host.agent_image("reference")
    name = f"cab-test-neighbour-{uuid.uuid4().hex[:8]}"
    spec = ContainerSpec(
        name=name,
        image=image,
        argv=["python3", "-m", "http.server", "8000", "--bind", "0.0.0.0"],
        deadline_s=120,
        network=AGENT_NETWORK,
        labels=sandbox.labels_for("test/egress", 1, "neighbour"),  # type: ignore[union-attr]
    )

    def serve() -> None:
        try:
            sandbox.run(spec)  # type: ignore[union-attr]
        except SandboxError:
            pass  # removed at the end of the test

    t = threading.Thread(target=serve, daemon=True)
    t.start()

    def address() -> str | None:
        try:
            c = sandbox.client.containers.get(name)  # type: ignore[union-attr]
        except Exception:
            return None
        if c.status != "running":
            return None
        return c.attrs["NetworkSettings"]["Networks"][AGENT_NETWORK]["IPAddress"] or None

    ip = str(wait_for(address, 60, "the neighbour container"))
    listening = ["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 8000), 1)"]
    container = sandbox.client.containers.get(name)  # type: ignore[union-attr]
    wait_for(lambda: container.exec_run(listening).exit_code == 0, 30, "the neighbour's HTTP server")
    yield ip
    sandbox.remove(name)  # type: ignore[union-attr]
    t.join(30)


def test_only_the_proxy_is_reachable_from_an_agent_container(
    no_leftover_containers: None, local_host: LocalHost, host_listener: int, neighbour: str
) -> None:
    net, proxy, sandbox = local_host.network, local_host.proxy, local_host.sandbox
    assert net is not None and proxy is not None and sandbox is not None
    image = local_host.agent_image("reference")
    targets = {
        "internet": ("1.1.1.1", 443),
        "internet_dns_server": ("8.8.8.8", 53),
        "cloud_metadata": ("169.254.169.254", 80),
        "host_other_port": (net.gateway, host_listener),
        "host_ssh": (net.gateway, 22),
        "host_docker_tcp": (net.gateway, 2375),
        "second_container": (neighbour, 8000),
        "proxy_port": (net.gateway, proxy.port),
    }
    seen = probe(sandbox, image, AGENT_NETWORK, targets, f"http://{net.gateway}:{proxy.port}")
    assert seen["proxy"] == 200 and seen["proxy_port"] == "open"
    for name in targets.keys() - {"proxy_port"}:
        assert seen[name] != "open", f"{name} is reachable from an agent container: {seen}"
        # refused at once, not dropped: a TUI trying the internet fails fast and loudly, never hangs
        assert seen[name] != "timeout", f"{name} hangs instead of failing fast: {seen}"
    assert seen["dns"] == "failed" and seen["docker_socket"] == []

    # the control: the same host port answers a container on Docker's default bridge, unlocked
    control = probe(sandbox, image, "bridge", {"host_other_port": ("@gateway", host_listener)})
    assert control["host_other_port"] == "open"
