"""Report parsers: real reports captured in the scorer image (data/README.md), then hostile variants."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from cab_workers.scoring import reports
from cab_workers.scoring.reports import (
    CaseResult,
    RunnerReport,
    parse_go_test_json,
    parse_junit,
    parse_libtest_json,
    parse_node_report,
    parse_pytest_junit,
)

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"


def outcomes(report: RunnerReport) -> dict[str, int]:
    return dict(Counter(c.outcome for c in report.cases))


def by_name(report: RunnerReport) -> dict[str, str]:
    return {c.name: c.outcome for c in report.cases}


def cargo(name: str) -> RunnerReport:
    return parse_libtest_json(
        (DATA / f"cargo/{name}.stdout").read_text(), (DATA / f"cargo/{name}.stderr").read_text()
    )


# --- real reports ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "parse", "want", "problem"),
    [
        ("pytest/semver.shipped.xml", parse_pytest_junit, {"failed": 6, "passed": 6}, None),
        ("pytest/semver.solution.xml", parse_pytest_junit, {"passed": 11, "failed": 1}, None),
        ("pytest/semver.patched_runtest.xml", parse_pytest_junit, {"passed": 12}, None),
        ("go/lru.shipped.jsonl", parse_go_test_json, {"failed": 6, "passed": 5}, None),
        ("go/lru.solution.jsonl", parse_go_test_json, {"failed": 1, "passed": 10}, None),
        ("go/lru.build_fail.jsonl", parse_go_test_json, {}, None),
        ("go/lru.testmain_exit0.jsonl", parse_go_test_json, {}, None),
        # printed "--- PASS" / a printed go -json event: a result for a test that never ran
        ("go/lru.fake_pass_lines.jsonl", parse_go_test_json, {"error": 11}, "finished without starting"),
        ("node/query.shipped.jsonl", parse_node_report, {"failed": 6, "passed": 6}, None),
        ("node/query.solution.jsonl", parse_node_report, {"passed": 11, "failed": 1}, None),
        ("node/query.patched_assert.jsonl", parse_node_report, {"passed": 11, "failed": 1}, None),
        ("node/query.exit0_import.jsonl", parse_node_report, {}, None),
    ],
)
def test_real_reports(sample: str, parse, want: dict[str, int], problem: str | None) -> None:  # noqa: ANN001
    report = parse((DATA / sample).read_bytes())
    assert outcomes(report) == want
    if problem is None:
        assert report.problems == ()
    else:
        assert any(problem in p for p in report.problems), report.problems


@pytest.mark.parametrize(
    ("sample", "want", "problem"),
    [
        ("errors.shipped", {"failed": 8, "passed": 3}, None),
        ("errors.solution", {"failed": 1, "passed": 10}, None),
        ("lifetime.shipped", {}, None),  # does not compile: no suite, no target
        ("errors.exit0_in_call", {"failed": 1, "error": 6, "passed": 2}, "never ended"),
        ("errors.fake_json_lines", {"failed": 1, "error": 10}, "finished without starting"),
    ],
)
def test_real_cargo_reports(sample: str, want: dict[str, int], problem: str | None) -> None:
    report = cargo(sample)
    assert outcomes(report) == want
    if problem is None:
        assert report.problems == ()
    else:
        assert any(problem in p for p in report.problems), report.problems


def test_pytest_names_and_files() -> None:
    report = parse_pytest_junit((DATA / "pytest/semver.solution.xml").read_bytes())
    cases = {(c.file, c.name): c.outcome for c in report.cases}
    assert cases[("tests/test_hidden_versions.py", "test_newest_first")] == "passed"
    assert cases[("tests/test_hidden_versions.py", "test_cab_canary_5eed5eed5eed")] == "failed"


def test_cargo_suites_align_with_their_targets() -> None:
    report = cargo("errors.solution")
    files = {c.name: (c.file, c.group) for c in report.cases}
    assert files["cab_canary_5eed5eed5eed"] == ("tests/cab_canary_5eed5eed5eed.rs", "test")
    assert files["tests::duplicate_key"] == ("tests/hidden_errors.rs", "test")
    assert files["full_file_parses"] == ("tests/parse_ok.rs", "test")


def test_cargo_fake_lines_never_raise_a_result() -> None:
    """Agent code printing libtest ``ok`` lines (and a text summary) only makes its suite worthless."""
    shipped, faked = cargo("errors.shipped"), cargo("errors.fake_json_lines")
    hidden = [c for c in faked.cases if c.file == "tests/hidden_errors.rs"]
    assert hidden and all(c.outcome == "error" for c in hidden)
    assert sum(c.outcome == "passed" for c in faked.cases) <= sum(
        c.outcome == "passed" for c in shipped.cases
    )


def test_node_names_files_and_canary() -> None:
    report = parse_node_report((DATA / "node/query.solution.jsonl").read_bytes())
    files = {c.file for c in report.cases}
    assert files == {"test/query.hidden.test.js", "test/query.test.js"}
    assert by_name(report)["cab_canary_5eed5eed5eed"] == "failed"


# --- JUnit, hostile --------------------------------------------------------------------------

T = 'classname="tests.test_t" file="tests/test_t.py"'
XUNIT1 = f"""<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="9">
<testcase classname="" name="tests.test_broken" file="tests/test_broken.py"><error/></testcase>
<testcase {T} name="test_teardown"><error message="teardown">x</error></testcase>
<testcase {T} name="test_param[1]" />
<testcase {T} name="test_param[2]"><failure message="f">x</failure></testcase>
<testcase classname="tests.test_t.TestK" name="test_m" file="tests/test_t.py" />
<testcase classname="tests.test_t.TestK.TestInner" name="test_n" file="tests/test_t.py" />
<testcase {T} name="test_xf"><skipped type="pytest.xfail" message="" /></testcase>
<testcase {T} name="test_both"><failure message="f" /><error message="e" /></testcase>
</testsuite></testsuites>"""


def test_pytest_junit_qualifies_names_by_class() -> None:
    got = {c.name: c.outcome for c in parse_pytest_junit(XUNIT1).cases}
    assert got == {
        "tests.test_broken": "error",
        "test_teardown": "error",
        "test_param[1]": "passed",
        "test_param[2]": "failed",
        "TestK::test_m": "passed",
        "TestK::TestInner::test_n": "passed",
        "test_xf": "skipped",
        "test_both": "error",
    }


BILLION_LAUGHS = """<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>
<testsuites><testcase name="&lol2;" file="t.py"/></testsuites>"""


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        (BILLION_LAUGHS, "DOCTYPE or ENTITY"),
        ('<?xml version="1.0"?><!doctype x SYSTEM "file:///etc/passwd"><testsuites/>', "DOCTYPE or ENTITY"),
        ("<testsuites><testcase name='a'>", "malformed XML"),
        ("", "malformed XML"),
        ("<html><testcase name='a' file='t.py'/></html>", "root is <html>"),
    ],
)
def test_hostile_junit_is_refused(xml: str, problem: str) -> None:
    report = parse_junit(xml)
    assert report.cases == ()
    assert any(problem in p for p in report.problems), report.problems


def test_junit_duplicates() -> None:
    same = "<testsuites>" + '<testcase name="a" file="t.py" classname="t"/>' * 2 + "</testsuites>"
    assert parse_junit(same) == RunnerReport(cases=(CaseResult("a", "t.py", "passed", "t"),))
    clash = (
        '<testsuites><testcase name="a" file="t.py" classname="t"/>'
        '<testcase name="a" file="t.py" classname="t"><failure/></testcase></testsuites>'
    )
    report = parse_junit(clash)
    assert by_name(report) == {"a": "failed"}  # the worse outcome is kept
    assert report.problems == ("'a' reported twice, passed and failed",)


def test_oversized_report_is_cut_and_flagged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports.cases, "MAX_REPORT_BYTES", 100)
    xml = '<testsuites><testcase name="a" file="t.py"/>' + " " * 200 + "</testsuites>"
    report = parse_junit(xml)
    assert any("over the 100 byte cap" in p for p in report.problems)
    assert any("malformed XML" in p for p in report.problems)


def test_too_many_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports.cases, "MAX_CASES", 3)
    xml = (
        "<testsuites>" + "".join(f'<testcase name="t{i}" file="t.py"/>' for i in range(10)) + "</testsuites>"
    )
    report = parse_junit(xml)
    assert len(report.cases) == 3
    assert report.problems == ("more than 3 test cases; the rest were not read",)


def test_problems_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports.cases, "MAX_PROBLEMS", 2)
    report = parse_go_test_json("\n".join(json.dumps({"Action": 7, "n": i}) for i in range(5)) + "\nx\ny\n")
    assert report.problems == (
        "go test event without a valid Action/Package/Test",
        "2 line(s) that are not well-formed JSON events",
    )
    report = parse_go_test_json(
        "\n".join(json.dumps({"Action": "pass", "Package": "p", "Test": f"T{i}"}) for i in range(5))
    )
    assert len(report.problems) == 3 and report.problems[-1] == "... and 4 more problems"


# --- go test -json, hostile ------------------------------------------------------------------


def go(*events: dict | str) -> str:
    return "\n".join(e if isinstance(e, str) else json.dumps(e) for e in events) + "\n"


START = {"Action": "start", "Package": "p"}
END = {"Action": "fail", "Package": "p"}


def run(test: str) -> dict:
    return {"Action": "run", "Package": "p", "Test": test}


def done(test: str, action: str = "pass") -> dict:
    return {"Action": action, "Package": "p", "Test": test}


@pytest.mark.parametrize(
    ("stream", "want", "problem"),
    [
        (
            go(START, run("TestA"), done("TestA"), run("TestA/sub"), done("TestA/sub", "fail"), END),
            {"TestA": "passed", "TestA/sub": "failed"},
            None,
        ),
        (go(START, run("TestA"), done("TestA", "skip"), END), {"TestA": "skipped"}, None),
        # a fake pass for a test that never ran: a problem, and the package proves nothing
        (
            go(START, run("TestA"), done("TestA"), done("TestB"), END),
            {"TestA": "error"},
            "finished without starting",
        ),
        # the same test finishing twice
        (
            go(START, run("TestA"), done("TestA", "fail"), done("TestA"), END),
            {"TestA": "error"},
            "finished without",
        ),
        # the binary died inside a test; go never ended the package
        (
            go(START, run("TestA"), done("TestA"), run("TestB")),
            {"TestA": "error", "TestB": "error"},
            "never finished",
        ),
        (go(START, run("TestA"), done("TestA")), {"TestA": "error"}, "never ended"),
        # a text line in go's own JSON stream (a fake summary, or -json not applied)
        (
            go(START, run("TestA"), done("TestA"), END, "ok  \tp\t0.01s"),
            {"TestA": "passed"},
            "not well-formed JSON",
        ),
        (go(START, '{"Action": "pass", "Package": "p", "Test": "TestA"', END), {}, "not well-formed JSON"),
        (go(START, [1, 2], END), {}, "not well-formed JSON"),
    ],
)
def test_go_stream(stream: str, want: dict[str, str], problem: str | None) -> None:
    report = parse_go_test_json(stream)
    assert by_name(report) == want
    if problem is None:
        assert report.problems == ()
    else:
        assert any(problem in p for p in report.problems), report.problems


# --- libtest JSON, hostile -------------------------------------------------------------------

RUNNING_A = "     Running tests/a.rs (/tmp/target/debug/deps/a-0123)\n"
RUNNING_B = "     Running unittests src/lib.rs (/tmp/target/debug/deps/b-0123)\n"
DOCTESTS = "   Doc-tests crate\n"


def suite(
    *tests: tuple[str, str], count: int | None = None, end: bool = True, summary: dict | None = None
) -> list[str]:
    lines = [
        json.dumps(
            {"type": "suite", "event": "started", "test_count": len(tests) if count is None else count}
        )
    ]
    for name, event in tests:
        lines.append(json.dumps({"type": "test", "event": "started", "name": name}))
        lines.append(json.dumps({"type": "test", "name": name, "event": event}))
    if end:
        tally = {"passed": 0, "failed": 0, "ignored": 0}
        for _, event in tests:
            tally[{"ok": "passed", "failed": "failed", "ignored": "ignored"}[event]] += 1
        lines.append(json.dumps({"type": "suite", "event": "ok", **(summary or tally)}))
    return lines


def libtest(*suites: list[str]) -> str:
    return "\n".join(line for s in suites for line in s) + "\n"


@pytest.mark.parametrize(
    ("stdout", "stderr", "want", "problem"),
    [
        (
            libtest(suite(("t::a", "ok"), ("b", "ignored"))),
            RUNNING_A,
            {"t::a": "passed", "b": "skipped"},
            None,
        ),
        # text that escaped libtest's capture, a printed summary included, is skipped
        (
            "noise\ntest result: ok. 10 passed; 0 failed\n" + libtest(suite(("a", "failed"))),
            RUNNING_A,
            {"a": "failed"},
            None,
        ),
        # a printed ok line for a test of the suite: that suite's results all become errors
        (
            libtest(suite(("a", "failed"), ("b", "ok"))).replace(
                '"event": "failed"}', '"event": "failed"}\n{"type": "test", "name": "a", "event": "ok"}', 1
            ),
            RUNNING_A,
            {"a": "error", "b": "error"},
            "finished without starting",
        ),
        # the binary exited inside a test: the suite never ended
        (
            libtest(suite(("a", "ok"), count=2, end=False))
            + '{"type": "test", "event": "started", "name": "b"}\n',
            RUNNING_A,
            {"a": "error", "b": "error"},
            "never ended",
        ),
        (
            libtest(suite(("a", "ok"), count=3)),
            RUNNING_A,
            {"a": "error"},
            "started with 3 tests and reported 1",
        ),
        (
            libtest(suite(("a", "ok"), summary={"passed": 5, "failed": 0, "ignored": 0})),
            RUNNING_A,
            {"a": "error"},
            "disagrees with its results",
        ),
        # suites and targets must pair up one to one
        (
            libtest(suite(("a", "ok"))),
            RUNNING_A + RUNNING_B,
            {"a": "passed"},
            "1 test suites on stdout but cargo ran 2",
        ),
        (
            libtest(suite(("a", "ok")), suite(("fake", "ok"))),
            RUNNING_A,
            {"a": "passed", "fake": "passed"},
            "2 test suites on stdout but cargo ran 1",
        ),
        ('{ "type": "test", "name": "a", "event": "ok" }\n', "", {}, "outside any suite"),
        ('{ "type": "suite", "event": "ok" }\n', "", {}, "never started"),
        (
            libtest(suite(("a", "ok"))) + '{"type": "test", "name": \n',
            RUNNING_A,
            {"a": "passed"},
            "not well-formed JSON",
        ),
    ],
)
def test_libtest_stream(stdout: str, stderr: str, want: dict[str, str], problem: str | None) -> None:
    report = parse_libtest_json(stdout, stderr)
    assert by_name(report) == want
    if problem is None:
        assert report.problems == ()
    else:
        assert any(problem in p for p in report.problems), report.problems


def test_libtest_files_unittests_and_doctests() -> None:
    stdout = libtest(suite(("a", "ok")), suite(("unit", "ok")), suite(("src/lib.rs - f (line 3)", "ok")))
    report = parse_libtest_json(stdout, "\x1b[1m" + RUNNING_A + RUNNING_B + DOCTESTS)
    assert [(c.name, c.file, c.group) for c in report.cases] == [
        ("a", "tests/a.rs", "test"),
        ("unit", "src/lib.rs", "unittests"),
        ("src/lib.rs - f (line 3)", None, "doctests crate"),
    ]
    assert report.problems == ()


# --- cab's node reporter, hostile ------------------------------------------------------------


def node(*records: dict | str) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n"


def case(name: str, outcome: str = "passed", file: str = "test/a.test.js", kind: str = "test") -> dict:
    return {"type": "case", "kind": kind, "name": name, "file": file, "outcome": outcome}


END_NODE = {"type": "end"}


@pytest.mark.parametrize(
    ("data", "want", "problem"),
    [
        (
            node(case("s > a"), case("s", kind="suite"), END_NODE),
            [("s > a", "passed"), ("s", "passed")],
            None,
        ),
        # node allows two tests of one name in a file: both count
        (node(case("a"), case("a", "failed"), END_NODE), [("a", "passed"), ("a", "failed")], None),
        # a file that failed because a test failed adds nothing; one that crashed is an error case
        (
            node(
                case("a", "failed"),
                {"type": "file", "file": "test/a.test.js", "outcome": "failed", "failure": "subtestsFailed"},
                END_NODE,
            ),
            [("a", "failed")],
            None,
        ),
        (
            node(
                {"type": "file", "file": "test/a.test.js", "outcome": "failed", "failure": "testCodeFailure"},
                END_NODE,
            ),
            [("test/a.test.js", "error")],
            None,
        ),
        (
            node({"type": "file", "file": "test/a.test.js", "outcome": "passed", "failure": None}, END_NODE),
            [],
            None,
        ),
        (node(case("a")), [("a", "passed")], "no end record"),
        (node(case("a"), END_NODE, case("b")), [("a", "passed")], "after the end record"),
        (node(case("a", "weird"), END_NODE), [], "without a valid name/file/outcome"),
        (node("✔ a (1ms)", END_NODE), [], "not well-formed JSON"),
    ],
)
def test_node_report(data: str, want: list[tuple[str, str]], problem: str | None) -> None:
    report = parse_node_report(data)
    assert [(c.name, c.outcome) for c in report.cases] == want
    if problem is None:
        assert report.problems == ()
    else:
        assert any(problem in p for p in report.problems), report.problems
