"""The junit, ctest and tsc runners without Docker: invocation, canary text, reading their reports
back (table-driven, from the shapes the real runners wrote in the fixture images), the harness
policy and the declared tests. ``test_compiled_runners_docker`` runs them for real."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cab_core.schema import TaskSpec
from cab_workers.grading import runners
from cab_workers.grading.canary import junit_canary_class
from cab_workers.grading.harness import HarnessPolicy, plan_tree
from cab_workers.grading.tree import Entry
from cab_workers.scoring.evidence import DeclaredTest, declared_tests, is_canary, is_test_file, judge
from cab_workers.scoring.reports import CaseResult, RunnerReport
from cab_workers.scoring.source_tests import gtest_base, gtest_names, java_test_names

pytestmark = pytest.mark.unit

NONCE = "0123456789ab"
CANARY = f"cab_canary_{NONCE}"
SH = ["sh", "-c", 'build && exec runner "$@"', "sh"]


# --- invocation --------------------------------------------------------------------------------


def test_junit_appends_the_reports_dir_and_turns_extension_autodetection_off() -> None:
    inv = runners.invocation("junit", SH, "/r")
    assert inv.argv == [
        *SH,
        "--reports-dir=/r/junit",
        "--config=junit.jupiter.extensions.autodetection.enabled=false",
    ]
    assert inv.env == {} and inv.support_files == {}


def test_ctest_appends_output_junit_and_asks_every_gtest_process_for_its_report() -> None:
    inv = runners.invocation("ctest", SH, "/r")
    assert inv.argv == [*SH, "--output-junit", "/r/ctest.xml"]
    assert inv.env == {"GTEST_OUTPUT": "xml:/r/gtest/"} and inv.report_files == ("/r/ctest.xml",)


def test_tsc_appends_the_node_reporter_flags_as_arguments_never_in_node_options() -> None:
    inv = runners.invocation("tsc", SH, "/r", support_dir="/s")
    assert inv.argv == [
        *SH,
        "--test-reporter=spec",
        "--test-reporter-destination=stdout",
        "--test-reporter=/s/cab_reporter.mjs",
        "--test-reporter-destination=/r/node.jsonl",
    ]
    assert inv.env == {"NODE_PATH": "/usr/local/lib/node_modules"}
    assert set(inv.support_files) == {"cab_reporter.mjs"} and inv.report_files == ("/r/node.jsonl",)


# --- the canary ----------------------------------------------------------------------------------

JAVA_TEST = (
    "package com.example.stack;\n\nclass StackTest {\n  @org.junit.jupiter.api.Test\n  void a() {}\n}\n"
)


def test_junit_canary_is_a_test_class_in_each_hidden_test_folder_and_package() -> None:
    hidden = {
        "src/test/java/com/example/stack/StackTest.java": JAVA_TEST,
        "src/test/java/com/example/stack/data.txt": "x",
        "src/test/java/DefaultTest.java": "class DefaultTest {}\n",
    }
    files = runners.canary_files("junit", hidden, NONCE)
    cls = junit_canary_class(NONCE)
    assert set(files) == {f"src/test/java/com/example/stack/{cls}.java", f"src/test/java/{cls}.java"}
    text = files[f"src/test/java/com/example/stack/{cls}.java"].decode()
    assert "package com.example.stack;\n" in text and f"class {cls} {{" in text and f"void {CANARY}()" in text
    assert "package" not in files[f"src/test/java/{cls}.java"].decode().split("class")[0].replace(
        "Planted", ""
    )


def test_ctest_canary_is_appended_to_each_hidden_cpp_file_with_its_own_suite() -> None:
    hidden = {
        "tests/a_test.cpp": "#include <gtest/gtest.h>\nTEST(A, B) {}\n",
        "tests/b.cc": "// b",
        "tests/c.c": "",
    }
    files = runners.canary_files("ctest", hidden, NONCE)
    assert set(files) == {"tests/a_test.cpp", "tests/b.cc"}
    assert files["tests/a_test.cpp"].decode().startswith(hidden["tests/a_test.cpp"])
    assert f"TEST(CabCanary0, {CANARY})" in files["tests/a_test.cpp"].decode()
    assert f"TEST(CabCanary1, {CANARY})" in files["tests/b.cc"].decode()


def test_tsc_canary_is_appended_to_each_hidden_test_ts_file() -> None:
    hidden = {"test/x.test.ts": 'import { test } from "node:test";\n', "test/helpers.ts": "export {};\n"}
    files = runners.canary_files("tsc", hidden, NONCE)
    assert set(files) == {"test/x.test.ts"}
    text = files["test/x.test.ts"].decode()
    assert text.startswith(hidden["test/x.test.ts"]) and f'test("{CANARY}"' in text
    assert 'void import("node:test")' in text and "as unknown as CabAssert" in text


@pytest.mark.parametrize(
    ("name", "canary"),
    [
        (f"Cab_canary_{NONCE}_Test::{CANARY}", True),
        (f"CabCanary0.{CANARY}", True),
        (CANARY, True),
        (f"Suite.not_{CANARY}", False),
        ("BoundedStackTest::push", False),
    ],
)
def test_qualified_canary_names(name: str, canary: bool) -> None:
    assert is_canary(name, CANARY) is canary


# --- reading the reports -------------------------------------------------------------------------

JUPITER = f"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="JUnit Jupiter" tests="5" skipped="0" failures="2" errors="0">
<testcase name="peekReturnsTheNewest()" classname="com.example.stack.BoundedStackHiddenTest" time="0"/>
<testcase name="peekSeesThePrevious()" classname="com.example.stack.BoundedStackHiddenTest$AfterPop"/>
<testcase name="pushOnFullThrows(int)[1]" classname="com.example.stack.BoundedStackHiddenTest"/>
<testcase name="pushOnFullThrows(int)[2]" classname="com.example.stack.BoundedStackHiddenTest">
<failure message="expected" type="org.opentest4j.AssertionFailedError">trace</failure></testcase>
<testcase name="{CANARY}()" classname="com.example.stack.Cab_canary_{NONCE}_Test">
<failure message="cab canary" type="java.lang.AssertionError"/></testcase>
</testsuite>
"""
EMPTY_ENGINE = '<testsuite name="JUnit Vintage" tests="0" skipped="0" failures="0" errors="0"></testsuite>'

