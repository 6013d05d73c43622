"""The shape of the packages, checked: dependencies point one way (core <- endpoint, scheduler <- workers <-
cli); only the sandbox and the image builder talk to Docker; modules and functions stay small enough to
read whole; every ``# type: ignore`` says which error it silences and why."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "cab_core": ("cab_endpoint", "cab_workers", "cab_scheduler", "cab_cli", "docker"),
    "cab_endpoint": ("cab_workers", "cab_scheduler", "cab_cli", "docker"),
    "cab_scheduler": ("cab_endpoint", "cab_workers", "cab_cli", "docker"),
    "cab_workers": ("cab_cli",),
    "cab_site": ("cab_endpoint", "cab_workers", "cab_scheduler", "cab_cli", "docker"),
}
DOCKER_USERS = {
    "cab_workers/host/sandbox.py",
    "cab_workers/host/services.py",
    "cab_workers/host/images.py",
}
PACKAGES = ("cab_core", "cab_endpoint", "cab_scheduler", "cab_workers", "cab_site", "cab_cli")
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60
"""Function length: from the ``def`` line to its last line, docstring included (decorators not)."""
SIZE_REASON = re.compile(r"^\s*Size:", re.MULTILINE)
"""A docstring line starting with ``Size:`` gives the one-line reason a module or function is longer."""
TYPE_IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<codes>\[[^\]]*\])?(?P<rest>.*)")
REASON = re.compile(r"^\s*#\s*\S")


def package_modules() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))]


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


def oversized(path: Path) -> list[str]:
    """``path:line name (N lines)`` for the module and each function over its limit without a ``Size:``."""
    source = path.read_text()
    tree = ast.parse(source)
    rel = path.relative_to(REPO).as_posix()
    found = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES and not SIZE_REASON.search(ast.get_docstring(tree) or ""):
        found.append(f"{rel}:1 module ({lines} lines > {MAX_MODULE_LINES})")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno is not None:
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not SIZE_REASON.search(ast.get_docstring(node) or ""):
                found.append(f"{rel}:{node.lineno} {node.name} ({length} lines > {MAX_FUNCTION_LINES})")
    return found


def test_modules_and_functions_are_small_or_say_why() -> None:
    offenders = [o for path in package_modules() for o in oversized(path)]
    if offenders:
        pytest.fail(
            "split these (or give a one-line reason on a docstring line starting with 'Size:'):\n"
            + "\n".join(offenders),
            pytrace=False,
        )


def unexplained_ignores(path: Path) -> list[str]:
    """``path:line comment`` for each ``# type: ignore`` without ``[code]`` and a ``# reason`` after it."""
    rel = path.relative_to(REPO).as_posix()
    found = []
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type != tokenize.COMMENT or not (match := TYPE_IGNORE.search(token.string)):
            continue
        if not match["codes"] or match["codes"] == "[]" or not REASON.match(match["rest"]):
            found.append(f"{rel}:{token.start[0]} {token.string}")
    return found


def test_every_type_ignore_names_its_code_and_reason() -> None:
    offenders = [o for path in package_modules() for o in unexplained_ignores(path)]
    if offenders:
        pytest.fail(
            "write '# type: ignore[code]  # why' (the error code, then the reason):\n" + "\n".join(offenders),
            pytrace=False,
        )
