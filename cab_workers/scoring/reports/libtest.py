"""libtest's JSON (``cargo test -- --format json``): suites on stdout, aligned with the
``Running <file>`` / ``Doc-tests <crate>`` lines cargo prints on stderr."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .cases import CaseResult, Outcome, ReportBuilder, RunnerReport, SuiteRun, json_lines, read_text

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
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
    builder = ReportBuilder()
    stream = _Suites(builder, _cargo_targets(read_text(stderr, builder)))
    for event in json_lines(read_text(stdout, builder), builder, strict=False):
        stream.feed(event)
    if stream.suite is not None:
        stream.close(stream.suite, None)
    if stream.count != len(stream.targets):
        builder.problem(
            f"{stream.count} test suites on stdout but cargo ran {len(stream.targets)} test targets"
        )
    return builder.build()


@dataclass
class _Suites:
    """libtest's suites as they stream by: at most one open at a time, the count-th of the run."""

    builder: ReportBuilder
    targets: list[_Target]
    count: int = 0
    """Suites seen; the open one is the count-th."""
    suite: SuiteRun | None = None
    expected: int = 0
    """Tests the open suite announced."""

    def target(self) -> _Target | None:
        return self.targets[self.count - 1] if self.count <= len(self.targets) else None

    def feed(self, event: dict[str, Any]) -> None:
        kind, what = event.get("type"), event.get("event")
        if kind == "suite" and what == "started":
            if self.suite is not None:
                self.close(self.suite, None)
            self.count += 1
            target = self.target()
            where = (target.file or target.group) if target else "?"
            self.suite = SuiteRun(f"suite {self.count} ({where})")
            self.expected = event["test_count"] if isinstance(event.get("test_count"), int) else -1
        elif kind == "suite" and what in ("ok", "failed"):
            if self.suite is None:
                self.builder.problem("a suite ended that never started")
            else:
                self.close(self.suite, event)
        elif kind == "test" and isinstance(event.get("name"), str):
            name = event["name"]
            if self.suite is None:
                self.builder.problem(f"{name!r} reported outside any suite")
            elif what == "started":
                self.suite.running[name] = None
            elif what in _LIBTEST_FINAL:
                self.suite.finish(self.builder, name, _LIBTEST_FINAL[what])

    def close(self, s: SuiteRun, summary: dict[str, Any] | None) -> None:
        """Check the open suite ``s`` against what it announced and its summary (None: it never
        ended), and add its results."""
        builder, expected = self.builder, self.expected
        self.suite = None
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        for _, outcome in s.results:
            counts[outcome] += 1
        if summary is None:
            s.flag(builder, f"{s.label} started with {expected} tests and never ended")
        elif sum(counts.values()) != expected:
            s.flag(builder, f"{s.label} started with {expected} tests and reported {sum(counts.values())}")
        elif (claimed := {ours: summary.get(theirs) for ours, theirs in _LIBTEST_SUMMARY}) != counts:
            s.flag(builder, f"{s.label} summary {claimed} disagrees with its results {counts}")
        target = self.target()
        for name, outcome in s.close(builder):
            builder.add(
                CaseResult(
                    name=name,
                    file=target.file if target else None,
                    outcome=outcome,
                    group=target.group if target else f"suite {self.count}",
                )
            )
