"""Pass-rate axis: did the hidden tests' own exit code say the work is correct?

The verdict comes from the exit code alone. Test counts parsed from the output are informational
(``partial_score``): printed text is under the agent's control (it can write a test that prints
``test result: ok``), an exit code of the scorer's own test command is not. Consequently:

* exit code non-zero, timed out, or never ran -> ``pass = 0`` whatever the output claims;
* exit code 0 -> ``pass = 1`` even if the parsed counts show failures (a test command that swallows
  failures is a task bug, visible as ``partial_score < 1`` next to ``pass = 1``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from cab_core.schema import PassRateAxis

Counts = tuple[int, int]
"""(tests passed, tests total)."""

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_CARGO = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed", re.MULTILINE)
_PYTEST_LINE = re.compile(r"^[=\s]*(?P<body>(?:no tests ran|\d+ \w+).*?) in [\d.]+ ?s(?:econds)?\b")
_PYTEST_PAIR = re.compile(r"(\d+) (passed|failed|errors?|xpassed|xfailed|skipped|deselected|warnings?)")
_GO = re.compile(r"^\s*--- (PASS|FAIL):", re.MULTILINE)
_NODE = re.compile(r"^(?:#|ℹ) (pass|fail|cancelled) (\d+)\s*$", re.MULTILINE)


def _cargo(text: str) -> Counts | None:
    """Sum ``test result:`` lines over every test binary (unit, integration, doc tests)."""
    rows = _CARGO.findall(text)
    if not rows:
        return None
    passed = sum(int(p) for p, _ in rows)
    failed = sum(int(f) for _, f in rows)
    return passed, passed + failed


def _pytest(text: str) -> Counts | None:
    """The last summary line: ``2 passed, 1 failed, 1 error in 0.1s``; errors count as failures."""
    found: Counts | None = None
    for line in text.splitlines():
        m = _PYTEST_LINE.match(line)
        if not m:
            continue
        body = m.group("body")
        counts: dict[str, int] = {}
        for n, kind in _PYTEST_PAIR.findall(body):
            counts["error" if kind.startswith("error") else kind] = int(n)
        if not counts and not body.startswith("no tests ran"):
            continue
        passed = counts.get("passed", 0)
        found = passed, passed + counts.get("failed", 0) + counts.get("error", 0)
    return found


def _go(text: str) -> Counts | None:
    """``go test -v``: one ``--- PASS:`` / ``--- FAIL:`` line per test and subtest."""
    verdicts = _GO.findall(text)
    if not verdicts:
        return None
    passed = verdicts.count("PASS")
    return passed, len(verdicts)


def _node(text: str) -> Counts | None:
    """``node --test``: TAP ``# pass N`` / ``# fail N`` or spec ``ℹ pass N``; last value wins."""
    counts: dict[str, int] = {}
    for kind, n in _NODE.findall(text):
        counts[kind] = int(n)
    if "pass" not in counts and "fail" not in counts:
        return None
    passed = counts.get("pass", 0)
    return passed, passed + counts.get("fail", 0) + counts.get("cancelled", 0)


PARSERS: dict[str, Callable[[str], Counts | None]] = {
    "cargo": _cargo,
    "pytest": _pytest,
    "go": _go,
    "node": _node,
}
"""Output parser per ``TaskSpec.test_runner``; ``script`` has none (counts stay unknown)."""


def parse_test_counts(runner: str, stdout: str, stderr: str = "") -> Counts | None:
    """(passed, total) from a test command's output, or None when the runner's format is absent.

    stdout is parsed first; stderr only when stdout holds no summary. ANSI colours are stripped.
    """
    parser = PARSERS.get(runner)
    if parser is None:
        return None
    for text in (stdout, stderr):
        counts = parser(_ANSI.sub("", text))
        if counts is not None:
            return counts
    return None


def score_pass_rate(
    *,
    exit_code: int | None,
    timed_out: bool,
    stdout: str,
    stderr: str,
    runner: str,
    tail_chars: int = 4000,
) -> PassRateAxis:
    """Grade the hidden-test run: pass iff the test command exited 0 within its budget.

    ``partial_score`` is ``tests_passed / tests_total`` when the runner's output reports counts and
    the total is non-zero, else None. It never changes ``pass``.
    """
    passed = 1 if exit_code == 0 and not timed_out else 0
    counts = parse_test_counts(runner, stdout, stderr)
    tests_passed, tests_total = counts if counts is not None else (None, None)
    partial = tests_passed / tests_total if tests_passed is not None and tests_total else None
    return PassRateAxis(
        passed=passed,
        exit_code=exit_code,
        timed_out=timed_out,
        stdout_tail=stdout[-tail_chars:] if tail_chars > 0 else "",
        stderr_tail=stderr[-tail_chars:] if tail_chars > 0 else "",
        partial_score=partial,
        tests_passed=tests_passed,
        tests_total=tests_total,
    )
