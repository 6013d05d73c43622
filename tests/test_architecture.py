"""Dependencies point one way: core <- endpoint, scheduler <- workers <- cli; only the sandbox and the
image builder talk to Docker."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "cab_core": ("cab_endpoint", "cab_workers", "cab_scheduler", "cab_cli", "docker"),
    "cab_endpoint": ("cab_workers", "cab_scheduler", "cab_cli", "docker"),
    "cab_scheduler": ("cab_endpoint", "cab_workers", "cab_cli", "docker"),
    "cab_workers": ("cab_cli",),
}
DOCKER_USERS = {"cab_workers/host/sandbox.py", "cab_workers/host/images.py"}


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_downstream(package: str) -> None:
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        for mod in imported_modules(path):
            if mod.split(".")[0] in FORBIDDEN[package]:
                offenders.append(f"{path.relative_to(REPO)} imports {mod}")
    assert offenders == []


def test_only_the_sandbox_modules_import_docker() -> None:
    offenders = []
    for pkg in ("cab_core", "cab_endpoint", "cab_scheduler", "cab_workers", "cab_cli"):
        for path in sorted((REPO / pkg).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel not in DOCKER_USERS and any(m.split(".")[0] == "docker" for m in imported_modules(path)):
                offenders.append(rel)
    assert offenders == []
