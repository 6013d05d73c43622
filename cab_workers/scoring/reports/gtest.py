"""GoogleTest's own XML reports, checked against CTest's JUnit report (``ctest --output-junit``).

ctest decides a test's outcome from its process: a gtest test whose code calls ``exit(0)`` half-way
is "passed" to ctest. So the cases are gtest's: with ``GTEST_OUTPUT=xml:<dir>/`` every gtest
process writes ``<binary>.xml``, ``<binary>_1.xml``, ... with the source file of each test, once
``gtest_discover_tests`` has listed the tests (a listing: no outcomes) and once per test run, at the
end of ``RUN_ALL_TESTS``. A listed test with no completed run is an ``error`` (its process ended
early); a run that gtest passed but ctest did not (a crash at exit, a timeout) takes ctest's
outcome. ctest names value- and type-parameterized tests by their values (``Inst/S.T/5``,
``S.T<int>``), gtest by index (``Inst/S.T/0``, ``S/0.T``), so the two are matched on
``gtest_base`` (``S.T``), which makes a failure of one instance fail every instance. Files are
made relative to the work dir. Without the ctest report there is no report (ctest never finished).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

from cab_workers.scoring.source_tests import gtest_base

from .cases import WORSE, CaseResult, Outcome, ReportBuilder, RunnerReport
from .junit import parse_junit, xml_root

WORK_PREFIX = "/work/"
"""gtest records absolute source paths; those under the work dir are made relative."""


@dataclass(frozen=True)
class GtestRun:
    """One test as one gtest process reported it."""

    outcome: Outcome
    file: str | None


def _gtest_outcome(case: ET.Element) -> Outcome | None:
    """None for a listing entry (no ``status``) ; else the run's outcome."""
    status, result = case.get("status"), case.get("result")
    if status is None:
        return None
    if any(child.tag in ("failure", "error") for child in case):
        return "failed"
    if status != "run" or result == "skipped":
        return "skipped"
    return "passed" if result in (None, "completed") else "error"


def _work_relative(path: str | None) -> str | None:
    if path is None:
        return None
    return path[len(WORK_PREFIX) :] if path.startswith(WORK_PREFIX) else path


def gtest_runs(
    files: Mapping[str, bytes | str], builder: ReportBuilder
) -> tuple[dict[str, list[GtestRun]], dict[str, str | None]]:
    """Every test run the gtest reports record, by full gtest name (``Inst/Suite.Name/0``), and
    every test a listing names (with its file)."""
    runs: dict[str, list[GtestRun]] = {}
    listed: dict[str, str | None] = {}
    for fname in sorted(files):
        root = xml_root(files[fname], builder, fname)
        if root is None:
            continue
        for suite in root.iter("testsuite"):
            for case in suite.iter("testcase"):
                full = f"{case.get('classname') or suite.get('name', '')}.{case.get('name', '')}"
                file = _work_relative(case.get("file"))
                outcome = _gtest_outcome(case)
                if outcome is None:
                    listed.setdefault(full, file)
                else:
                    runs.setdefault(full, []).append(GtestRun(outcome, file))
    return runs, listed


def parse_ctest_report(ctest_xml: bytes | str, gtest_files: Mapping[str, bytes | str]) -> RunnerReport:
    """The gtest tests, each checked against ctest (module docstring)."""
    builder = ReportBuilder(dedupe=False)
    ctest = parse_junit(ctest_xml)
    for problem in ctest.problems:
        builder.problem(problem)
    runs, listed = gtest_runs(gtest_files, builder)
    if ctest.cases and not runs and not listed:
        builder.problem("ctest ran tests, but no gtest process wrote its report (GTEST_OUTPUT)")
    not_passed: dict[str, Outcome] = {}
    for case in ctest.cases:
        base = gtest_base(case.name)
        if case.outcome != "passed" and WORSE[case.outcome] > WORSE[not_passed.get(base, "passed")]:
            not_passed[base] = case.outcome
    for name in sorted(set(runs) | set(listed)):
        mine = runs.get(name, [])
        outcome: Outcome = max((r.outcome for r in mine), key=lambda o: WORSE[o]) if mine else "error"
        ctest_outcome = not_passed.get(gtest_base(name), "passed")
        if WORSE[ctest_outcome] > WORSE[outcome]:
            outcome = ctest_outcome
        file = next((r.file for r in mine if r.file), listed.get(name))
        builder.add(CaseResult(name=name, file=file, outcome=outcome, group="gtest"))
    return builder.build()
