"""Where the deployment files are and how to read them (shared by the tests in this folder)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
SYSTEMD = DEPLOY / "systemd"
COMPOSE = REPO / "compose.yaml"

_DEFAULTED = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}")
"""Compose's ``${VAR:-default}``: the raw file is judged by the value it has when VAR is unset."""

_REGISTRY_HOST = re.compile(r"^[^/]*[.:][^/]*/|^localhost/")
"""An image reference whose first component is a host (has a dot or port), e.g. ``host.tld/x``."""


def k8s_docs() -> dict[str, list[dict[str, Any]]]:
    """Every manifest under deploy/k8s, by file name, as parsed documents (empty ones dropped)."""
    return {p.name: [d for d in yaml.safe_load_all(p.read_text()) if d] for p in sorted(K8S.glob("*.yaml"))}


def k8s_object(kind: str, name: str) -> dict[str, Any]:
    found = [
        d
        for docs in k8s_docs().values()
        for d in docs
        if d.get("kind") == kind and d["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def with_defaults(value: str) -> str:
    """``${CAB_WORKER_IMAGE:-cab/worker:latest}`` -> ``cab/worker:latest``."""
    return _DEFAULTED.sub(lambda m: m.group(1), value)


def image_repo(image: str) -> str:
    """``cab/worker:latest`` -> ``cab/worker`` (tag and digest dropped)."""
    name = with_defaults(image).split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name[: name.rfind(":")]
    return name


def cab_image_folder(image: str) -> Path | None:
    """``cab/<name>[:tag]`` -> images/<name>; None for images cab does not build (redis, postgres)."""
    repo = image_repo(image)
    return REPO / "images" / repo.removeprefix("cab/") if repo.startswith("cab/") else None


def has_registry_host(image: str) -> bool:
    return bool(_REGISTRY_HOST.match(with_defaults(image)))
