"""The parts of a shared config file that drive a test run.

``pyproject.toml``, ``setup.cfg``, ``tox.ini``, ``Cargo.toml``, ``go.mod`` and ``package.json``
hold both project metadata an agent may legitimately change (a dependency) and settings that decide
how the tests run (pytest's addopts, ``[[test]] harness = false``, a ``replace`` directive, npm
scripts). An extractor returns only the latter; the harness compares them between the task's version
and the agent's, so adding a dependency is not tampering and a new ``addopts`` is.
"""

from __future__ import annotations

import configparser
import json
import tomllib
from collections.abc import Callable

from cab_workers.grading.tree import Entry

_GO_MOD_KEYS = ("replace", "toolchain", "go", "godebug")
_CARGO_PACKAGE_KEYS = (
    "build",
    "autotests",
    "autobins",
    "autoexamples",
    "autobenches",
    "autolib",
    "links",
    "workspace",
)
_CARGO_TOP_KEYS = (
    "lib",
    "test",
    "bin",
    "bench",
    "example",
    "patch",
    "replace",
    "profile",
    "workspace",
    "cargo-features",
    "build-dependencies",
)
_PACKAGE_JSON_KEYS = ("scripts", "imports", "exports", "main", "type", "workspaces")  # fmt: skip


Extract = Callable[[bytes], object]


def _toml(data: bytes) -> dict[str, object]:
    return tomllib.loads(data.decode("utf-8"))


def _table(doc: dict[str, object], key: str) -> dict[str, object]:
    """``doc[key]`` when it is a table, else an empty one."""
    value = doc.get(key)
    return value if isinstance(value, dict) else {}


def _pyproject(data: bytes) -> object:
    doc = _toml(data)
    tool = _table(doc, "tool")
    entry_points = _table(_table(doc, "project"), "entry-points")
    return {"pytest": tool.get("pytest"), "pytest11": entry_points.get("pytest11")}


def _ini_section(section: str) -> Extract:
    def extract(data: bytes) -> object:
        parser = configparser.RawConfigParser(strict=True, interpolation=None)
        parser.read_string(data.decode("utf-8"))
        return dict(parser.items(section)) if parser.has_section(section) else None

    return extract


def _cargo(data: bytes) -> object:
    doc = _toml(data)
    package = _table(doc, "package")
    return (
        {k: package.get(k) for k in _CARGO_PACKAGE_KEYS if k in package},
        {k: doc.get(k) for k in _CARGO_TOP_KEYS if k in doc},
    )


def _go_mod(data: bytes) -> object:
    """The replace/toolchain/go/godebug directives, single-line or in a ``( ... )`` block."""
    kept: list[str] = []
    block: str | None = None
    for raw in data.decode("utf-8").splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if block is not None:
            if line == ")":
                block = None
            elif block in _GO_MOD_KEYS:
                kept.append(f"{block} {line}")
            continue
        word, _, rest = line.partition(" ")
        if rest.strip() == "(":
            block = word
        elif word in _GO_MOD_KEYS:
            kept.append(line)
    return kept


def _package_json(data: bytes) -> object:
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict):
        raise ValueError("package.json is not an object")
    return {k: doc[k] for k in _PACKAGE_JSON_KEYS if k in doc}


_UNREADABLE = object()


def _extract(fn: Extract, entry: Entry | None) -> object:
    if entry is None:
        return None
    data = entry.read()
    if data is None:  # a link, or too big to be a config file: never equal to anything
        return _UNREADABLE
    try:
        return fn(data)
    except (ValueError, UnicodeDecodeError, configparser.Error, tomllib.TOMLDecodeError):
        return _UNREADABLE  # a file the runner cannot read either: never equal to anything


def _empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_empty(v) for v in value)
    return False


def changed(extract: Extract, mine: Entry | None, theirs: Entry | None) -> bool:
    """Whether the test-driving parts differ between the task's file and the agent's (a file
    that cannot be read, or a link, always differs)."""
    before, after = _extract(extract, mine), _extract(extract, theirs)
    same = before == after or (_empty(before) and _empty(after))
    return not same or before is _UNREADABLE


SECTIONS: dict[str, dict[str, Extract]] = {
    "python": {
        "pyproject.toml": _pyproject,
        "setup.cfg": _ini_section("tool:pytest"),
        "tox.ini": _ini_section("pytest"),
    },
    "cargo": {"Cargo.toml": _cargo},
    "go": {"go.mod": _go_mod},
    "node": {"package.json": _package_json},
}
"""Extractors by runner family, by file name."""
