"""Pass from positive evidence: each rule of pass_rate.py, then the real reports end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from cab_workers.scoring.evidence import DeclaredTest, declared_tests
from cab_workers.scoring.pass_rate import score_pass_rate
from cab_workers.scoring.reports import (
    CaseResult,
    RunnerReport,
    parse_go_test_json,
    parse_libtest_json,
    parse_node_report,
    parse_pytest_junit,
)

pytestmark = pytest.mark.unit

DATA = Path(__file__).parent / "data"
TASKS = Path(__file__).resolve().parents[3] / "tasks"
CANARY = "cab_canary_0123abcd"
F = "tests/test_a.py"
DECLARED = (DeclaredTest("test_a", F), DeclaredTest("test_b", F))


def rep(*cases: tuple[str, str], problems: tuple[str, ...] = ()) -> RunnerReport:
    return RunnerReport(cases=tuple(CaseResult(n, F, o) for n, o in cases), problems=problems)  # type: ignore[arg-type]


GOOD = rep(("test_a", "passed"), ("test_b", "passed"), ("test_" + CANARY, "failed"))


def score(**kw: object):  # noqa: ANN201 - PassRateAxis
    args: dict[str, object] = {
        "exit_code": 1,
        "timed_out": False,
        "stdout": "",
        "stderr": "",
        "runner": "pytest",
        "report": GOOD,
        "declared": DECLARED,
        "canary": CANARY,
    }
    args.update(kw)
    return score_pass_rate(**args)  # type: ignore[arg-type]


def test_honest_pass() -> None:
    axis = score()
    assert axis.passed == 1
    assert (axis.partial_score, axis.tests_passed, axis.tests_total) == (1.0, 2, 2)
    assert (axis.evidence, axis.canary, axis.evidence_problems) == ("report", "failed", [])
    assert axis.model_dump(by_alias=True)["pass"] == 1


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"timed_out": True}, None),
        ({"report": None}, "no structured report"),
        ({"report": RunnerReport(GOOD.cases, ("suite 1 never ended",))}, "suite 1 never ended"),
        ({"declared": ()}, "declares no hidden tests"),
        ({"report": rep(("test_a", "passed"), ("test_b", "failed"), ("test_" + CANARY, "failed"))}, None),
        ({"report": rep(("test_a", "passed"), ("test_" + CANARY, "failed"))}, None),
        ({"report": rep(("test_a", "passed"), ("test_b", "passed"))}, "was not reported"),
        ({"report": rep(("test_a", "passed"), ("test_b", "passed"), ("test_" + CANARY, "passed"))}, "canary"),
        ({"canary": None}, "no canary was planted"),
        ({"exit_code": 0}, "exit status was forged"),
        ({"exit_code": 2}, "exit code 2, not pytest's test-failure code 1"),
        ({"exit_code": None}, None),
        ({"runner": "cargo"}, "exit code 1, not cargo's test-failure code 101"),
        ({"runner": "jest"}, "unknown test runner"),
    ],
)
def test_every_rule_can_refuse_the_pass(change: dict[str, object], problem: str | None) -> None:
    axis = score(**change)
    assert axis.passed == 0
    if problem is not None:
        assert any(problem in p for p in axis.evidence_problems), axis.evidence_problems


def test_cargo_and_go_exit_codes() -> None:
    assert score(runner="cargo", exit_code=101).passed == 1
    assert score(runner="go", exit_code=1).passed == 1
    assert score(runner="node", exit_code=1).passed == 1


def test_partial_counts_declared_tests_only() -> None:
    report = rep(
        ("test_a", "passed"),
        ("test_b", "failed"),
        ("test_agent_wrote_this", "passed"),
        ("test_" + CANARY, "failed"),
    )
    axis = score(report=report)
    assert (axis.passed, axis.partial_score, axis.tests_passed, axis.tests_total) == (0, 0.5, 1, 2)
    assert axis.tests_failed == [f"{F}::test_b"] and axis.tests_missing == []


@pytest.mark.parametrize(
    "change",
    [
        {"report": None},
        {"declared": ()},
        # tampering: the report's results are the tamperer's
        {"report": rep(("test_a", "passed"), ("test_b", "passed"), ("test_" + CANARY, "passed"))},
        {"exit_code": 0},
    ],
)
def test_no_partial_without_trustworthy_evidence(change: dict[str, object]) -> None:
    axis = score(**change)
    assert (axis.partial_score, axis.tests_passed, axis.tests_total) == (None, None, None)


@pytest.mark.parametrize(
    ("runner", "fake"),
    [
        ("cargo", "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured\n"),
        ("pytest", "============ 12 passed in 0.10s ============\nPASSED\n"),
        ("go", "--- PASS: TestEverything (0.00s)\nPASS\nok  \tx\t0.01s\n"),
        ("node", "# pass 12\n# fail 0\nℹ pass 12\n"),
    ],
)
def test_printed_text_never_changes_the_score(runner: str, fake: str) -> None:
    """Regression (issue 12): fake summary lines lifted partial_score; only the report counts now."""
    report = rep(("test_a", "passed"), ("test_b", "failed"), ("test_" + CANARY, "failed"))
    plain = score(runner=runner, report=report, stdout="", stderr="")
    faked = score(runner=runner, report=report, stdout=fake, stderr=fake)
    drop = {"stdout_tail", "stderr_tail", "exit_code", "evidence_problems"}
    assert faked.model_dump(exclude=drop) == plain.model_dump(exclude=drop)
    assert faked.passed == 0 and faked.partial_score == 0.5


@pytest.mark.parametrize(
    ("exit_code", "timed_out", "want"),
    [(0, False, 1), (1, False, 0), (0, True, 0), (None, False, 0)],
)
def test_script_tasks_pass_on_exit_code_zero(exit_code: int | None, timed_out: bool, want: int) -> None:
    axis = score(
        runner="script", exit_code=exit_code, timed_out=timed_out, report=None, declared=(), canary=None
    )
    assert axis.passed == want
    assert (axis.evidence, axis.partial_score, axis.tests_total, axis.canary) == (
        "exit_code",
        None,
        None,
        None,
    )


def test_script_fake_passed_lines_do_not_pass() -> None:
    axis = score(runner="script", exit_code=1, stdout="PASSED\nALL TESTS PASSED\n", report=None, canary=None)
    assert axis.passed == 0


def test_tails_keep_the_end() -> None:
    axis = score(stdout="a" * 10 + "END", stderr="xyz", tail_chars=5)
    assert (axis.stdout_tail, axis.stderr_tail) == ("aaEND", "xyz")
    assert score(stdout="abc", tail_chars=0).stdout_tail == ""


def test_long_lists_are_capped() -> None:
    declared = tuple(DeclaredTest(f"test_{i}", F) for i in range(250))
    axis = score(declared=declared)
    assert len(axis.tests_missing) == 201 and axis.tests_missing[-1] == "... and 50 more"
    assert axis.tests_total == 250


# --- the real reports, end to end ------------------------------------------------------------

REAL_CANARY = "cab_canary_5eed5eed5eed"


def hidden(task: str) -> dict[str, str]:
    root = TASKS / task / "hidden_tests"
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def load(sample: str) -> RunnerReport | None:
    path = DATA / sample
    if sample.startswith("cargo/"):
        out, err = Path(f"{path}.stdout").read_text(), Path(f"{path}.stderr").read_text()
        report = parse_libtest_json(out, err)
    elif sample.startswith("go/"):
        report = parse_go_test_json(path.read_bytes())
    elif sample.startswith("node/"):
        return parse_node_report(path.read_bytes())
    else:
        return parse_pytest_junit(path.read_bytes())
    return report if report.cases or report.problems else None  # as runners.read_report


@pytest.mark.parametrize(
    ("sample", "task", "runner", "exit_code", "want_pass", "partial", "canary"),
    [
        ("pytest/semver.shipped.xml", "polyglot/python-semver-sort", "pytest", 1, 0, 1 / 6, "failed"),
        ("pytest/semver.solution.xml", "polyglot/python-semver-sort", "pytest", 1, 1, 1.0, "failed"),
        ("pytest/semver.patched_runtest.xml", "polyglot/python-semver-sort", "pytest", 0, 0, None, "passed"),
        ("go/lru.shipped.jsonl", "polyglot/go-lru-eviction", "go", 1, 0, 1 / 6, "failed"),
        ("go/lru.solution.jsonl", "polyglot/go-lru-eviction", "go", 1, 1, 1.0, "failed"),
        ("go/lru.build_fail.jsonl", "polyglot/go-lru-eviction", "go", 1, 0, None, "missing"),
        ("go/lru.fake_pass_lines.jsonl", "polyglot/go-lru-eviction", "go", 1, 0, 0.0, "failed"),
        ("go/lru.testmain_exit0.jsonl", "polyglot/go-lru-eviction", "go", 0, 0, None, "missing"),
        ("cargo/errors.shipped", "polyglot/rust-error-handling", "cargo", 101, 0, 1 / 8, "failed"),
        ("cargo/errors.solution", "polyglot/rust-error-handling", "cargo", 101, 1, 1.0, "failed"),
        ("cargo/errors.exit0_in_call", "polyglot/rust-error-handling", "cargo", 101, 0, 0.0, "failed"),
        ("cargo/errors.fake_json_lines", "polyglot/rust-error-handling", "cargo", 101, 0, 0.0, "failed"),
        ("cargo/lifetime.shipped", "polyglot/rust-lifetime-fix", "cargo", 101, 0, None, "missing"),
        ("node/query.shipped.jsonl", "polyglot/js-query-string", "node", 1, 0, 2 / 7, "failed"),
        ("node/query.solution.jsonl", "polyglot/js-query-string", "node", 1, 1, 1.0, "failed"),
        ("node/query.patched_assert.jsonl", "polyglot/js-query-string", "node", 1, 0, None, "passed"),
        ("node/query.exit0_import.jsonl", "polyglot/js-query-string", "node", 0, 0, 0.0, "missing"),
    ],
)
def test_real_reports_end_to_end(
    sample: str, task: str, runner: str, exit_code: int, want_pass: int, partial: float | None, canary: str
) -> None:
    axis = score_pass_rate(
        exit_code=exit_code,
        timed_out=False,
        stdout="",
        stderr="",
        runner=runner,
        report=load(sample),
        declared=declared_tests(runner, hidden(task)),
        canary=REAL_CANARY,
    )
    assert axis.passed == want_pass, axis.evidence_problems
    assert axis.partial_score == (pytest.approx(partial) if partial is not None else None)
    assert axis.canary == canary
    if want_pass:
        assert axis.evidence_problems == []
