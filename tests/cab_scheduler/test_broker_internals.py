"""The Celery and kombu internals the batch publisher relies on are still there, in the versions declared.

``cab_scheduler/broker_internals.py`` calls private Celery and kombu names; a release outside the range
``pyproject.toml`` declares may rename them. These tests fail first, with what to do.
"""

from __future__ import annotations

import importlib
import inspect
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from celery import Celery
from packaging.requirements import Requirement
from packaging.version import Version

from cab_scheduler import broker_internals

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]


def declared(distribution: str) -> Requirement:
    """The runtime requirement ``pyproject.toml`` declares for ``distribution``."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    (requirement,) = [r for r in found if r.name.lower() == distribution]
    return requirement


@pytest.mark.parametrize("distribution", ["celery", "kombu"])
def test_installed_version_is_inside_the_declared_range(distribution: str) -> None:
    requirement = declared(distribution)
    installed = Version(version(distribution))
    assert installed in requirement.specifier, (
        f"{distribution} {installed} is installed, but pyproject.toml declares {requirement}: "
        "cab_scheduler/broker_internals.py uses private names of this library that were checked against "
        "that range only; reinstall (deploy/bootstrap.sh setup), or check every name in its docstring "
        "against the new release and widen the range"
    )


@pytest.mark.parametrize("distribution", ["celery", "kombu"])
def test_the_declared_range_stops_before_the_next_major(distribution: str) -> None:
    requirement = declared(distribution)
    upper = [Version(s.version) for s in requirement.specifier if s.operator == "<"]
    assert upper, f"{requirement} has no upper bound: a new major could silently break the batch publisher"


def owner(path: str) -> object:
    """The object ``PRIVATE_NAMES`` means by ``path``: ``a.b.C`` the class, ``a.b.C()`` an instance."""
    dotted = path.removesuffix("()")
    module_name, _, attr = dotted.rpartition(".")
    cls = getattr(importlib.import_module(module_name), attr)
    if not path.endswith("()"):
        return cls
    if cls is Celery:
        return Celery("probe", set_as_current=False)
    return cls  # kombu's channel needs a live connection to build; its __init__ is read below


@pytest.mark.parametrize("path", sorted(broker_internals.PRIVATE_NAMES))
def test_every_private_name_relied_on_exists(path: str) -> None:
    target = owner(path)
    for name in broker_internals.PRIVATE_NAMES[path]:
        if path.endswith("()") and isinstance(target, type):
            # an attribute set in __init__: look for the assignment
            assert f"self.{name} =" in inspect.getsource(target.__init__), f"{path}.{name} is gone"
        else:
            assert hasattr(target, name), f"{path}.{name} is gone: see cab_scheduler/broker_internals.py"


def test_private_names_are_called_only_from_the_adapter() -> None:
    """No other module of the packages reaches into these names (a class's own ``self._tasks`` is fine)."""
    names = {n for group in broker_internals.PRIVATE_NAMES.values() for n in group}
    offenders = []
    for package in ("cab_core", "cab_endpoint", "cab_scheduler", "cab_workers", "cab_cli"):
        for path in sorted((REPO / package).rglob("*.py")):
            if path.name == "broker_internals.py":
                continue
            source = path.read_text()
            offenders += [
                f"{path.relative_to(REPO)} uses .{n}"
                for n in names
                if re.search(rf"(?<!\bself)\.{n}\b", source)
            ]
    assert offenders == []