CTEST = f"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="(empty)" tests="5" failures="1" disabled="0" skipped="0">
<testcase name="S.Ok" classname="S.Ok" status="run"><system-out>[  PASSED  ] 1 test.</system-out></testcase>
<testcase name="S.Exits" classname="S.Exits" status="run"/>
<testcase name="Sizes/P.T/5" classname="Sizes/P.T/5" status="run"/>
<testcase name="Sizes/P.T/7" classname="Sizes/P.T/7" status="fail"><failure message="Failed"/></testcase>
<testcase name="CabCanary0.{CANARY}" classname="CabCanary0.{CANARY}" status="fail">
<failure message="Failed"/></testcase>
</testsuite>
"""
GTEST_LISTING = """<testsuites tests="4" name="AllTests">
<testsuite name="S" tests="2"><testcase name="Ok" file="/work/tests/s_test.cpp" line="3" />
<testcase name="Exits" file="/work/tests/s_test.cpp" line="9" /></testsuite>
<testsuite name="Sizes/P" tests="2">
<testcase name="T/0" value_param="5" file="/work/tests/s_test.cpp" line="20" />
<testcase name="T/1" value_param="7" file="/work/tests/s_test.cpp" line="20" /></testsuite>
</testsuites>"""


def _gtest_run(suite: str, name: str, failed: bool = False) -> str:
    failure = '<failure message="x" type=""/>' if failed else ""
    return (
        f'<testsuites tests="1" name="AllTests"><testsuite name="{suite}" tests="1">'
        f'<testcase name="{name}" file="/work/tests/s_test.cpp" line="1" status="run" result="completed" '
        f'classname="{suite}">{failure}</testcase></testsuite></testsuites>'
    )


HIDDEN_JS = "/tmp/cab-ts/test/slug.hidden.test.js"
NODE_TS = "\n".join(
    [
        f'{{"type":"case","kind":"test","name":"slugify > trims","file":"{HIDDEN_JS}","outcome":"passed"}}',
        f'{{"type":"case","kind":"test","name":"{CANARY}","file":"{HIDDEN_JS}","outcome":"failed"}}',
        '{"type":"file","file":"/tmp/cab-ts/test/crash.test.js","outcome":"failed","failure":"testCodeFailure"}',
        '{"type":"end"}',
    ]
)

REPORTS = [
    pytest.param(
        "junit",
        {
            "junit/TEST-junit-jupiter.xml": JUPITER.encode(),
            "junit/TEST-junit-vintage.xml": EMPTY_ENGINE.encode(),
        },
        {
            (
                "BoundedStackHiddenTest::peekReturnsTheNewest",
                "com/example/stack/BoundedStackHiddenTest.java",
                "passed",
            ),
            (
                "BoundedStackHiddenTest::AfterPop::peekSeesThePrevious",
                "com/example/stack/BoundedStackHiddenTest.java",
                "passed",
            ),
            (
                "BoundedStackHiddenTest::pushOnFullThrows[1]",
                "com/example/stack/BoundedStackHiddenTest.java",
                "passed",
            ),
            (
                "BoundedStackHiddenTest::pushOnFullThrows[2]",
                "com/example/stack/BoundedStackHiddenTest.java",
                "failed",
            ),
            (
                f"Cab_canary_{NONCE}_Test::{CANARY}",
                f"com/example/stack/Cab_canary_{NONCE}_Test.java",
                "failed",
            ),
        },
        id="junit-platform",
    ),
    pytest.param(
        "ctest",
        {
            "ctest.xml": CTEST.encode(),
            "gtest/s_tests.xml": GTEST_LISTING.encode(),
            "gtest/s_tests_1.xml": _gtest_run("S", "Ok").encode(),
            "gtest/s_tests_2.xml": _gtest_run("Sizes/P", "T/0").encode(),
            "gtest/s_tests_3.xml": _gtest_run("Sizes/P", "T/1", failed=True).encode(),
            "gtest/s_tests_4.xml": _gtest_run("CabCanary0", CANARY, failed=True).encode(),
        },
        {
            ("S.Ok", "tests/s_test.cpp", "passed"),
            ("S.Exits", "tests/s_test.cpp", "error"),  # ctest saw exit 0; gtest never finished it
            ("Sizes/P.T/0", "tests/s_test.cpp", "failed"),  # its sibling instance failed in ctest
            ("Sizes/P.T/1", "tests/s_test.cpp", "failed"),
            (f"CabCanary0.{CANARY}", "tests/s_test.cpp", "failed"),
        },
        id="ctest-with-gtest",
    ),
    pytest.param(
        "tsc",
        {"node.jsonl": NODE_TS.encode()},
        {
            ("slugify > trims", "test/slug.hidden.test.ts", "passed"),
            (CANARY, "test/slug.hidden.test.ts", "failed"),
            ("test/crash.test.ts", "test/crash.test.ts", "error"),
        },
        id="tsc-mapped-to-ts",
    ),
]


@pytest.mark.parametrize(("runner", "files", "cases"), REPORTS)
def test_reports_are_read_with_file_names(runner: str, files: dict[str, bytes], cases: set) -> None:
    report = runners.read_report(runner, stdout="fake: 12 passed", stderr="", files=files)
    assert report is not None and report.problems == ()
    assert {(c.name, c.file, c.outcome) for c in report.cases} == cases


@pytest.mark.parametrize(
    ("runner", "files"),
    [
        ("junit", {}),
        ("ctest", {}),
        ("ctest", {"gtest/s_tests.xml": GTEST_LISTING.encode()}),  # gtest ran, ctest never finished
        ("tsc", {}),
    ],
)
def test_a_missing_report_is_no_report(runner: str, files: dict[str, bytes]) -> None:
    assert (
        runners.read_report(
            runner, stdout="100% tests passed, 0 tests failed out of 12", stderr="", files=files
        )
        is None
    )


def test_ctest_without_gtest_reports_is_a_problem() -> None:
    report = runners.read_report("ctest", stdout="", stderr="", files={"ctest.xml": CTEST.encode()})
    assert report is not None and report.cases == ()
    assert "no gtest process wrote its report" in report.problems[0]


def test_junit_report_with_a_doctype_is_refused() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><testsuite/>'
    report = runners.read_report("junit", stdout="", stderr="", files={"junit/TEST-x.xml": evil})
    assert report is not None and "DOCTYPE" in report.problems[0]


def test_collect_reads_report_folders_but_never_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "junit").mkdir()
    (tmp_path / "junit" / "TEST-junit-jupiter.xml").write_text(JUPITER)
    (tmp_path / "junit" / "notes.txt").write_text("ignored")
    report = runners.collect("junit", "", "", tmp_path)
    assert report is not None and len(report.cases) == 5
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "junit" / "TEST-junit-jupiter.xml").unlink()
    os.symlink(elsewhere / "x.xml", tmp_path / "junit" / "TEST-link.xml")
    report = runners.collect("junit", "", "", tmp_path)
    assert report is not None and report.cases == () and "could not be read safely" in report.problems[0]
    other = tmp_path / "other"
    other.mkdir()
    (other / "ctest.xml").write_text(CTEST)
    os.symlink(elsewhere, other / "gtest")
    report = runners.collect("ctest", "", "", other)
    assert report is not None and "could not be read safely" in report.problems[0]


# --- declared tests and the verdict --------------------------------------------------------------

JAVA_HIDDEN = """package com.example.stack;
// @Test void commented() {}
class BoundedStackHiddenTest {
    @Test
    void peekReturnsTheNewest() { String s = "@Test void inString() {"; }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 5})
    void pushOnFullThrows(int capacity) { helper(capacity); }

    private void helper(int c) { new Object() { void x() {} }; }

    @Nested
    class AfterPop {
        @org.junit.jupiter.api.RepeatedTest(value = 3)
        void peekSeesThePrevious() {}
    }
}
"""


def test_java_and_gtest_names_are_found_in_code_not_in_comments_or_strings() -> None:
    assert java_test_names(JAVA_HIDDEN) == [
        "BoundedStackHiddenTest::peekReturnsTheNewest",
        "BoundedStackHiddenTest::pushOnFullThrows",
        "BoundedStackHiddenTest::AfterPop::peekSeesThePrevious",
    ]
    cpp = '// TEST(No, Comment)\nTEST(S, A) {}\nTEST_F(Fx, B) { s = "TEST(No, String)"; }\nTEST_P(P, C) {}\n'
    assert gtest_names(cpp) == ["S.A", "Fx.B", "P.C"]
    assert [gtest_base(n) for n in ("Inst/P.C/0", "T/1.N", "I/T/2.N", "Sizes/P.C/5", "T.N<int>", "S.A")] == [
        "P.C", "T.N", "T.N", "P.C", "T.N", "S.A",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("runner", "path", "test"),
    [
        ("junit", "src/test/java/a/StackTest.java", True),
        ("junit", "src/test/java/a/StackTests.java", True),
        ("junit", "src/test/java/a/TestStack.java", True),
        ("junit", "src/test/java/a/Helper.java", False),
        ("junit", "src/main/java/a/StackTest.java", False),
        ("ctest", "tests/a_test.cpp", True),
        ("ctest", "tests/sub/a.cc", True),
        ("ctest", "test/a.c", True),
        ("ctest", "src/a.cpp", False),
        ("tsc", "test/slug.test.ts", True),
        ("tsc", "src/slug.test.mts", True),
        ("tsc", "test/helpers.ts", False),
        ("tsc", "test/x.test.d.ts", False),
        ("tsc", "node_modules/x/a.test.ts", False),
    ],
)
def test_is_test_file_for_the_compiled_runners(runner: str, path: str, test: bool) -> None:
    assert is_test_file(runner, path) is test


def test_declared_tests_and_the_verdict() -> None:
    java = declared_tests(
        "junit", {"src/test/java/com/example/stack/BoundedStackHiddenTest.java": JAVA_HIDDEN}
    )
    assert [t.label for t in java][1] == (
        "src/test/java/com/example/stack/BoundedStackHiddenTest.java::BoundedStackHiddenTest::pushOnFullThrows"
    )
    report = runners.read_report(
        "junit", stdout="", stderr="", files={"junit/TEST-junit-jupiter.xml": JUPITER.encode()}
    )
    assert report is not None
    verdict = judge("junit", report, java, CANARY)
    assert verdict.canary == "failed" and len(verdict.passed) == 2 and len(verdict.failed) == 1
    cpp = declared_tests(
        "ctest", {"tests/s_test.cpp": "TEST(S, Ok) {}\nTEST(S, Exits) {}\nTEST_P(P, T) {}\n"}
    )
    assert cpp == (
        DeclaredTest("S.Ok", "tests/s_test.cpp"),
        DeclaredTest("S.Exits", "tests/s_test.cpp"),
        DeclaredTest("P.T", "tests/s_test.cpp"),
    )
    cases = (
        CaseResult("S.Ok", "tests/s_test.cpp", "passed"),
        CaseResult("S.Exits", "tests/s_test.cpp", "passed"),
        CaseResult("Sizes/P.T/0", "tests/s_test.cpp", "passed"),
        CaseResult("Sizes/P.T/1", "tests/s_test.cpp", "passed"),
        CaseResult(f"CabCanary0.{CANARY}", "tests/s_test.cpp", "failed"),
    )
    verdict = judge("ctest", RunnerReport(cases=cases), cpp, CANARY)
    assert (verdict.passed, verdict.canary) == (tuple(t.label for t in cpp), "failed")
    ts = declared_tests("tsc", {"test/slug.hidden.test.ts": "test('x', () => {})", "test/helpers.ts": ""})
    assert ts == (DeclaredTest(None, "test/slug.hidden.test.ts"),)


# --- the harness -----------------------------------------------------------------------------------


def _task(runner: str, language: str) -> TaskSpec:
    return TaskSpec.model_validate(
        {
            "category": "runners", "slug": "t", "title": "t", "language": language, "prompt": "p",
            "test_command": SH, "test_runner": runner,
        }
    )  # fmt: skip


def _files(*paths: str, text: str = "x") -> dict[str, Entry]:
    return {p: Entry.of(text.encode()) for p in paths}


@pytest.mark.parametrize(
    ("runner", "language", "harness", "not_harness"),
    [
        (
            "junit",
            "java",
            [
                "src/test/resources/junit-platform.properties",
                "src/main/resources/META-INF/services/org.junit.platform.launcher.LauncherSessionListener",
                "META-INF/services/x",
                "src/main/java/org/junit/jupiter/api/Assertions.java",
                "src/main/java/org/opentest4j/AssertionFailedError.java",
            ],
            ["src/main/java/com/x/Stack.java", "src/main/resources/META-INF/MANIFEST.MF", "pom.txt"],
        ),
        (
            "ctest",
            "cpp",
            [
                "CMakeLists.txt",
                "tests/CMakeLists.txt",
                "cmake/x.cmake",
                "CMakePresets.json",
                "src/gtest/gtest.h",
            ],
            ["src/ringbuf.cpp", "src/ringbuf.h", "README.md"],
        ),
        (
            "tsc",
            "typescript",
            ["tsconfig.json", "tsconfig.build.json", "jsconfig.json", "node_modules/x/index.js", ".npmrc"],
            ["src/slug.ts", "package-lock.json"],
        ),
    ],
)
def test_harness_defaults(runner: str, language: str, harness: list[str], not_harness: list[str]) -> None:
    policy = HarnessPolicy.for_task(_task(runner, language))
    tree = _files(*harness, *not_harness)
    assert [p for p in harness if not policy.is_harness(p, tree)] == []
    assert [p for p in not_harness if policy.is_harness(p, tree)] == []


@pytest.mark.parametrize(
    ("runner", "language", "path", "plain", "hook"),
    [
        (
            "junit",
            "java",
            "src/test/java/a/MineTest.java",
            "class MineTest { @Test void t() {} }",
            "@ExtendWith(SkipAll.class) class MineTest {}",
        ),
        (
            "junit",
            "java",
            "src/test/java/a/MineTest.java",
            "class MineTest {}",
            "class L implements LauncherSessionListener {}",
        ),
        (
            "ctest",
            "cpp",
            "tests/mine_test.cpp",
            "TEST(A, B) {}",
            "int main(int argc, char** argv) { return 0; }",
        ),
        (
            "ctest",
            "cpp",
            "tests/mine_test.cpp",
            "TEST(A, B) {}",
            "::testing::AddGlobalTestEnvironment(new E);",
        ),
        ("tsc", "typescript", "test/mine.test.ts", "test('x', () => {})", None),
    ],
)
def test_agent_test_files_are_left_out_and_hooks_are_tampering(
    runner: str, language: str, path: str, plain: str, hook: str | None
) -> None:
    policy = HarnessPolicy.for_task(_task(runner, language))
    tree, report = plan_tree(policy, {}, _files(path, text=plain), {})
    assert path not in tree and report.excluded == (path,) and report.tampered == ()
    if hook is not None:
        tree, report = plan_tree(policy, {}, _files(path, text=hook), {})
        assert path not in tree and report.tampered == (path,)


def test_shared_package_json_keeps_dependencies_but_resets_type_for_tsc() -> None:
    policy = HarnessPolicy.for_task(_task("tsc", "typescript"))
    pristine = {"package.json": Entry.of(b'{"name": "slug", "scripts": {"test": "x"}}')}
    agent = {
        "package.json": Entry.of(b'{"name": "slug", "scripts": {"test": "x"}, "dependencies": {"a": "1"}}')
    }
    tree, report = plan_tree(policy, pristine, agent, {})
    assert tree["package.json"] is agent["package.json"] and report.tampered == ()
    agent = {"package.json": Entry.of(b'{"name": "slug", "scripts": {"test": "x"}, "type": "module"}')}
    tree, report = plan_tree(policy, pristine, agent, {})
    assert tree["package.json"] is pristine["package.json"] and report.tampered == ("package.json",)
