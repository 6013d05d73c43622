"""Structured test reports, parsed into one shape: which test ran, from which file, with what outcome.

The scorer container's runner writes these (see ``cab_workers.grading.runners``), next to the code
under test, so every parser treats its input as hostile: sizes are capped, XML with a DOCTYPE or
entity declaration is refused, nothing is resolved or fetched, and any sign that the report is
incomplete or inconsistent is kept in ``RunnerReport.problems`` instead of being smoothed over::

    cases.py     CaseResult, RunnerReport, and what the parsers share (the caps, the builder)
    junit.py     parse_junit          JUnit XML (any producer)
                 parse_pytest_junit   pytest --junitxml, junit_family=xunit1: names qualified as
                                      in node ids
    gotest.py    parse_go_test_json   go test -json (GOFLAGS=-json) event stream, from go's stdout
    libtest.py   parse_libtest_json   cargo test -- --format json: suites on stdout, aligned with
                                      the "Running <file>" / "Doc-tests <crate>" lines cargo prints
                                      on stderr
                 parse_junit_platform the JUnit Platform console launcher's TEST-*.xml, with
                                      names as ``Outer::Inner::method[1]`` in ``pkg/Outer.java``
    gtest.py     parse_ctest_report   ctest --output-junit, each pass confirmed by gtest's own XML
                                      reports (GTEST_OUTPUT), which give the source files
    node.py      parse_node_report    the JSON lines of cab's own node --test reporter
                                      (cab_reporter.mjs)
                 parse_tsc_report     the same over tests compiled by tsc into /tmp/cab-ts,
                                      files mapped back to their .ts sources

Problems are findings such as: malformed XML or JSON, a suite that started with N tests and ended
early or never, a result for a test that never started, the same test reported twice with different
outcomes, a summary that disagrees with the results. Any problem makes the report untrustworthy for a
pass (``cab_workers.scoring.pass_rate``). The caps (``MAX_*``) are read from ``cases`` at parse time.
"""

from __future__ import annotations

from .cases import MAX_CASES, MAX_PROBLEMS, MAX_REPORT_BYTES, CaseResult, Outcome, RunnerReport
from .gotest import parse_go_test_json
from .gtest import parse_ctest_report
from .junit import parse_junit, parse_junit_platform, parse_pytest_junit
from .libtest import parse_libtest_json
from .node import parse_node_report, parse_tsc_report

__all__ = [
    "MAX_CASES",
    "MAX_PROBLEMS",
    "MAX_REPORT_BYTES",
    "CaseResult",
    "Outcome",
    "RunnerReport",
    "parse_ctest_report",
    "parse_go_test_json",
    "parse_junit",
    "parse_junit_platform",
    "parse_libtest_json",
    "parse_node_report",
    "parse_pytest_junit",
    "parse_tsc_report",
]
