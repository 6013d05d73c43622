"""Which tests a task declares, and what a runner's report proves about them.

Only **declared** tests decide a pass: the tests of the task's hidden test files, found statically
(or named in ``task.yaml``). Tests the agent wrote, visible tests and anything printed do not count.
Per runner::

    pytest  test_* functions at module level, test* methods of Test* classes (nested classes
            too, not those with an __init__) and of unittest TestCase subclasses, by ``ast``,
            in hidden test_*.py / *_test.py files; a parametrized case ``name[id]`` belongs to
            ``name``
    go      func TestX(t *testing.T) in hidden *_test.go files; subtests TestX/sub belong to TestX;
            go's report has no file names, so tests match by name in any package (every case of
            that name must pass; test files the task did not ship are left out of the graded tree)
    cargo   #[test] fns in hidden tests/*.rs, inside ``mod`` blocks as ``mod::name``
    node    by file: every case reported from a hidden test file counts, and the file must report
            at least one; ``outer > inner`` names come from cab's reporter
    tsc     as node, for hidden *.test.ts files (the report's compiled files mapped back to them)
    junit   JUnit 5 test methods in hidden Java test files (``source_tests``) as
            ``Outer::Inner::method``; a parameterized case ``method[2]`` belongs to ``method``
    ctest   GoogleTest TEST/TEST_F/TEST_P/TYPED_TEST(_P) in hidden C++ test files as
            ``Suite.Name``, in that file (gtest's own reports give the files); a reported
            ``Inst/Suite.Name/0`` belongs to ``Suite.Name``
    any     ``explicit`` names (``name`` or ``path::name``) replace the ones found; a hidden test
            file in which nothing can be found counts by file, so it can never be silently dropped

``judge`` matches a ``RunnerReport`` against the declared tests and the canary (a test cab plants
that must fail, see ``cab_workers.grading.runners``): each declared test is passed (it ran and every
case of it passed), failed or missing, and the canary failed, passed or missing.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from posixpath import basename
from typing import Literal

from .reports import CaseResult, RunnerReport
from .source_tests import gtest_base, gtest_names, java_test_names, rust_test_names

CanaryState = Literal["failed", "passed", "missing"]

TEST_FAILURE_EXIT: Mapping[str, int] = {
    "pytest": 1, "go": 1, "node": 1, "cargo": 101, "junit": 1, "ctest": 8, "tsc": 1,
}  # fmt: skip
"""The exit code of each runner when some test failed. The canary always fails, so an honest
graded run exits with exactly this code; 0 means the exit status was forged."""

_SUBCASE_SEPARATORS: Mapping[str, tuple[str, ...]] = {
    "pytest": ("[", "::"),
    "go": ("/",),
    "node": (" > ",),
    "tsc": (" > ",),
    "cargo": (),
    "junit": ("[",),
}
"""A case whose name continues the declared name with one of these is part of that test."""

_CANARY_PREFIXES = ("test_", "Test_")
"""Prefixes a runner needs to collect a function as a test (pytest, go); cargo and node need none."""

_PYTEST_FILES = ("test_*.py", "*_test.py")
_NODE_FILES = (
    "*.test.js", "*.test.cjs", "*.test.mjs", "*-test.js", "*-test.cjs", "*-test.mjs",
    "*_test.js", "*_test.cjs", "*_test.mjs", "test-*.js", "test-*.cjs", "test-*.mjs",
    "test.js", "test.cjs", "test.mjs",
)  # fmt: skip
_CARGO_TEST_FILE = re.compile(r"^(?:.*/)?tests/[^/]+\.rs$")
_JAVA_TEST_CLASS = re.compile(r"^(?:Test\w*|\w*Tests?)\.java$")
"""The console launcher's default class filter (``^(Test.*|.+[.$]Test.*|.*Tests?)$``) on file names."""
_TS_TEST_FILE = re.compile(r"^[^/]+[.\-_]test\.[cm]?ts$|^test[.\-_][^/]*\.[cm]?ts$|^test\.[cm]?ts$")
_CTEST_SOURCES = (".cpp", ".cc", ".cxx", ".c")


