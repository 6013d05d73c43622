"""Pass-rate axis: does the runner's own structured report prove that the hidden tests passed?

An exit code alone proves nothing: code under test can ``os._exit(0)`` at import, and a tool can be
told to collect nothing. Printed text proves nothing either: the agent's code can print
``test result: ok. 10 passed``. So a pass needs **positive evidence**, read from the structured
report the runner wrote to cab's report folder (``cab_workers.scoring.reports``) and matched against
the tests the task declares (``cab_workers.scoring.evidence``). For every runner but ``script``
(pytest, go, cargo, node, junit, ctest, tsc), ``pass = 1`` iff all of:

* the run finished within its budget;
* there is a report and it has no problems (well-formed, complete, consistent);
* the task declares at least one hidden test, and every declared test ran and all its cases passed;
* the **canary** (a test cab planted, named with a random nonce, that must fail) was reported and
  failed. A generic patch of the test framework or its assertions makes it pass or vanish;
* the exit code is the runner's "some test failed" code (``TEST_FAILURE_EXIT``: pytest, go, node,
  junit and tsc 1, cargo 101, ctest 8), as the failing canary requires. Exit 0 next to a failed
  canary means the exit status was forged.

``partial_score`` is declared tests passed / declared total (``tests_passed`` / ``tests_total``),
from the report only; None when there is no report, nothing is declared, or the run shows tampering
(the canary passed, or exit 0 next to a failed canary), since then the report's results are the
tamperer's. Agent-printed text never changes any of these numbers (results that do not follow the
runner's own event sequence are problems, not results); stdout and stderr are kept as tails for
people to read.

``script`` tasks (``python3 hidden_check.py``) have no report: their pass is the exit code 0 within
the budget (``evidence = "exit_code"``), and they rely on the harness reset and isolated interpreter.

**Documented limit.** Code under test runs inside the test process. It can read the hidden tests
(and the canary's source) and then forge: patch the framework selectively so that only the declared
tests pass and the canary still fails, or write a consistent fake report into the report folder it
can also write. The canary catches generic patches (every test passes, assertions that never throw,
a framework that reports nothing); targeted forgery is measured by the exploit ledger, not hidden.
"""

from __future__ import annotations

from collections.abc import Sequence

from cab_core.schema import PassRateAxis

from .evidence import TEST_FAILURE_EXIT, DeclaredTest, Verdict, judge
from .reports import RunnerReport

MAX_LISTED = 200
"""Longest list of failed / missing tests or problems kept in the record (the rest is counted)."""


def _capped(items: Sequence[str]) -> list[str]:
    if len(items) <= MAX_LISTED:
        return list(items)
    return [*items[:MAX_LISTED], f"... and {len(items) - MAX_LISTED} more"]


def score_pass_rate(
    *,
    exit_code: int | None,
    timed_out: bool,
    stdout: str,
    stderr: str,
    runner: str,
    report: RunnerReport | None,
    declared: Sequence[DeclaredTest],
    canary: str | None,
    tail_chars: int = 4000,
) -> PassRateAxis:
    """Grade the hidden-test run from its structured report (module docstring for the rules)."""
    tails = {
        "stdout_tail": stdout[-tail_chars:] if tail_chars > 0 else "",
        "stderr_tail": stderr[-tail_chars:] if tail_chars > 0 else "",
    }
    if runner == "script":
        return PassRateAxis(
            passed=1 if exit_code == 0 and not timed_out else 0,
            exit_code=exit_code,
            timed_out=timed_out,
            evidence="exit_code",
            **tails,
        )
    verdict = judge(runner, report if report is not None else RunnerReport(), declared, canary)
    expected_exit = TEST_FAILURE_EXIT.get(runner)
    forged_exit = exit_code == 0 and verdict.canary == "failed"
    problems = _problems(runner, report, verdict, canary, exit_code, timed_out)
    tampered = verdict.canary == "passed" or forged_exit
    passed = (
        not timed_out
        and report is not None
        and not problems
        and bool(declared)
        and not verdict.failed
        and not verdict.missing
        and bool(verdict.passed)
        and verdict.canary == "failed"
        and exit_code == expected_exit
    )
    total = verdict.total if report is not None and declared and not tampered else None
    return PassRateAxis(
        passed=1 if passed else 0,
        exit_code=exit_code,
        timed_out=timed_out,
        partial_score=len(verdict.passed) / total if total else None,
        tests_passed=len(verdict.passed) if total is not None else None,
        tests_total=total,
        evidence="report",
        tests_failed=_capped(verdict.failed),
        tests_missing=_capped(verdict.missing),
        canary=verdict.canary,
        evidence_problems=_capped(problems),
        **tails,
    )


def _problems(
    runner: str,
    report: RunnerReport | None,
    verdict: Verdict,
    canary: str | None,
    exit_code: int | None,
    timed_out: bool,
) -> list[str]:
    """Why the run's evidence cannot prove a pass: the report's problems, the canary's, the exit's."""
    problems = ["the runner wrote no structured report"] if report is None else []
    problems.extend(verdict.problems)
    if canary is None:
        problems.append("no canary was planted, so a patched test framework could not be detected")
    expected_exit = TEST_FAILURE_EXIT.get(runner)
    if expected_exit is None:
        problems.append(f"unknown test runner {runner!r}")
    elif exit_code == 0 and verdict.canary == "failed":
        problems.append("exit code 0 although the canary failed: the exit status was forged")
    elif exit_code is not None and exit_code != expected_exit and not timed_out:
        problems.append(f"exit code {exit_code}, not {runner}'s test-failure code {expected_exit}")
    return problems
