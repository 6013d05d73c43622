"""The prompt of a generated mutation task: a bug report written by a fixed template from the
failing tests' names and messages (what fails and how, never where the mutation is).

Messages are cleaned before they are quoted: ANSI colours, timings and addresses are removed (they
differ between runs), lines that quote the mutated line or name the mutated file are dropped, and
each message and the list are capped, so the same failures always give the same prompt.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

__all__ = ["FailingTest", "bug_report", "clean_message"]

MAX_TESTS = 6
"""Failing tests quoted; the rest are counted."""
MAX_LINES = 8
"""Lines quoted of one test's message."""
MAX_LINE_CHARS = 160
"""Characters kept of one message line."""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TIMING = re.compile(r"\s*\(\d+(?:\.\d+)?\s*(?:ms|s|µs|us|ns)\)")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
_STACK = re.compile(r"^(?:goroutine \d+ \[|\[signal |stack backtrace:|Traceback \(most recent call last\))")
_NOISE = re.compile(
    r"^(?:note: run with|stack backtrace:|at [\w.<>$ ]*\(|at (?:file|node):|"
    r"(?:code|generatedMessage|operator):|thread '.*' panicked at|--- FAIL|=== RUN|FAIL\b|\s*[{}]$|"
    r"Use -v to get more diff|Full diff:)"
)


@dataclass(frozen=True)
class FailingTest:
    """One test that failed on the mutant, as the runner reported it."""

    name: str
    """The runner's name of the test (``file::name`` as the pass-rate axis lists it)."""
    message: str = ""
    """What the runner printed for it (assertion message, panic, error), raw."""


def clean_message(message: str, *, mutated_path: str, mutated_line: str) -> list[str]:
    """The lines of ``message`` fit to quote: no noise, no location in the mutated file, never the
    mutated line; at most ``MAX_LINES`` lines of ``MAX_LINE_CHARS``."""
    forbidden = " ".join(mutated_line.split())
    base = PurePosixPath(mutated_path).name
    kept: list[str] = []
    for raw in _ANSI.sub("", message).expandtabs(4).splitlines():
        line = _ADDRESS.sub("0x...", _TIMING.sub("", raw)).replace(" [recovered]", "").rstrip()
        flat = " ".join(line.split())
        if _STACK.match(flat):
            break  # a goroutine dump or a backtrace: frames, ids and addresses from here on
        if not flat or _NOISE.match(flat) or any(flat == " ".join(k.split()) for k in kept):
            continue
        if base in line or (len(forbidden) > 3 and forbidden in flat):
            continue
        if len(line) > MAX_LINE_CHARS:
            line = line[: MAX_LINE_CHARS - 3] + "..."
        kept.append(line)
    return _dedent(kept[:MAX_LINES])


def _dedent(lines: list[str]) -> list[str]:
    indent = min((len(x) - len(x.lstrip()) for x in lines), default=0)
    return [x[indent:] for x in lines]


def bug_report(
    failing: Sequence[FailingTest],
    *,
    test_command: Sequence[str],
    protected_paths: Sequence[str],
    mutated_path: str,
    mutated_line: str,
) -> str:
    """The prompt: a ticket listing the failing tests (sorted by name) with their messages."""
    tests = sorted(failing, key=lambda t: t.name)
    count = len(tests)
    lines = [
        f"Bug report: {count} failing acceptance test{'s' if count != 1 else ''} after the latest change",
        "",
        "Since the last change to this repository, our CI run of the acceptance tests (they are",
        "not part of this checkout) fails. The failing tests and what they report:",
        "",
    ]
    for test in tests[:MAX_TESTS]:
        lines.append(f"- {test.name}")
        quoted = clean_message(test.message, mutated_path=mutated_path, mutated_line=mutated_line)
        lines += [f"      {q}" if q else "" for q in quoted]
    if count > MAX_TESTS:
        lines.append(
            f"- ... and {count - MAX_TESTS} more failing test{'s' if count - MAX_TESTS != 1 else ''}"
        )
    keep = ", ".join(protected_paths)
    lines += [
        "",
        "The acceptance tests describe the intended behaviour; the code is wrong, not the tests.",
        "Find the bug and fix it so that these tests pass, without breaking the tests that are",
        "already in the repository. Keep the public API unchanged"
        + (f" and do not modify {keep}." if keep else "."),
        f"No new dependencies; there is no network access. Tests run with `{shlex.join(test_command)}`.",
    ]
    return "\n".join(lines) + "\n"
