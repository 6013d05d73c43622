"""Structured test reports, parsed into one shape: which test ran, from which file, with what outcome.

The scorer container's runner writes these (see ``cab_workers.grading.runners``), next to the code
under test, so every parser treats its input as hostile: sizes are capped, XML with a DOCTYPE or
entity declaration is refused, nothing is resolved or fetched, and any sign that the report is
incomplete or inconsistent is kept in ``RunnerReport.problems`` instead of being smoothed over::

    parse_junit            JUnit XML (any producer)
    parse_pytest_junit     pytest --junitxml, junit_family=xunit1: names qualified as in node ids
    parse_go_test_json     go test -json (GOFLAGS=-json) event stream, from go's stdout
    parse_libtest_json     cargo test -- --format json: suites on stdout, aligned with the
                           "Running <file>" / "Doc-tests <crate>" lines cargo prints on stderr
    parse_node_report      the JSON lines of cab's own node --test reporter (cab_reporter.mjs)

Problems are findings such as: malformed XML or JSON, a suite that started with N tests and ended
early or never, a result for a test that never started, the same test reported twice with different
outcomes, a summary that disagrees with the results. Any problem makes the report untrustworthy for a
pass (``cab_workers.scoring.pass_rate``).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
"""What happened to one test case; only ``passed`` counts as a pass."""

MAX_REPORT_BYTES = 64 << 20
"""Input beyond this is not parsed (a problem): a runner's honest report is far smaller."""
MAX_CASES = 100_000
"""Cases beyond this are dropped (a problem)."""
MAX_PROBLEMS = 50
"""Problems beyond this are summarised in one line."""

_WORSE: dict[str, int] = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


@dataclass(frozen=True)
class CaseResult:
    """One test case as the runner reported it."""

    name: str
    """The runner's id of the test within its file: ``TestC::test_m[1]`` (pytest), ``TestX/sub``
    (go), ``tests::parses`` (libtest), ``suite > test`` (node)."""
    file: str | None
    """Work-dir relative file it came from, when the report says (go's does not)."""
    outcome: Outcome
    group: str | None = None
    """Where the runner grouped it: JUnit classname, go package, cargo target, node kind."""


