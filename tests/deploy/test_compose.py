"""compose.yaml: renders with both Compose implementations, refuses to start Flower without basic
auth, and keeps the invariants distributed mode relies on (durable, non-evicting Redis; a worker
whose CAB_HOME has the same path for it and for the host's Docker engine)."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from tests.conftest import require
from tests.deploy.files import COMPOSE, REPO, cab_image_folder, has_registry_host

AUTH = "admin:not-a-real-password"


def _compose_tools() -> list[list[str]]:
    tools = []
    if shutil.which("docker-compose"):
        tools.append(["docker-compose"])
    if shutil.which("docker"):
        done = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if done.returncode == 0:
            tools.append(["docker", "compose"])
    return tools


@pytest.fixture(params=["docker-compose", "docker compose"])
def compose(request: pytest.FixtureRequest) -> list[str]:
    """One Compose implementation; at least one must be present (CI fails otherwise)."""
    tools = _compose_tools()
    require(bool(tools), "docker-compose or the docker compose plugin")
    wanted = request.param.split()
    if wanted not in tools:
        pytest.skip(f"{request.param} not installed (the other implementation is tested)")
    return wanted


def _config(compose: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """``compose config`` in a clean environment: none of the caller's CAB_* or COMPOSE_* leak in."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CAB_", "COMPOSE_"))}
    return subprocess.run(
        [*compose, "-f", str(COMPOSE), "config"],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _rendered(compose: list[str], **env: str) -> dict[str, Any]:
    done = _config(compose, CAB_FLOWER_BASIC_AUTH=AUTH, **env)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def _mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of every volume; v1 renders ``src:dst:mode`` strings, v2 mappings."""
    out = []
    for v in service.get("volumes", []):
        if isinstance(v, str):
            source, target = v.split(":")[:2]
        else:
            source, target = v.get("source", ""), v["target"]
        out.append((source, target))
    return out


def _command(service: dict[str, Any]) -> list[str]:
    cmd = service["command"]
    return cmd.split() if isinstance(cmd, str) else [str(c) for c in cmd]


# -- the file itself (no Compose needed) ---------------------------------------------------------


@pytest.mark.unit
def test_redis_is_durable_and_never_evicts() -> None:
    redis = yaml.safe_load(COMPOSE.read_text())["services"]["redis"]
    cmd = " ".join(redis["command"])
    assert "--appendonly yes" in cmd
    assert "--maxmemory-policy noeviction" in cmd


@pytest.mark.unit
def test_every_service_restarts_and_reports_health_or_waits_for_it() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert set(services) == {"redis", "postgres", "flower", "worker", "model"}
    for name, svc in services.items():
        assert svc.get("restart") in ("unless-stopped", "always"), name
    for name in ("redis", "postgres", "flower", "model"):
        assert "healthcheck" in services[name], name
    for name in ("flower", "worker"):
        for dep, cond in services[name]["depends_on"].items():
            assert cond == {"condition": "service_healthy"}, (name, dep)


@pytest.mark.unit
def test_cab_images_are_built_here_and_never_pulled() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name, svc in services.items():
        image = svc["image"]
        assert not has_registry_host(image), f"{name}: no registry host names in the repo ({image})"
        folder = cab_image_folder(image)
        if folder is not None:
            assert (folder / "Dockerfile").is_file(), f"{name}: {image} has no images/ folder"
            assert svc.get("pull_policy") == "never", (
                f"{name}: an unqualified cab/* name must never be pulled"
            )


# -- rendered by Compose ---------------------------------------------------------------------------


@pytest.mark.docker
def test_config_renders_with_flower_auth_set(compose: list[str]) -> None:
    services = _rendered(compose)["services"]
    # docker-compose v1 renders profiled services too (and starts them only with --profile)
    assert set(services) - {"model"} == {"redis", "postgres", "flower", "worker"}
    assert services["flower"]["environment"]["CAB_FLOWER_BASIC_AUTH"] == AUTH
    flower = _command(services["flower"])
    assert flower[:2] == ["cab", "flower"]
    # `cab flower` listens on 127.0.0.1 by default: inside a container that is unreachable.
    assert flower[flower.index("--address") + 1] == "0.0.0.0"
    assert all(str(p).startswith("127.0.0.1:") for p in services["flower"]["ports"] if isinstance(p, str))
    redis = " ".join(_command(services["redis"]))
    assert "--appendonly yes" in redis and "--maxmemory-policy noeviction" in redis


@pytest.mark.unit
def test_the_model_server_is_a_profile_on_loopback_only() -> None:
    """`docker compose up` starts no model; `--profile model` starts one nobody off-host can reach."""
    model = yaml.safe_load(COMPOSE.read_text())["services"]["model"]
    assert model["profiles"] == ["model"]
    assert all(str(p).startswith("127.0.0.1:") for p in model["ports"]), model["ports"]
    assert model["cap_drop"] == ["ALL"]


@pytest.mark.docker
def test_model_profile_renders_and_stays_out_of_the_default_stack(compose: list[str]) -> None:
    if compose == ["docker", "compose"]:  # v1's `config` lists profiled services as well
        assert "model" not in _rendered(compose)["services"]
    done = subprocess.run(
        [*compose, "-f", str(COMPOSE), "--profile", "model", "config"],
        cwd=REPO,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("CAB_", "COMPOSE_"))},
            "CAB_FLOWER_BASIC_AUTH": AUTH,
            "CAB_MODEL_PORT": "18099",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    model = yaml.safe_load(done.stdout)["services"]["model"]
    ports = model["ports"][0]
    published = ports if isinstance(ports, str) else f"{ports['host_ip']}:{ports['published']}"
    assert published.startswith("127.0.0.1:18099")


@pytest.mark.docker
def test_config_without_flower_auth_fails_naming_the_variable(compose: list[str]) -> None:
    done = _config(compose)
    assert done.returncode != 0
    assert "CAB_FLOWER_BASIC_AUTH" in done.stderr
    assert "user:password" in done.stderr


@pytest.mark.docker
def test_worker_runs_cpu_cells_and_the_dispatcher(compose: list[str]) -> None:
    worker = _rendered(compose)["services"]["worker"]
    cmd = _command(worker)
    assert cmd[:2] == ["cab", "worker"]
    assert cmd[cmd.index("--tags") + 1] == "cpu"
    assert "--dispatcher" in cmd
    env = worker["environment"]
    assert env["CAB_BROKER_URL"].startswith("redis://")
    assert env["CAB_STORE_URL"].startswith("postgresql+psycopg://")


@pytest.mark.docker
@pytest.mark.parametrize("home", [None, "/srv/cab-bench"])
def test_worker_home_has_the_same_path_for_the_worker_and_the_engine(
    compose: list[str], home: str | None
) -> None:
    env = {"CAB_WORKER_HOME": home} if home else {}
    worker = _rendered(compose, **env)["services"]["worker"]
    want = home or "/var/lib/cab"
    mounts = _mounts(worker)
    assert ("/var/run/docker.sock", "/var/run/docker.sock") in mounts
    assert (want, want) in mounts
    assert worker["environment"]["CAB_HOME"] == want


@pytest.mark.docker
def test_worker_shares_the_hosts_network_and_pids(compose: list[str]) -> None:
    """The scripted endpoint binds the agent network's gateway, and reap compares owner pids."""
    worker = _rendered(compose)["services"]["worker"]
    assert worker["network_mode"] == "host"
    assert worker["pid"] == "host"
