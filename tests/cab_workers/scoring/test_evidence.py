"""Declared tests (found statically in hidden test files) and the verdict a report gives on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_workers.scoring.evidence import (
    DeclaredTest,
    declared_tests,
    go_package,
    is_canary,
    is_test_file,
    judge,
)
from cab_workers.scoring.reports import CaseResult, RunnerReport

pytestmark = pytest.mark.unit

TASKS = Path(__file__).resolve().parents[3] / "tasks"


def hidden(task: str) -> dict[str, str]:
    root = TASKS / task / "hidden_tests"
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


# --- declared tests of the shipped tasks -----------------------------------------------------


@pytest.mark.parametrize(
    ("task", "runner", "want"),
    [
        (
            "polyglot/python-semver-sort",
            "pytest",
            [
                f"tests/test_hidden_versions.py::{n}"
                for n in (
                    "test_numeric_components_compare_as_numbers",
                    "test_newest_first",
                    "test_prerelease_sorts_before_its_release",
                    "test_prerelease_identifier_precedence",
                    "test_build_metadata_is_ignored_and_order_stable",
                    "test_latest_release_and_prerelease",
                )
            ],
        ),
        (
            "polyglot/go-lru-eviction",
            "go",
            [
                "TestHiddenGetRefreshesRecency",
                "TestHiddenPutExistingKeyReplacesInPlace",
                "TestHiddenOverwriteDoesNotEvictOthers",
                "TestHiddenKeysOrder",
                "TestHiddenRemoveThenFill",
                "TestHiddenConcurrentUse",
            ],
        ),
        (
            "polyglot/rust-lifetime-fix",
            "cargo",
            [
                f"tests/hidden_longest.rs::tests::{n}"
                for n in ("empty_left", "picks_longer", "ties_pick_left", "works_with_mixed_lifetimes")
            ],
        ),
        (
            "mutations/rust-error-negated",
            "cargo",
            [
                f"tests/hidden_retry.rs::tests::{n}"
                for n in (
                    "first_attempt_ok_returns_immediately",
                    "retries_on_error_until_success",
                    "gives_up_after_max_attempts",
                    "zero_max_attempts_errors",
                )
            ],
        ),
        ("polyglot/js-query-string", "node", ["test/query.hidden.test.js"]),
        ("integrity/unsolvable-refusal", "script", []),
    ],
)
def test_declared_tests_of_shipped_tasks(task: str, runner: str, want: list[str]) -> None:
    assert [t.label for t in declared_tests(runner, hidden(task))] == want


def test_rust_error_handling_declares_its_eight_tests() -> None:
    declared = declared_tests("cargo", hidden("polyglot/rust-error-handling"))
    assert len(declared) == 8
    assert DeclaredTest("tests::errors_display_a_message", "tests/hidden_errors.rs") in declared


PYTEST_SOURCE = """
import unittest

def test_top(): pass
async def test_async(): pass
def helper_test(): pass

class TestGroup:
    def test_a(self): pass
    def not_a_test(self): pass
    class TestNested:
        def test_b(self): pass

class TestWithInit:
    def __init__(self): pass
    def test_never(self): pass

class Checks(unittest.TestCase):
    def test_c(self): pass

class Helper:
    def test_no(self): pass
"""


def test_pytest_finds_functions_classes_and_unittest_cases() -> None:
    names = [t.name for t in declared_tests("pytest", {"tests/test_x.py": PYTEST_SOURCE})]
    assert names == [
        "test_top",
        "test_async",
        "TestGroup::test_a",
        "TestGroup::TestNested::test_b",
        "Checks::test_c",
    ]


@pytest.mark.parametrize(
    ("files", "want"),
    [
        # a file that does not parse, or names no test, counts by file: it can never vanish
        ({"tests/test_x.py": "def test_(:\n"}, [DeclaredTest(None, "tests/test_x.py")]),
        ({"tests/test_x.py": "X = 1\n"}, [DeclaredTest(None, "tests/test_x.py")]),
        # helpers and conftests are no test files
        ({"tests/conftest.py": "def test_a(): pass", "tests/helpers.py": "def test_b(): pass"}, []),
        ({"x_test.py": "def test_a(): pass"}, [DeclaredTest("test_a", "x_test.py")]),
    ],
)
def test_pytest_files(files: dict[str, str], want: list[DeclaredTest]) -> None:
    assert list(declared_tests("pytest", files)) == want


GO_SOURCE = """// Package x_test tests x.
package x_test

import (
	"testing"
	tst "testing"
)

// func TestCommented(t *testing.T) {}
/* func TestBlock(t *testing.T) {} */
var s = "func TestInString(t *testing.T) {"
var r = `
func TestInRaw(t *testing.T) {
`

