"""JUnit XML reports (any producer), and pytest's ``--junitxml`` with names as in pytest's node ids."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from .cases import WORSE, CaseResult, Outcome, ReportBuilder, RunnerReport, read_text

_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_JUNIT_CHILD: dict[str, Outcome] = {"failure": "failed", "error": "error", "skipped": "skipped"}


def parse_junit(data: bytes | str) -> RunnerReport:
    """Every ``<testcase>`` at any depth: failure -> failed, error -> error, skipped -> skipped."""
    builder = ReportBuilder()
    _junit_cases(data, builder)
    return builder.build()


def _junit_cases(data: bytes | str, builder: ReportBuilder) -> None:
    text = read_text(data, builder)
    if _DECLARATION.search(text.encode("utf-8", errors="replace")):
        builder.problem("XML report carries a DOCTYPE or ENTITY declaration; refused")
        return
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        builder.problem(f"malformed XML report: {exc}")
        return
    if root.tag not in ("testsuites", "testsuite"):
        builder.problem(f"XML report root is <{root.tag[:40]}>, not <testsuites> or <testsuite>")
        return
    for case in root.iter("testcase"):
        outcome: Outcome = "passed"
        for child in case:
            found = _JUNIT_CHILD.get(child.tag)
            if found is not None and WORSE[found] > WORSE[outcome]:
                outcome = found
        builder.add(
            CaseResult(
                name=case.get("name", ""),
                file=case.get("file"),
                outcome=outcome,
                group=case.get("classname"),
            )
        )


def parse_pytest_junit(data: bytes | str) -> RunnerReport:
    """pytest's ``--junitxml`` (``junit_family=xunit1``, which carries ``file``), with each name
    qualified by its classes as in pytest's node ids: ``TestOuter::TestInner::test_m[param]``.

    pytest derives ``classname`` from the node id (the file path dotted, then the classes), so the
    classes are what follows the file's module path. A collection error keeps its dotted-module name.
    """
    report = parse_junit(data)
    cases = []
    for case in report.cases:
        name = case.name
        if case.file and case.file.endswith(".py") and case.group:
            module = case.file[: -len(".py")].replace("/", ".")
            if case.group.startswith(module + "."):
                classes = case.group[len(module) + 1 :].split(".")
                name = "::".join([*classes, case.name])
        cases.append(CaseResult(name=name, file=case.file, outcome=case.outcome, group=case.group))
    return RunnerReport(cases=tuple(cases), problems=report.problems)
