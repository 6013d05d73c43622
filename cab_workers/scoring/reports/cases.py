"""The one shape every report parser produces, and what the parsers share.

``CaseResult`` / ``RunnerReport`` are the parsed report; ``ReportBuilder`` collects cases and
problems under the caps (``MAX_*``, read here at parse time); ``read_text`` and ``json_lines`` read
hostile input; ``SuiteRun`` follows one test binary's (or go package's) start/finish events.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
"""What happened to one test case; only ``passed`` counts as a pass."""

MAX_REPORT_BYTES = 64 << 20
"""Input beyond this is not parsed (a problem): a runner's honest report is far smaller."""
MAX_CASES = 100_000
"""Cases beyond this are dropped (a problem)."""
MAX_PROBLEMS = 50
"""Problems beyond this are summarised in one line."""

WORSE: dict[str, int] = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
"""Outcomes by severity: of two reports of one case, the worse is kept."""


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
class ReportBuilder:
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
                if WORSE[case.outcome] > WORSE[seen.outcome]:
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


def read_text(data: bytes | str, builder: ReportBuilder) -> str:
    """``data`` as text, cut at ``MAX_REPORT_BYTES`` (a problem); bad UTF-8 is replaced."""
    raw = data.encode("utf-8", errors="replace") if isinstance(data, str) else data
    if len(raw) > MAX_REPORT_BYTES:
        builder.problem(f"report is {len(raw)} bytes, over the {MAX_REPORT_BYTES} byte cap; rest not read")
        raw = raw[:MAX_REPORT_BYTES]
    return raw.decode("utf-8", errors="replace")


def json_lines(text: str, builder: ReportBuilder, *, strict: bool) -> Iterator[dict[str, Any]]:
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


@dataclass
class SuiteRun:
    """One test package (go) or test binary (libtest): its open tests, its results, and whether its
    events broke the runner's own sequence (then none of its results proves anything)."""

    label: str
    running: dict[str, None] = field(default_factory=dict)
    results: list[tuple[str, Outcome]] = field(default_factory=list)
    broken: bool = False

    def flag(self, builder: ReportBuilder, text: str) -> None:
        self.broken = True
        builder.problem(text)

    def finish(self, builder: ReportBuilder, name: str, outcome: Outcome) -> bool:
        """Record a result; one for a test that is not running is a problem and no result."""
        if name not in self.running:
            self.flag(builder, f"{name!r} in {self.label} finished without starting")
            return False
        del self.running[name]
        self.results.append((name, outcome))
        return True

    def close(self, builder: ReportBuilder) -> list[tuple[str, Outcome]]:
        """The results, all as errors when the run is broken; tests left running are errors."""
        for name in self.running:
            self.flag(builder, f"{name!r} in {self.label} started and never finished")
        results = [*self.results, *((name, "error") for name in self.running)]
        return [(name, "error" if self.broken else outcome) for name, outcome in results]
