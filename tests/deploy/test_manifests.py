"""deploy/k8s and deploy/systemd: the files parse and say what a worker host needs (Docker socket,
CAB_HOME at the same path as on the host, tags, GPU reservation, time to drain, no real secrets)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cab_core.settings import BrokerSettings
from cab_workers.host.images import ImageBuilder
from tests.deploy.files import (
    COMPOSE,
    DEPLOY,
    K8S,
    REPO,
    SYSTEMD,
    cab_image_folder,
    has_registry_host,
    k8s_docs,
    k8s_object,
)

pytestmark = pytest.mark.unit

WORKERS = ["cab-worker-cpu", "cab-worker-gpu-a100"]
DRAIN_S = 3600
"""A worker must get at least this long to finish its running cells when asked to stop."""


def _containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return deployment["spec"]["template"]["spec"]["containers"]


def _worker(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    dep = k8s_object("Deployment", name)
    (container,) = _containers(dep)
    return dep["spec"]["template"]["spec"], container


def _tags(container: dict[str, Any]) -> list[str]:
    cmd = container["command"]
    assert cmd[:2] == ["cab", "worker"]
    return cmd[cmd.index("--tags") + 1].split(",")


def _all_images() -> list[tuple[str, str]]:
    found = [
        (f"k8s/{file}", c["image"])
        for file, docs in k8s_docs().items()
        for d in docs
        if d["kind"] == "Deployment"
        for c in _containers(d)
    ]
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    return found + [(f"compose/{name}", svc["image"]) for name, svc in services.items()]


# -- Kubernetes ------------------------------------------------------------------------------------


def test_every_manifest_parses_and_names_its_object() -> None:
    docs = k8s_docs()
    assert {"namespace.yaml", "configmap.yaml", "secret.example.yaml", "flower.yaml"} <= set(docs)
    for file, objs in docs.items():
        assert objs, file
        for d in objs:
            assert {"apiVersion", "kind"} <= set(d), file
            if d["kind"] == "Kustomization":
                continue
            assert d["metadata"]["name"], file
            if d["kind"] != "Namespace":
                assert d["metadata"]["namespace"] == "cab", file


def test_kustomization_applies_everything_but_the_secret_example() -> None:
    (kust,) = k8s_docs()["kustomization.yaml"]
    expected = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kust["resources"]) == expected


def test_secret_example_holds_placeholders_only() -> None:
    secret = k8s_object("Secret", "cab-secrets")
    data = secret["stringData"]
    assert {"CAB_BROKER_URL", "CAB_STORE_URL", "CAB_FLOWER_BASIC_AUTH"} <= set(data)
    for key, value in data.items():
        assert "CHANGE-ME" in value, f"{key} looks like a real secret"
    assert "data" not in secret


@pytest.mark.parametrize("name", WORKERS)
def test_worker_drives_the_nodes_docker_engine_with_cab_home_at_the_host_path(name: str) -> None:
    pod, container = _worker(name)
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    sock = volumes["docker-sock"]["hostPath"]
    assert sock == {"path": "/var/run/docker.sock", "type": "Socket"}
    assert mounts["docker-sock"] == "/var/run/docker.sock"
    home = volumes["cab-home"]["hostPath"]["path"]
    assert mounts["cab-home"] == home, "agent containers bind-mount CAB_HOME paths through the host"
    assert k8s_object("ConfigMap", "cab-config")["data"]["CAB_HOME"] == home
    assert pod["hostNetwork"] is True and pod["hostPID"] is True
    assert pod["dnsPolicy"] == "ClusterFirstWithHostNet", "host network must still resolve cluster services"


@pytest.mark.parametrize("name", WORKERS)
def test_worker_gets_time_to_drain_before_the_broker_redelivers(name: str) -> None:
    pod, _ = _worker(name)
    assert DRAIN_S <= pod["terminationGracePeriodSeconds"] < BrokerSettings().visibility_timeout_s


@pytest.mark.parametrize("name", WORKERS)
def test_worker_reads_config_and_secrets_that_exist(name: str) -> None:
    _, container = _worker(name)
    refs = {(next(iter(r)), next(iter(r.values()))["name"]) for r in container["envFrom"]}
    assert refs == {("configMapRef", "cab-config"), ("secretRef", "cab-secrets")}
    k8s_object("ConfigMap", "cab-config")
    k8s_object("Secret", "cab-secrets")


def test_cpu_worker_takes_cpu_cells_and_stays_off_gpu_nodes() -> None:
    pod, container = _worker("cab-worker-cpu")
    assert _tags(container) == ["cpu"]
    assert "nvidia.com/gpu" not in container["resources"].get("limits", {})
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    exprs = terms["nodeSelectorTerms"][0]["matchExpressions"]
    assert {"key": "cab/gpu-type", "operator": "DoesNotExist"} in exprs


def test_gpu_worker_takes_its_gpu_type_and_reserves_the_gpus() -> None:
    pod, container = _worker("cab-worker-gpu-a100")
    gpu_type = pod["nodeSelector"]["cab/gpu-type"]
    assert _tags(container) == ["gpu", f"gpu.{gpu_type}"]
    assert int(container["resources"]["limits"]["nvidia.com/gpu"]) >= 1
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]


def test_one_worker_per_node() -> None:
    for name in WORKERS:
        pod, _ = _worker(name)
        (term,) = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert term["topologyKey"] == "kubernetes.io/hostname"
        assert term["labelSelector"]["matchLabels"] == {"app.kubernetes.io/name": "cab-worker"}
        labels = k8s_object("Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "cab-worker"


def test_flower_is_unprivileged_behind_basic_auth_and_has_a_service() -> None:
    dep = k8s_object("Deployment", "cab-flower")
    pod = dep["spec"]["template"]["spec"]
    (container,) = _containers(dep)
    cmd = container["command"]
    assert cmd[:2] == ["cab", "flower"]
    assert cmd[cmd.index("--address") + 1] == "0.0.0.0", "the default 127.0.0.1 is unreachable in a pod"
    env = {e["name"]: e for e in container["env"]}
    assert env["CAB_FLOWER_BASIC_AUTH"]["valueFrom"]["secretKeyRef"]["name"] == "cab-secrets"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert not any("hostPath" in v for v in pod.get("volumes", []))
    assert not pod.get("hostNetwork")
    svc = k8s_object("Service", "cab-flower")
    assert svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    (port,) = svc["spec"]["ports"]
    assert ports[port["targetPort"]] == 5555


@pytest.mark.parametrize(("where", "image"), _all_images())
def test_cab_images_exist_under_images_and_name_no_registry(where: str, image: str) -> None:
    assert not has_registry_host(image), f"{where}: {image}"
    folder = cab_image_folder(image)
    if folder is None:
        return
    assert (folder / "Dockerfile").is_file(), f"{where}: {image} has no {folder}"


def test_cab_images_are_never_pulled_by_kubernetes() -> None:
    """An unqualified cab/* name could resolve to a stranger's image on a public registry."""
    for docs in k8s_docs().values():
        for d in docs:
            if d["kind"] == "Deployment":
                for c in _containers(d):
                    assert c["imagePullPolicy"] == "Never", d["metadata"]["name"]


# -- the worker image --------------------------------------------------------------------------------


def test_worker_image_builds_on_base_and_lets_commands_start_with_cab() -> None:
    text = (REPO / "images" / "worker" / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE\b", text, re.MULTILINE)
    assert re.search(r"^FROM \$\{BASE\}$", text, re.MULTILINE)
    assert ImageBuilder(object(), REPO / "images").parent("worker") == "base"  # type: ignore[arg-type]
    (entry,) = re.findall(r"^ENTRYPOINT (.+)$", text, re.MULTILINE)
    assert "cab" not in yaml.safe_load(entry), "compose and k8s commands start with `cab`"
    assert "PIP_CERT" in text or "ca/" in text


# -- systemd ---------------------------------------------------------------------------------------


def _unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit as section -> [(key, value)] (keys may repeat, so no configparser)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        assert current is not None, f"{path.name}: {line!r} outside a section"
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def _one(section: list[tuple[str, str]], key: str) -> str:
    values = [v for k, v in section if k == key]
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


def _seconds(span: str) -> int:
    units = {"h": 3600, "min": 60, "m": 60, "s": 1, "": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)\s*(h|min|m|s|)", span))


def _env_file() -> dict[str, str]:
    env = {}
    for line in (SYSTEMD / "cab-worker.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def test_unit_needs_docker_and_restarts_on_failure() -> None:
    unit = _unit(SYSTEMD / "cab-worker.service")
    after = " ".join(v for k, v in unit["Unit"] if k == "After").split()
    requires = " ".join(v for k, v in unit["Unit"] if k == "Requires").split()
    assert "docker.service" in after and "docker.service" in requires
    assert _one(unit["Service"], "Restart") == "on-failure"
    assert _one(unit["Install"], "WantedBy") == "multi-user.target"


def test_unit_runs_cab_worker_from_the_venv_with_the_hosts_tags() -> None:
    svc = _unit(SYSTEMD / "cab-worker.service")["Service"]
    start = _one(svc, "ExecStart")
    assert start.startswith("/opt/cab/venv/bin/cab worker --tags ${CAB_TAGS}")
    assert _one(svc, "EnvironmentFile") == "/etc/cab/cab-worker.env"
    env = _env_file()
    for var in re.findall(r"\$\{?([A-Z_]+)\}?", start):
        assert var in env, f"ExecStart uses {var}, which the env file example does not set"


def test_unit_stop_is_a_drain() -> None:
    """SIGTERM to the main process only (Celery warm shutdown), then enough time to finish cells."""
    svc = _unit(SYSTEMD / "cab-worker.service")["Service"]
    assert _one(svc, "KillSignal") == "SIGTERM"
    assert _one(svc, "KillMode") == "mixed"
    assert DRAIN_S <= _seconds(_one(svc, "TimeoutStopSec")) < BrokerSettings().visibility_timeout_s


def test_unit_keeps_paths_identical_to_the_docker_engines_view() -> None:
    svc = dict(_unit(SYSTEMD / "cab-worker.service")["Service"])
    assert svc.get("PrivateTmp", "no") == "no"
    assert svc.get("ProtectHome", "no") in ("no", "read-only")
    assert "CAB_HOME=/var/lib/cab" in svc["Environment"]
    assert svc["StateDirectory"] == "cab"


def test_env_example_has_placeholders_not_secrets() -> None:
    env = _env_file()
    assert env["CAB_TAGS"] == "cpu"
    for key in ("CAB_BROKER_URL", "CAB_STORE_URL"):
        assert "CHANGE-ME" in env[key], key


def test_shipped_files_name_the_broker_once_as_cab_broker_url() -> None:
    """The old CAB_REDIS_URL still works (with a warning) but no shipped file sets it: one broker
    variable, so `cab doctor`, `cab config` and the worker read the same URL."""
    shipped = [COMPOSE, *sorted(DEPLOY.rglob("*.yaml")), *sorted(SYSTEMD.glob("*"))]
    assert [p.name for p in shipped if "CAB_REDIS_URL" in p.read_text()] == []
    assert all("CAB_BROKER_URL" in p.read_text() for p in (COMPOSE, K8S / "secret.example.yaml"))
    assert "CAB_BROKER_URL" in _env_file()


def test_unit_verifies_with_systemd_analyze() -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze unavailable")
    done = subprocess.run(
        [tool, "verify", str(SYSTEMD / "cab-worker.service")], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if line.strip() and "/opt/cab/venv/bin/cab" not in line  # not installed on the test host
    ]
    assert problems == []


# -- docs ------------------------------------------------------------------------------------------


def test_deploy_readme_covers_every_file() -> None:
    readme = (DEPLOY / "README.md").read_text()
    files = [p for p in (*K8S.glob("*.yaml"), *SYSTEMD.iterdir())]
    missing = [p.name for p in files if p.name not in readme]
    assert missing == []
    for topic in ("--drain", "docker.sock", "gpu.", "CAB_HOME"):
        assert topic in readme, topic
