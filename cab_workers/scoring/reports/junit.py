"""JUnit XML reports (any producer), pytest's ``--junitxml`` with names as in pytest's node ids,
and the JUnit Platform console launcher's reports with names as cab declares Java tests."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from .cases import WORSE, CaseResult, Outcome, ReportBuilder, RunnerReport, read_text

XML_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_JUNIT_CHILD: dict[str, Outcome] = {"failure": "failed", "error": "error", "skipped": "skipped"}


def parse_junit(data: bytes | str) -> RunnerReport:
    """Every ``<testcase>`` at any depth: failure -> failed, error -> error, skipped -> skipped."""
    builder = ReportBuilder()
    _junit_cases(data, builder)
    return builder.build()


def xml_root(data: bytes | str, builder: ReportBuilder, where: str = "") -> ET.Element | None:
    """The root element of an XML report, or None (with the problem noted) when it is malformed or
    declares a DOCTYPE or ENTITY (refused: entity expansion is how a report could lie or blow up)."""
    prefix = f"{where}: " if where else ""
    text = read_text(data, builder)
    if XML_DECLARATION.search(text.encode("utf-8", errors="replace")):
        builder.problem(f"{prefix}XML report carries a DOCTYPE or ENTITY declaration; refused")
        return None
    try:
        return ET.fromstring(text)
    except ET.ParseError as exc:
        builder.problem(f"{prefix}malformed XML report: {exc}")
        return None


def _junit_cases(data: bytes | str, builder: ReportBuilder) -> None:
    root = xml_root(data, builder)
    if root is None:
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


_JAVA_NAME = re.compile(r"^(?P<method>[^(\[]*)(?:\((?P<params>[^)]*)\))?(?P<rest>.*)$", re.DOTALL)


def junit_platform_case(case: CaseResult) -> CaseResult:
    """One case of the JUnit Platform console launcher's legacy XML as cab names it.

    The launcher writes ``classname="pkg.Outer$Inner"`` (the binary name) and ``name="m(int)[2]"``
    (the method, its parameter types, an invocation index); cab names it ``Outer::Inner::m[2]`` in
    the file ``pkg/Outer.java`` (the package path and the outermost class: a declared test's path
    ends with it). The parameter list is dropped, so overloads of one method share a name.
    """
    binary = case.group or ""
    package, _, classes = binary.rpartition(".")
    nested = [c for c in classes.split("$") if c]
    m = _JAVA_NAME.match(case.name)
    method, rest = (m.group("method"), m.group("rest")) if m else (case.name, "")
    name = "::".join([*nested, method]) + rest if nested else case.name
    file = "/".join([*package.split("."), f"{nested[0]}.java"]) if package and nested else None
    if nested and not package:
        file = f"{nested[0]}.java"
    return CaseResult(name=name, file=file, outcome=case.outcome, group=binary or None)


def parse_junit_platform(files: Mapping[str, bytes | str]) -> RunnerReport:
    """The JUnit Platform console launcher's ``--reports-dir``: one ``TEST-<engine>.xml`` per test
    engine (file name -> content), every case renamed by ``junit_platform_case``. Cases of one
    method may repeat (overloads, repeated tests), so they are not folded."""
    builder = ReportBuilder(dedupe=False)
    for name in sorted(files):
        part = parse_junit(files[name])
        for problem in part.problems:
            builder.problem(f"{name}: {problem}")
        for case in part.cases:
            builder.add(junit_platform_case(case))
    return builder.build()
