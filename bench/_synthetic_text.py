"""The agent-produced text of a synthetic cell: its terminal recording (asciicast v2) and its diff.

Sizes and shapes follow real cells (a 20-60 KB recording of tool output with ANSI colour, a diff of one
or two files), and a few lines are hostile on purpose (markup, a closing ``</script>``, a forged number)
so that a site built from synthetic cells exercises its escaping as much as its speed. Text is drawn
from fixed pools with the cell's own ``random.Random``: the same cell always gets the same bytes.
"""

from __future__ import annotations

import itertools
import json
import random

HOSTILE = (
    '</script><script>document.title="pwned"</script>',
    '<img src=x onerror="alert(1)"> pass rate: 100 %',
    "<!-- composite: 1.000 --> ]]> {{ 7*7 }} {% raw %}",
)
"""Lines an agent could print to forge a page; a site must show them as text."""

_TOOL_LINES = (
    "\x1b[1m> read_file\x1b[0m src/{file}",
    "\x1b[1m> edit\x1b[0m src/{file} (+{n} -{m})",
    "\x1b[1m> bash\x1b[0m {test_cmd}",
    "\x1b[2mthinking…\x1b[0m",
    "\x1b[36mI'll look at how {file} handles the edge case first.\x1b[0m",
    "\x1b[32m✓\x1b[0m test_{name} passed",
    "\x1b[31m✗\x1b[0m test_{name} failed: expected {n}, got {m}",
    "  {n} | def {name}(self, value):",
    "  {m} |     return self._{name}.get(value)",
    "Traceback (most recent call last):",
    '  File "src/{file}", line {n}, in {name}',
    "AssertionError: {n} != {m}",
    "running {n} tests",
    "test result: ok. {n} passed; 0 failed; 0 ignored",
    "\x1b[33mwarning\x1b[0m: unused variable `{name}`",
    "Applied edit to src/{file}",
    "Tokens: {n}k sent, {m} received.",
)
_NAMES = ("parse", "merge", "evict", "lookup", "normalise", "round_half_even", "split_words", "retry")
_FILES = ("lib.rs", "cache.go", "invoice.py", "query_string.js", "words.ts", "ini.cpp", "utf8.c", "rate.py")
_TEST_CMDS = ("pytest -q", "cargo test", "go test ./...", "npm test --silent", "make check")


def _line(rng: random.Random) -> str:
    if rng.random() < 0.004:
        return rng.choice(HOSTILE)
    return rng.choice(_TOOL_LINES).format(
        file=rng.choice(_FILES),
        name=rng.choice(_NAMES),
        test_cmd=rng.choice(_TEST_CMDS),
        n=rng.randint(1, 400),
        m=rng.randint(0, 99),
    )


POOL_SIZE = 4096
_POOL = [_line(random.Random(i)) for i in range(POOL_SIZE)]
"""Rendered lines, drawn from by every cell: rendering them per cell made a 10,000-cell store slow."""
_EVENT_TEXTS = [
    json.dumps("\r\n".join(_POOL[i : i + k]) + "\r\n") for k in (1, 2, 3) for i in range(0, POOL_SIZE, 3)
]
"""Event payloads of one to three lines, already JSON strings."""
_AVG_EVENT = sum(len(t) for t in _EVENT_TEXTS) / len(_EVENT_TEXTS) + 16
_GAPS = random.Random(0)
_OFFSETS = list(itertools.accumulate(_GAPS.expovariate(1.0) for _ in range(4096)))
"""Event times before scaling: exponential gaps, like output that comes in bursts and pauses."""


def asciicast(rng: random.Random, *, title: str, duration_s: float, size_bytes: int) -> bytes:
    """An asciicast v2 recording of about ``size_bytes`` bytes whose events span ``duration_s``."""
    header = {
        "version": 2,
        "width": 120,
        "height": 40,
        "timestamp": 1781571726,
        "title": title,
        "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"},
    }
    n = max(1, min(len(_OFFSETS), int(size_bytes / _AVG_EVENT)))
    start = rng.randrange(len(_OFFSETS) - n + 1)
    offsets = _OFFSETS[start : start + n]
    base, scale = offsets[0], duration_s / max(offsets[-1] - offsets[0], 1e-9)
    texts = rng.choices(_EVENT_TEXTS, k=n)
    events = [f'[{(o - base) * scale:.6f}, "o", {t}]' for o, t in zip(offsets, texts, strict=True)]
    return (json.dumps(header) + "\n" + "\n".join(events) + "\n").encode()


def unified_diff(rng: random.Random, files: list[str]) -> bytes:
    """A small ``git diff`` of ``files``: one or two hunks each."""
    out: list[str] = []
    for path in files:
        out += [
            f"diff --git a/{path} b/{path}",
            "index 3f2a9c1..8b7e0d4 100644",
            f"--- a/{path}",
            f"+++ b/{path}",
        ]
        start = rng.randint(1, 120)
        for _hunk in range(rng.randint(1, 2)):
            removed, added = rng.randint(1, 4), rng.randint(1, 6)
            out.append(f"@@ -{start},{removed + 6} +{start},{added + 6} @@ def {rng.choice(_NAMES)}(self):")
            out += [f"     {line}" for line in rng.choices(_POOL, k=3)]
            out += [f"-    {line}" for line in rng.choices(_POOL, k=removed)]
            out += [f"+    {line}" for line in rng.choices(_POOL, k=added)]
            out += [f"     {line}" for line in rng.choices(_POOL, k=3)]
            start += rng.randint(20, 60)
    return ("\n".join(out) + "\n").encode()


def scorer_tail(rng: random.Random, passed: bool, total: int) -> str:
    """The tail of the hidden tests' output."""
    ok = total if passed else rng.randint(0, total - 1)
    lines = [
        f"test tests::{rng.choice(_NAMES)}_{i} ... {'ok' if passed or i < ok else 'FAILED'}"
        for i in range(total)
    ]
    verdict = "ok" if passed else "FAILED"
    took = f"0.0{rng.randint(1, 9)}s"
    lines.append(f"test result: {verdict}. {ok} passed; {total - ok} failed; 0 ignored; finished in {took}")
    return "\n".join(lines) + "\n"