@dataclass(frozen=True)
class RunnerReport:
    """Every case one test run reported, plus what makes the report incomplete or inconsistent."""

    cases: tuple[CaseResult, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass
class _Builder:
    """Collects cases and problems with the caps, folding exact repeats of the same case."""

    dedupe: bool = True
    cases: dict[tuple[str | None, str | None, str, int], CaseResult] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    dropped_problems: int = 0
    serial: int = 0
    overflow: bool = False

    def problem(self, text: str) -> None:
        if text in self.problems:
            return
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.dropped_problems += 1

    def add(self, case: CaseResult) -> None:
        self.serial += 1
        key = (case.file, case.group, case.name, 0 if self.dedupe else self.serial)
        seen = self.cases.get(key)
        if seen is not None:
            if seen.outcome != case.outcome:
                self.problem(f"{case.name!r} reported twice, {seen.outcome} and {case.outcome}")
                if _WORSE[case.outcome] > _WORSE[seen.outcome]:
                    self.cases[key] = case
            return
        if len(self.cases) >= MAX_CASES:
            if not self.overflow:
                self.overflow = True
                self.problem(f"more than {MAX_CASES} test cases; the rest were not read")
            return
        self.cases[key] = case

    def build(self) -> RunnerReport:
        problems = list(self.problems)
        if self.dropped_problems:
            problems.append(f"... and {self.dropped_problems} more problems")
        return RunnerReport(cases=tuple(self.cases.values()), problems=tuple(problems))


def _text(data: bytes | str, builder: _Builder) -> str:
    raw = data.encode("utf-8", errors="replace") if isinstance(data, str) else data
    if len(raw) > MAX_REPORT_BYTES:
        builder.problem(f"report is {len(raw)} bytes, over the {MAX_REPORT_BYTES} byte cap; rest not read")
        raw = raw[:MAX_REPORT_BYTES]
    return raw.decode("utf-8", errors="replace")


def _json_lines(text: str, builder: _Builder, *, strict: bool) -> Iterator[dict]:
    """JSON objects, one per line. Non-JSON lines are a problem when ``strict`` (the whole stream is
    the runner's own), else skipped unless they look like a broken JSON object."""
    bad = 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if not strict and not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if isinstance(obj, dict):
            yield obj
        else:
            bad += 1
    if bad:
        builder.problem(f"{bad} line(s) that are not well-formed JSON events")


# --- JUnit -----------------------------------------------------------------------------------


_JUNIT_CHILD: dict[str, Outcome] = {"failure": "failed", "error": "error", "skipped": "skipped"}


def parse_junit(data: bytes | str) -> RunnerReport:
    """Every ``<testcase>`` at any depth: failure -> failed, error -> error, skipped -> skipped."""
    builder = _Builder()
    _junit_cases(data, builder)
    return builder.build()


def _junit_cases(data: bytes | str, builder: _Builder) -> None:
    text = _text(data, builder)
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
            if found is not None and _WORSE[found] > _WORSE[outcome]:
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


# --- go test -json ---------------------------------------------------------------------------

_GO_FINAL: dict[str, Outcome] = {"pass": "passed", "fail": "failed", "skip": "skipped"}


@dataclass
class _Run:
    """One test package (go) or test binary (libtest): its open tests, its results, and whether its
    events broke the runner's own sequence (then none of its results proves anything)."""

    label: str
    running: dict[str, None] = field(default_factory=dict)
    results: list[tuple[str, Outcome]] = field(default_factory=list)
    broken: bool = False

    def flag(self, builder: _Builder, text: str) -> None:
        self.broken = True
        builder.problem(text)

    def finish(self, builder: _Builder, name: str, outcome: Outcome) -> bool:
        """Record a result; one for a test that is not running is a problem and no result."""
        if name not in self.running:
            self.flag(builder, f"{name!r} in {self.label} finished without starting")
            return False
        del self.running[name]
        self.results.append((name, outcome))
        return True

    def close(self, builder: _Builder) -> list[tuple[str, Outcome]]:
        """The results, all as errors when the run is broken; tests left running are errors."""
        for name in self.running:
            self.flag(builder, f"{name!r} in {self.label} started and never finished")
        results = [*self.results, *((name, "error") for name in self.running)]
        return [(name, "error" if self.broken else outcome) for name, outcome in results]


def parse_go_test_json(stdout: bytes | str) -> RunnerReport:
    """``go test -json``: every test and subtest with a final pass/fail/skip, grouped by package.

    Every line of go's stdout is an event of go's own (the test binaries' output arrives wrapped in
    ``output`` events), so a line that is not JSON is a problem. A result for a test that is not
    running, a test that never finishes, and a package that never ends are problems, and then every
    result of that package counts as an error: printed lines can only lower the score.
    """
    builder = _Builder()
    packages: dict[str, _Run] = {}
    ended: set[str] = set()
    for event in _json_lines(_text(stdout, builder), builder, strict=True):
        action, pkg, test = event.get("Action"), event.get("Package"), event.get("Test")
        if not isinstance(action, str) or not isinstance(pkg, str | None) or not isinstance(test, str | None):
            if "ImportPath" not in event:  # build-output / build-fail events carry ImportPath instead
                builder.problem("go test event without a valid Action/Package/Test")
            continue
        if pkg is None:
            continue
        run = packages.setdefault(pkg, _Run(f"package {pkg}"))
        if test is None:
            if action in _GO_FINAL:
                ended.add(pkg)
        elif action == "run":
            run.running[test] = None
        elif action in _GO_FINAL:
            run.finish(builder, test, _GO_FINAL[action])
    for pkg, run in packages.items():
        if pkg not in ended:
            run.flag(builder, f"package {pkg} started and never ended")
        for name, outcome in run.close(builder):
            builder.add(CaseResult(name=name, file=None, outcome=outcome, group=pkg))
    return builder.build()


# --- libtest JSON (cargo test) ---------------------------------------------------------------

_CARGO_RUNNING = re.compile(r"^\s*Running (?:unittests )?(?P<file>\S.*?) \([^()]*\)\s*$")
_CARGO_DOCTESTS = re.compile(r"^\s*Doc-tests (?P<crate>\S+)\s*$")
_LIBTEST_FINAL: dict[str, Outcome] = {"ok": "passed", "failed": "failed", "ignored": "skipped"}
_LIBTEST_SUMMARY = (("passed", "passed"), ("failed", "failed"), ("skipped", "ignored"))


@dataclass(frozen=True)
class _Target:
    file: str | None
    group: str


def _cargo_targets(stderr: str) -> list[_Target]:
    """The test binaries cargo ran, in order, from its ``Running`` / ``Doc-tests`` lines."""
    targets = []
    for line in _ANSI.sub("", stderr).splitlines():
        if m := _CARGO_RUNNING.match(line):
            unit = line.lstrip().startswith("Running unittests")
            targets.append(_Target(m.group("file"), "unittests" if unit else "test"))
        elif m := _CARGO_DOCTESTS.match(line):
            targets.append(_Target(None, f"doctests {m.group('crate')}"))
    return targets


def parse_libtest_json(stdout: bytes | str, stderr: bytes | str) -> RunnerReport:
    """``cargo test ... -- -Z unstable-options --format json``: libtest's JSON lines on stdout, one
    suite per test binary, the k-th suite belonging to the k-th ``Running``/``Doc-tests`` line of
    cargo's stderr (a different number of suites and lines is a problem).

    Lines that are not JSON objects are output that escaped libtest's capture and are skipped; a
    broken JSON object is a problem. Each suite must end, finish every test it started (and only
    those), report as many as it announced, and agree with its own summary; a suite that does not
    is a problem and all its results count as errors, so printed lines can only lower the score.
    """
    builder = _Builder()
    targets = _cargo_targets(_text(stderr, builder))
    count = 0  # suites seen; the open one is the count-th
    suite: _Run | None = None
    expected = 0  # tests the open suite announced

    def close(s: _Run, summary: dict | None) -> None:
        target = targets[count - 1] if count <= len(targets) else None
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        for _, outcome in s.results:
            counts[outcome] += 1
        if summary is None:
            s.flag(builder, f"{s.label} started with {expected} tests and never ended")
        elif sum(counts.values()) != expected:
            s.flag(builder, f"{s.label} started with {expected} tests and reported {sum(counts.values())}")
        elif (claimed := {ours: summary.get(theirs) for ours, theirs in _LIBTEST_SUMMARY}) != counts:
            s.flag(builder, f"{s.label} summary {claimed} disagrees with its results {counts}")
        for name, outcome in s.close(builder):
            builder.add(
                CaseResult(
                    name=name,
                    file=target.file if target else None,
                    outcome=outcome,
                    group=target.group if target else f"suite {count}",
                )
            )

    for event in _json_lines(_text(stdout, builder), builder, strict=False):
        kind, what = event.get("type"), event.get("event")
        if kind == "suite" and what == "started":
            if suite is not None:
                close(suite, None)
            count += 1
            target = targets[count - 1] if count <= len(targets) else None
            where = (target.file or target.group) if target else "?"
            suite = _Run(f"suite {count} ({where})")
            expected = event["test_count"] if isinstance(event.get("test_count"), int) else -1
        elif kind == "suite" and what in ("ok", "failed"):
            if suite is None:
                builder.problem("a suite ended that never started")
            else:
                close(suite, event)
                suite = None
        elif kind == "test" and isinstance(event.get("name"), str):
            name = event["name"]
            if suite is None:
                builder.problem(f"{name!r} reported outside any suite")
            elif what == "started":
                suite.running[name] = None
            elif what in _LIBTEST_FINAL:
                suite.finish(builder, name, _LIBTEST_FINAL[what])
    if suite is not None:
        close(suite, None)
    if count != len(targets):
        builder.problem(f"{count} test suites on stdout but cargo ran {len(targets)} test targets")
    return builder.build()


# --- cab's node --test reporter --------------------------------------------------------------

_NODE_OUTCOMES: dict[str, Outcome] = {"passed": "passed", "failed": "failed", "skipped": "skipped"}


def parse_node_report(data: bytes | str) -> RunnerReport:
    """The JSON lines of ``cab_reporter.mjs``: ``case`` records (tests and suites), ``file`` records
    (a test file's own process), and a final ``end`` record.

    Node may report two tests of one file under the same name, so cases are not folded. A test file
    whose process failed for a reason other than a failing test (it crashed, or exited non-zero
    between tests) becomes an ``error`` case named after the file. No ``end`` record means the
    runner stopped before it finished: a problem.
    """
    builder = _Builder(dedupe=False)
    ended = False
    for record in _json_lines(_text(data, builder), builder, strict=True):
        kind = record.get("type")
        if ended:
            builder.problem("records after the end record")
            break
        if kind == "end":
            ended = True
        elif kind == "case":
            name, file, outcome = record.get("name"), record.get("file"), record.get("outcome")
            if not isinstance(name, str) or not isinstance(file, str | None) or outcome not in _NODE_OUTCOMES:
                builder.problem("node case record without a valid name/file/outcome")
                continue
            group = record.get("kind") if record.get("kind") in ("test", "suite") else "test"
            builder.add(CaseResult(name=name, file=file, outcome=_NODE_OUTCOMES[outcome], group=group))
        elif kind == "file":
            file = record.get("file")
            if not isinstance(file, str):
                builder.problem("node file record without a file")
            elif record.get("outcome") == "failed" and record.get("failure") != "subtestsFailed":
                builder.add(CaseResult(name=file, file=file, outcome="error", group="file"))
    if not ended:
        builder.problem("the node report has no end record: the runner stopped before it finished")
    return builder.build()