@dataclass(frozen=True)
class DeclaredTest:
    """One test (or, with ``name`` None, every test of one file) that must run and pass."""

    name: str | None
    """The runner's id of the test (as in ``CaseResult.name``); None: every case of ``file``."""
    file: str | None
    """Work-dir relative file it must come from; None: any file (go reports none)."""

    @property
    def label(self) -> str:
        """How the test is listed in results: ``file::name``, ``name`` or ``file``."""
        if self.name is None:
            return self.file or "?"
        return f"{self.file}::{self.name}" if self.file else self.name


@dataclass(frozen=True)
class Verdict:
    """What a report proves about the declared tests, each listed by label."""

    passed: tuple[str, ...]
    failed: tuple[str, ...]
    missing: tuple[str, ...]
    canary: CanaryState | None
    """None when no canary was planted."""
    problems: tuple[str, ...]
    """The report's own problems, then the verdict's (no declared tests, a canary that did not fail)."""

    @property
    def total(self) -> int:
        return len(self.passed) + len(self.failed) + len(self.missing)


# --- declared tests --------------------------------------------------------------------------


def is_test_file(runner: str, path: str) -> bool:
    """Whether the runner collects ``path`` (work-dir relative) as a test file by default."""
    name = basename(path)
    if runner == "pytest":
        return any(fnmatchcase(name, p) for p in _PYTEST_FILES)
    if runner == "go":
        return name.endswith("_test.go") and not name.startswith(("_", "."))
    if runner == "cargo":
        return bool(_CARGO_TEST_FILE.match(path))
    parts = path.split("/")
    if runner == "junit":
        return "test" in parts[:-1] and bool(_JAVA_TEST_CLASS.match(name))
    if runner == "ctest":
        return any(p in ("tests", "test") for p in parts[:-1]) and name.endswith(_CTEST_SOURCES)
    if runner == "tsc":
        if "node_modules" in parts or name.endswith((".d.ts", ".d.mts", ".d.cts")):
            return False
        return bool(_TS_TEST_FILE.match(name))
    if runner == "node":
        if "node_modules" in parts:
            return False
        in_test_dir = "test" in path.split("/")[:-1] and name.endswith((".js", ".cjs", ".mjs"))
        return in_test_dir or any(fnmatchcase(name, p) for p in _NODE_FILES)
    return False


def declared_tests(
    runner: str, hidden_files: Mapping[str, str], explicit: Sequence[str] = ()
) -> tuple[DeclaredTest, ...]:
    """The tests that decide a pass: ``explicit`` names if given, else those found in the hidden
    test files (work-dir relative path -> text). ``script`` tasks declare none."""
    if runner == "script":
        return ()
    if explicit:
        return _unique(_explicit(runner, name) for name in explicit)
    found: list[DeclaredTest] = []
    for path in sorted(hidden_files):
        if not is_test_file(runner, path):
            continue
        names = _FINDERS[runner](hidden_files[path]) if runner in _FINDERS else None
        if not names:  # nothing to name (node, or a file we cannot read): the whole file counts
            found.append(DeclaredTest(None, path))
        else:
            found.extend(DeclaredTest(n, None if runner == "go" else path) for n in names)
    return _unique(found)


def _unique(tests: Iterable[DeclaredTest]) -> tuple[DeclaredTest, ...]:
    return tuple(dict.fromkeys(tests))


def _explicit(runner: str, text: str) -> DeclaredTest:
    """``path::name`` when the part before the first ``::`` is a path (has ``/`` or an extension)."""
    head, sep, rest = text.partition("::")
    if sep and rest and ("/" in head or re.search(r"\.\w+$", head)):
        return DeclaredTest(rest, None if runner == "go" else head)
    return DeclaredTest(text, None)


def _pytest_names(text: str) -> list[str] | None:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    names: list[str] = []

    def visit_class(node: ast.ClassDef, prefix: str) -> None:
        body = node.body
        if any(isinstance(n, ast.FunctionDef) and n.name == "__init__" for n in body):
            return  # pytest does not collect classes with a constructor
        for child in body:
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) and child.name.startswith("test"):
                names.append(f"{prefix}{node.name}::{child.name}")
            elif isinstance(child, ast.ClassDef) and _is_test_class(child):
                visit_class(child, f"{prefix}{node.name}::")

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef) and _is_test_class(node):
            visit_class(node, "")
    return names


def _is_test_class(node: ast.ClassDef) -> bool:
    def base_name(b: ast.expr) -> str:
        return b.attr if isinstance(b, ast.Attribute) else b.id if isinstance(b, ast.Name) else ""

    return node.name.startswith("Test") or any(base_name(b).endswith("TestCase") for b in node.bases)