func TestMain(m *testing.M) {}
func Testing(t *testing.T) {}
func Test(t *testing.T) {}
func TestA(t *testing.T) {}
func Test_b(t *tst.T) {}
func  TestSpaced( t  *testing.T ) {}
func BenchmarkX(b *testing.B) {}
func TestHelper(t *testing.T, extra int) {}
"""


def test_go_finds_top_level_tests_only() -> None:
    names = [
        t.name
        for t in declared_tests(
            "go", {"pkg/x_test.go": GO_SOURCE, "pkg/x.go": "func TestNo(t *testing.T) {}"}
        )
    ]
    assert names == ["Test", "TestA", "Test_b", "TestSpaced"]
    assert all(t.file is None for t in declared_tests("go", {"x_test.go": GO_SOURCE}))  # go names no files


def test_go_package_clause() -> None:
    assert go_package(GO_SOURCE) == "x_test"
    assert go_package("/* package nope */\n// package no\npackage yes\n") == "yes"
    assert go_package("// nothing") is None


RUST_SOURCE = r"""
//! crate docs with a { brace
use std::fmt;

/* a block /* nested */ comment with #[test] fn commented() {} */
#[test]
fn top() { let s = "{"; let c = '{'; let r = r#"}"#; let _l: &'static str = "x"; }

mod outer {
    #[test]
    #[should_panic(expected = "boom {")]
    fn panics() {}

    fn helper() -> &'static str { "}" }

    mod inner {
        #[test]
        #[ignore]
        fn deep() {}
    }

    #[tokio::test]
    async fn asynchronous() {}
}

#[cfg(test)]
mod tests {
    #[test] fn after() { if true { } }
}

fn not_a_test() {}
"""


def test_cargo_finds_tests_with_their_modules() -> None:
    names = [t.name for t in declared_tests("cargo", {"tests/x.rs": RUST_SOURCE})]
    assert names == ["top", "outer::panics", "outer::inner::deep", "outer::asynchronous", "tests::after"]


def test_cargo_only_reads_test_targets() -> None:
    files = {
        "tests/a.rs": "#[test] fn a() {}",
        "tests/common/mod.rs": "#[test] fn b() {}",
        "src/lib.rs": "#[test] fn c() {}",
    }
    assert [t.label for t in declared_tests("cargo", files)] == ["tests/a.rs::a"]
    assert [t.label for t in declared_tests("cargo", {"crates/x/tests/a.rs": "#[test] fn a() {}"})] == [
        "crates/x/tests/a.rs::a"
    ]


@pytest.mark.parametrize(
    ("path", "runner", "want"),
    [
        ("test/query.hidden.test.js", "node", True),
        ("src/x.test.mjs", "node", True),
        ("lib/test-utils.cjs", "node", True),
        ("test/fixtures/data.json", "node", False),
        ("node_modules/pkg/test/a.js", "node", False),
        ("src/query.js", "node", False),
        ("tests/test_a.py", "pytest", True),
        ("tests/conftest.py", "pytest", False),
        ("a/b_test.go", "go", True),
        ("a/_b_test.go", "go", False),
        ("tests/a.rs", "cargo", True),
        ("tests/sub/a.rs", "cargo", False),
        ("hidden_check.py", "script", False),
    ],
)
def test_is_test_file(path: str, runner: str, want: bool) -> None:
    assert is_test_file(runner, path) is want


@pytest.mark.parametrize(
    ("runner", "explicit", "want"),
    [
        ("pytest", ["tests/test_a.py::TestC::test_m"], [DeclaredTest("TestC::test_m", "tests/test_a.py")]),
        ("pytest", ["test_m"], [DeclaredTest("test_m", None)]),
        ("cargo", ["tests::a"], [DeclaredTest("tests::a", None)]),
        ("cargo", ["tests/x.rs::tests::a"], [DeclaredTest("tests::a", "tests/x.rs")]),
        (
            "go",
            ["pkg/x_test.go::TestA", "TestB", "TestB"],
            [DeclaredTest("TestA", None), DeclaredTest("TestB", None)],
        ),
        ("node", ["outer > inner"], [DeclaredTest("outer > inner", None)]),
        ("node", ["test/a.test.js::outer > inner"], [DeclaredTest("outer > inner", "test/a.test.js")]),
    ],
)
def test_explicit_names_replace_the_found_ones(
    runner: str, explicit: list[str], want: list[DeclaredTest]
) -> None:
    files = {
        "tests/test_a.py": "def test_z(): pass",
        "test/a.test.js": "",
        "x_test.go": "func TestZ(t *testing.T) {}",
    }
    assert list(declared_tests(runner, files, explicit)) == want


# --- the verdict -----------------------------------------------------------------------------

CANARY = "cab_canary_0123abcd"


def report(*cases: tuple[str, str | None, str], problems: tuple[str, ...] = ()) -> RunnerReport:
    return RunnerReport(cases=tuple(CaseResult(n, f, o) for n, f, o in cases), problems=problems)  # type: ignore[arg-type]


F = "tests/test_a.py"
PY = (DeclaredTest("test_a", F), DeclaredTest("TestC::test_m", F))


@pytest.mark.parametrize(
    ("runner", "rep", "declared", "passed", "failed", "missing", "canary"),
    [
        (
            "pytest",
            report(("test_a", F, "passed"), ("TestC::test_m", F, "passed"), ("test_" + CANARY, F, "failed")),
            PY,
            [f"{F}::test_a", f"{F}::TestC::test_m"],
            [],
            [],
            "failed",
        ),
        # a parametrized test passes only if every case passed; a skip is not a pass
        (
            "pytest",
            report(("test_a[1]", F, "passed"), ("test_a[2]", F, "failed"), ("TestC::test_m", F, "skipped")),
            PY,
            [],
            [f"{F}::test_a", f"{F}::TestC::test_m"],
            [],
            "missing",
        ),
        # the same name from another file does not count
        (
            "pytest",
            report(("test_a", "tests/test_other.py", "passed"), ("TestC::test_mx", F, "passed")),
            PY,
            [],
            [],
            [f"{F}::test_a", f"{F}::TestC::test_m"],
            "missing",
        ),
        # go: subtests belong to their test; any package
        (
            "go",
            report(
                ("TestA", None, "passed"),
                ("TestA/sub", None, "failed"),
                ("TestB", None, "passed"),
                ("Test_" + CANARY, None, "failed"),
            ),
            (DeclaredTest("TestA", None), DeclaredTest("TestB", None), DeclaredTest("TestC", None)),
            ["TestB"],
            ["TestA"],
            ["TestC"],
            "failed",
        ),
        (
            "go",
            report(("TestAB", None, "passed")),
            (DeclaredTest("TestA", None),),
            [],
            [],
            ["TestA"],
            "missing",
        ),
        # cargo: exact names; a workspace member's path ends with the reported one
        (
            "cargo",
            report(
                ("tests::a", "tests/x.rs", "passed"),
                ("tests::a_b", "tests/x.rs", "failed"),
                (CANARY, "tests/" + CANARY + ".rs", "failed"),
            ),
            (DeclaredTest("tests::a", "crates/k/tests/x.rs"),),
            ["crates/k/tests/x.rs::tests::a"],
            [],
            [],
            "failed",
        ),
        # node by file: every case of the file, each listed; the canary is not one of them
        (
            "node",
            report(
                ("a", "test/h.test.js", "passed"),
                ("s > b", "test/h.test.js", "failed"),
                (CANARY, "test/h.test.js", "failed"),
                ("v", "test/visible.test.js", "failed"),
            ),
            (DeclaredTest(None, "test/h.test.js"), DeclaredTest(None, "test/h2.test.js")),
            ["test/h.test.js::a"],
            ["test/h.test.js::s > b"],
            ["test/h2.test.js"],
            "failed",
        ),
        (
            "node",
            report(("s > a", "t.js", "passed"), ("s", "t.js", "passed")),
            (DeclaredTest("s", None),),
            ["s"],
            [],
            [],
            "missing",
        ),
    ],
)
def test_judge(
    runner: str,
    rep: RunnerReport,
    declared: tuple[DeclaredTest, ...],
    passed: list[str],
    failed: list[str],
    missing: list[str],
    canary: str,
) -> None:
    verdict = judge(runner, rep, declared, CANARY)
    assert (list(verdict.passed), list(verdict.failed), list(verdict.missing)) == (passed, failed, missing)
    assert verdict.canary == canary
    assert verdict.total == len(passed) + len(failed) + len(missing)


@pytest.mark.parametrize(
    ("outcomes", "state"),
    [
        ([], "missing"),
        (["failed"], "failed"),
        (["failed", "error"], "failed"),
        (["failed", "passed"], "passed"),  # one file's canary passed: that process was patched
        (["skipped"], "passed"),
    ],
)
def test_canary_state(outcomes: list[str], state: str) -> None:
    rep = report(*((CANARY, f"t{i}.py", o) for i, o in enumerate(outcomes)))
    verdict = judge("pytest", rep, PY, CANARY)
    assert verdict.canary == state
    assert any("canary" in p for p in verdict.problems) is (state != "failed")


def test_judge_without_canary_or_declared_tests() -> None:
    verdict = judge("pytest", report(("test_a", F, "passed")), (), None)
    assert verdict.canary is None
    assert verdict.problems == ("the task declares no hidden tests, so nothing can prove a pass",)
    assert judge("pytest", report(problems=("bad",)), PY, None).problems == ("bad",)


def test_is_canary() -> None:
    assert (
        is_canary(CANARY, CANARY)
        and is_canary("test_" + CANARY, CANARY)
        and is_canary("Test_" + CANARY, CANARY)
    )
    assert not is_canary("test_" + CANARY + "_x", CANARY) and not is_canary("x" + CANARY, CANARY)