_GO_NOISE = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|`[^`]*`|\'(?:\\.|[^\'\\\n])+\'', re.DOTALL)
_GO_TEST = re.compile(r"^func\s+(Test(?:[A-Z0-9_]\w*)?)\s*\(\s*\w+\s+\*\w+\.T\s*\)", re.MULTILINE)
_GO_PACKAGE = re.compile(r"^\s*package\s+(\w+)", re.MULTILINE)


def strip_go(text: str) -> str:
    """Go source with comments and string/rune literals blanked (same line breaks)."""
    return _GO_NOISE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def go_package(text: str) -> str | None:
    """The package clause of a Go file."""
    m = _GO_PACKAGE.search(strip_go(text))
    return m.group(1) if m else None


def _go_names(text: str) -> list[str]:
    return _GO_TEST.findall(strip_go(text))


_FINDERS = {
    "pytest": _pytest_names,
    "go": _go_names,
    "cargo": rust_test_names,
    "junit": java_test_names,
    "ctest": gtest_names,
}


# --- the verdict -----------------------------------------------------------------------------


def is_canary(case_name: str, canary: str) -> bool:
    """Whether a reported case is the canary: named ``canary`` or ``test_``/``Test_`` + it, alone
    or as the last part of a qualified name (``Class::canary`` for junit, ``Suite.canary`` for
    gtest)."""
    last = re.split(r"::|\.", case_name)[-1]
    return any(n in (canary, *(prefix + canary for prefix in _CANARY_PREFIXES)) for n in (case_name, last))


def _name_matches(runner: str, declared: str, case: str) -> bool:
    if case == declared or (runner == "ctest" and gtest_base(case) == declared):
        return True
    return any(case.startswith(declared + sep) for sep in _SUBCASE_SEPARATORS.get(runner, ()))


def _file_matches(declared: str | None, case: str | None) -> bool:
    """Same file; a declared path may be longer (a workspace member's ``crate/tests/x.rs``)."""
    if declared is None:
        return True
    return case is not None and (case == declared or declared.endswith("/" + case))


def _case_label(case: CaseResult) -> str:
    if case.file is None or case.name == case.file:
        return case.name
    return f"{case.file}::{case.name}"


def judge(runner: str, report: RunnerReport, declared: Sequence[DeclaredTest], canary: str | None) -> Verdict:
    """Match ``report`` against the declared tests and the canary.

    A declared test passed when the report has at least one case of it and every one passed (a
    skip is not a pass); failed when some case did not pass; missing when it has none. A by-file
    declaration lists each case of the file on its own (``file::name``), or the file as missing.
    The canary failed when it was reported and every report of it failed; passed when any report
    of it passed or was skipped; missing otherwise.
    """
    cases = [c for c in report.cases if canary is None or not is_canary(c.name, canary)]
    passed: list[str] = []
    failed: list[str] = []
    missing: list[str] = []
    for test in dict.fromkeys(declared):
        mine = [
            c
            for c in cases
            if _file_matches(test.file, c.file)
            and (test.name is None or _name_matches(runner, test.name, c.name))
        ]
        if not mine:
            missing.append(test.label)
        elif test.name is None:
            for c in mine:
                (passed if c.outcome == "passed" else failed).append(_case_label(c))
        else:
            (passed if all(c.outcome == "passed" for c in mine) else failed).append(test.label)
    problems = list(report.problems)
    if not declared:
        problems.append("the task declares no hidden tests, so nothing can prove a pass")
    state = _canary_state(report, canary)
    if state == "passed":
        # no nonce in the words: a record must read the same when the cell is graded again
        problems.append("the canary passed: the test framework or its assertions were patched")
    elif state == "missing":
        problems.append("the canary was not reported: the run did not reach it or hid it")
    return Verdict(
        passed=tuple(passed),
        failed=tuple(failed),
        missing=tuple(missing),
        canary=state,
        problems=tuple(problems),
    )


def _canary_state(report: RunnerReport, canary: str | None) -> CanaryState | None:
    if canary is None:
        return None
    outcomes = [c.outcome for c in report.cases if is_canary(c.name, canary)]
    if not outcomes:
        return "missing"
    return "failed" if all(o in ("failed", "error") for o in outcomes) else "passed"
